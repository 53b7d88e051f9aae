from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T22:34:17:933365"
VERSION = "1.38.0"
DESCRIPTION = "Connect links: scopes asked for beyond the connection's"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="connectors", description=DESCRIPTION)

    manager.add_column(
        table_class_name="ConnectLink",
        tablename="connectors_connect_link",
        column_name="more_scopes",
        db_column_name="more_scopes",
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
