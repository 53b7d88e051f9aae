from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-22T14:37:01:389265"
VERSION = "1.38.0"
DESCRIPTION = "runs: how many step runs went past the record's limit"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="recipes", description=DESCRIPTION)

    manager.add_column(
        table_class_name="RecipeRun",
        tablename="recipes_run",
        column_name="steps_omitted",
        db_column_name="steps_omitted",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
