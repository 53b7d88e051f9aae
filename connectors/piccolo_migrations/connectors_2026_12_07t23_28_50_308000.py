from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T23:28:50:308000"
VERSION = "1.38.0"
DESCRIPTION = "Connections: the origins an admin allowed onto private addresses"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="connectors", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Connection",
        tablename="connectors_connection",
        column_name="private_origins",
        db_column_name="private_origins",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
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
