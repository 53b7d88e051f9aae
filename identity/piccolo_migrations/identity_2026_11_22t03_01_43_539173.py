from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T03:01:43:536079"
VERSION = "1.38.0"
DESCRIPTION = "unique group membership"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def unique_membership():
        # A composite unique constraint, as an index so that SQLite and PostgreSQL both take it.
        # engine_finder(): the database being migrated (a Table class may still point at an earlier one).
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX identity_group_member_unique ON identity_group_member ("group", "user")'
        )

    async def drop_unique_membership():
        await engine_finder().run_ddl("DROP INDEX identity_group_member_unique")

    manager.add_raw(unique_membership)
    manager.add_raw_backwards(drop_unique_membership)
    return manager
