"""Applying and checking the Piccolo migrations of every registered app."""

from __future__ import annotations

import contextlib
import io

import msgspec
from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards

from switchboard.platform.core.database import Database


class MigrationFailed(Exception):
    pass


class MigrationStatus(msgspec.Struct, frozen=True):
    app: str
    migration_id: str
    applied: bool


async def migration_statuses(database: Database) -> list[MigrationStatus]:
    database.bind()
    with contextlib.redirect_stdout(io.StringIO()):
        statuses = await CheckMigrationManager(app_name="all").get_migration_statuses()
    return [MigrationStatus(s.app_name, s.migration_id, s.has_ran) for s in statuses]


async def pending_migrations(database: Database) -> list[str]:
    return [f"{s.app}/{s.migration_id}" for s in await migration_statuses(database) if not s.applied]


async def migrate(database: Database) -> list[str]:
    """Apply every pending migration; returns what was applied."""
    pending = await pending_migrations(database)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            result = await run_forwards(app_name="all")
    except Exception as exc:  # a driver error mid-migration: report it, the transaction rolled back
        raise MigrationFailed(f"{type(exc).__name__}: {exc}") from exc
    if not result.success:
        raise MigrationFailed(result.message or output.getvalue().strip())
    return pending
