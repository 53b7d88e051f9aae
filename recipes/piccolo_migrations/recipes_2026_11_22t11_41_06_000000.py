from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T11:41:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "one tool name per project, one version number per recipe, runs by recipe and time"

INDEXES = {
    "recipes_recipe_tool_name_unique": ("UNIQUE", 'recipes_recipe ("project", "tool_name")'),
    "recipes_version_number_unique": ("UNIQUE", 'recipes_version ("recipe", "number")'),
    "recipes_run_recipe_started": ("", 'recipes_run ("recipe", "started_at")'),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recipes", description=DESCRIPTION)

    async def create_indexes():
        for name, (kind, target) in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE {kind} INDEX {name} ON {target}".replace("  ", " "))

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
