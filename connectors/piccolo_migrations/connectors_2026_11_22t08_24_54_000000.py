from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T08:24:54:000000"
VERSION = "1.38.0"
DESCRIPTION = "one connection name per project, one grant per user and connection"

INDEXES = {
    "connectors_connection_name_unique": 'connectors_connection ("project", "name_key")',
    "connectors_user_grant_unique": 'connectors_user_grant ("connection", "user")',
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="connectors", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
