from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-07T23:40:24:168394"
VERSION = "1.38.0"
DESCRIPTION = "Audit records name what was acted on and the user agent; append-only"


# Audit records are append-only in the database itself: an UPDATE or DELETE on the table fails, whatever
# issues it.
_SQLITE = [
    'CREATE TRIGGER "identity_audit_event_append_only_update" BEFORE UPDATE ON "identity_audit_event" '
    "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    'CREATE TRIGGER "identity_audit_event_append_only_delete" BEFORE DELETE ON "identity_audit_event" '
    "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
]
_POSTGRES = [
    'CREATE FUNCTION "identity_audit_event_append_only"() RETURNS trigger LANGUAGE plpgsql AS '
    "$$ BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$",
    'CREATE TRIGGER "identity_audit_event_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE '
    'ON "identity_audit_event" FOR EACH STATEMENT EXECUTE FUNCTION "identity_audit_event_append_only"()',
]
_SQLITE_UNDO = [
    'DROP TRIGGER "identity_audit_event_append_only_update"',
    'DROP TRIGGER "identity_audit_event_append_only_delete"',
]
_POSTGRES_UNDO = [
    'DROP TRIGGER "identity_audit_event_append_only" ON "identity_audit_event"',
    'DROP FUNCTION "identity_audit_event_append_only"()',
]


async def _run(sqlite: list[str], postgres: list[str]) -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in sqlite if engine.engine_type == "sqlite" else postgres:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    manager.add_column(
        table_class_name="AuditEvent",
        tablename="identity_audit_event",
        column_name="object_id",
        db_column_name="object_id",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
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

    manager.add_column(
        table_class_name="AuditEvent",
        tablename="identity_audit_event",
        column_name="object_name",
        db_column_name="object_name",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 254,
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

    manager.add_column(
        table_class_name="AuditEvent",
        tablename="identity_audit_event",
        column_name="object_type",
        db_column_name="object_type",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="AuditEvent",
        tablename="identity_audit_event",
        column_name="user_agent",
        db_column_name="user_agent",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 300,
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

    async def append_only():
        await _run(_SQLITE, _POSTGRES)

    async def not_append_only():
        await _run(_SQLITE_UNDO, _POSTGRES_UNDO)

    manager.add_raw(append_only)
    manager.add_raw_backwards(not_append_only)
    return manager
