from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T16:08:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "one membership per server and group, one tool per server and recipe"

INDEXES = {
    "mcp_server_group_unique": ("UNIQUE", 'mcp_server_group ("server", "group")'),
    "mcp_server_tool_unique": ("UNIQUE", 'mcp_server_tool ("server", "recipe")'),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mcp", description=DESCRIPTION)

    async def create_indexes():
        for name, (kind, target) in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE {kind} INDEX {name} ON {target}".replace("  ", " "))

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
