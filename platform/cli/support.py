"""What every ``switchboard`` command shares: settings, a database connection and the services."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import msgspec

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.database import Database, DatabaseUnavailable
from switchboard.platform.core.errors import DomainError
from switchboard.platform.core.migrations import MigrationFailed, pending_migrations
from switchboard.platform.core.settings import Settings, SettingsError, load_settings, local_base_url
from switchboard.platform.demo import give_everyone_demo_tasks_accounts

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# Where ``serve`` keeps the public URL it serves under when none is configured, in the data folder.
SERVED_URL_FILE = "served_url"


def configured_settings(ctx: click.Context) -> Settings:
    """The settings as the configuration file and environment give them."""
    settings: Settings | None = ctx.obj.get("configured_settings")
    if settings is None:
        try:
            settings = load_settings(config_file=ctx.obj.get("config"))
        except SettingsError as exc:
            fail(str(exc), 2)
            raise  # unreachable: fail exits
        ctx.obj["configured_settings"] = settings
    return settings


def settings_of(ctx: click.Context) -> Settings:
    """The settings a command works with: without a configured public URL, the one ``serve`` last used.

    So ``switchboard serve --port 9000`` and the commands run beside it print and store the same URLs.
    """
    settings: Settings | None = ctx.obj.get("settings")
    if settings is None:
        settings = configured_settings(ctx)
        served = _served_url(settings) if follows_serve(settings) else None
        if served:
            settings = msgspec.structs.replace(settings, base_url=served)
        ctx.obj["settings"] = settings
    return settings


def follows_serve(settings: Settings) -> bool:
    """No public URL is configured: it is where ``serve`` listens."""
    return settings.base_url == local_base_url(settings.host, settings.port)


def remember_served_url(settings: Settings) -> None:
    """Keep the URL ``serve`` serves under for the commands run beside it; best effort."""
    folder = Path(settings.data_dir)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SERVED_URL_FILE).write_text(settings.base_url + "\n")


def _served_url(settings: Settings) -> str | None:
    try:
        url = (Path(settings.data_dir) / SERVED_URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url.startswith("http://") and "/" not in url.removeprefix("http://") else None


class SchemaNotReady(Exception):
    """The database has migrations to apply before a command can use its tables."""


def run(
    ctx: click.Context,
    work: Callable[[IdentityServices, Database], Awaitable[T]],
    *,
    needs_schema: bool = True,
) -> T:
    """Connect to the database, run ``work`` with the services, close; domain errors become one line.

    Commands that use the tables (``needs_schema``) first check that every migration is applied,
    so an unmigrated database gives one line saying what to run instead of a driver traceback.
    """
    settings = settings_of(ctx)

    async def main() -> T:
        database = Database(settings.database_url, pool_size=2)
        await database.connect()
        try:
            if needs_schema and (pending := await pending_migrations(database)):
                raise SchemaNotReady(
                    f"the database is not migrated ({len(pending)} migration(s) not applied); "
                    "run `switchboard db migrate`"
                )
            identity = IdentityServices.from_settings(settings)
            give_everyone_demo_tasks_accounts(settings, identity)
            return await work(identity, database)
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.message)
    except MigrationFailed as exc:
        fail(f"migration failed: {exc}")
    except SchemaNotReady as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def connector_services(
    ctx: click.Context, services: IdentityServices
) -> AsyncIterator[ConnectorServices]:
    connectors = ConnectorServices.from_settings(
        settings_of(ctx),
        audit=services.oauth.audit,
        sign=services.oauth.keys.sign_assertion,
        users=services.users,
    )
    try:
        yield connectors
    finally:
        await connectors.aclose()
