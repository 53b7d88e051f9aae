from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T05:51:52:000000"
VERSION = "1.38.0"
DESCRIPTION = "one consent per user, client and resource"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def unique_consent():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX identity_oauth_consent_unique "
            'ON identity_oauth_consent ("user", "client", "resource")'
        )

    async def drop_unique_consent():
        await engine_finder().run_ddl("DROP INDEX identity_oauth_consent_unique")

    manager.add_raw(unique_consent)
    manager.add_raw_backwards(drop_unique_consent)
    return manager
