from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T23:49:54:906911"
VERSION = "1.38.0"
DESCRIPTION = "one limit per server and client"

INDEX = "mcp_server_client_limit_unique"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mcp", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            f'CREATE UNIQUE INDEX {INDEX} ON mcp_server_client_limit ("server", client_id)'
        )

    async def drop_index():
        await engine_finder().run_ddl(f"DROP INDEX {INDEX}")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
