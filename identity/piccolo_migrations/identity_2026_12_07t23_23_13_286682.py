from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-07T23:23:13:286682"
VERSION = "1.38.0"
DESCRIPTION = "refresh tokens name the token they were issued for; revocation numbers are never reused"

# Without AUTOINCREMENT, SQLite numbers a new row after the highest one left, so once pruning has emptied
# the table it would hand out numbers every process has already read past. PostgreSQL's sequence never
# goes back.
_REVOCATION_COLUMNS = (
    "\"kind\" VARCHAR(16) NOT NULL DEFAULT '', \"value\" VARCHAR(500) NOT NULL DEFAULT '', "
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, '
    '"expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp'
)
_COPY = (
    'INSERT INTO "identity_revocation_new" ("seq", "kind", "value", "created_at", "expires_at") '
    'SELECT "seq", "kind", "value", "created_at", "expires_at" FROM "identity_revocation"'
)


async def _rebuild_revocations(seq: str) -> None:
    engine = engine_finder()
    if engine is None or engine.engine_type != "sqlite":
        return
    await engine.run_ddl(f'CREATE TABLE "identity_revocation_new" ("seq" {seq}, {_REVOCATION_COLUMNS})')
    await engine.run_ddl(_COPY)
    await engine.run_ddl('DROP TABLE "identity_revocation"')
    await engine.run_ddl('ALTER TABLE "identity_revocation_new" RENAME TO "identity_revocation"')


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    manager.add_column(
        table_class_name="OAuthRefreshToken",
        tablename="identity_oauth_refresh_token",
        column_name="rotated_from",
        db_column_name="rotated_from",
        column_class_name="UUID",
        column_class=UUID,
        params={
            "default": None,
            "null": True,
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

    async def revocation_numbers_never_reused():
        await _rebuild_revocations("INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL")

    async def revocation_numbers_as_before():
        await _rebuild_revocations("INTEGER PRIMARY KEY NOT NULL")

    manager.add_raw(revocation_numbers_never_reused)
    manager.add_raw_backwards(revocation_numbers_as_before)
    return manager
