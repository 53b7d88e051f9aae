"""The ``demo-tasks`` commands: run Demo Tasks on its own, and register OAuth clients with it.

They read Switchboard's settings (database URL and secret key), so ``switchboard demo-tasks clients
create`` makes clients that the mounted app knows too.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from switchboard.platform.core.database import Database, DatabaseUnavailable
from switchboard.platform.core.errors import DomainError
from switchboard.platform.core.migrations import pending_migrations
from switchboard.platform.core.settings import Settings, SettingsError, load_settings, local_base_url
from switchboard.platform.demo_tasks.clients import ClientRegistry, DemoClient

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _settings(ctx: click.Context) -> Settings:
    """The settings the main command loaded (or would load: ``--config`` and ``SWITCHBOARD_*``)."""
    obj = ctx.ensure_object(dict)
    settings: Settings | None = obj.get("settings")
    if settings is None:
        try:
            settings = load_settings(config_file=obj.get("config"))
        except SettingsError as exc:
            _fail(str(exc), 2)
            raise  # unreachable: _fail exits
        obj["settings"] = settings
    return settings


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        database = Database(settings.database_url, pool_size=2)
        await database.connect()
        try:
            if pending := await pending_migrations(database):
                raise DomainError(
                    f"the database is not migrated ({len(pending)} migration(s) not applied); "
                    "run `switchboard db migrate`"
                )
            return await work()
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except (DatabaseUnavailable, SettingsError) as exc:
        _fail(str(exc))
    except DomainError as exc:
        _fail(exc.message)
    raise AssertionError("unreachable")


@click.group("demo-tasks", context_settings={"help_option_names": ["-h", "--help"]})
def demo_tasks_cli() -> None:
    """Demo Tasks, the bundled example third-party app (own accounts, OAuth server and tasks API)."""


@demo_tasks_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8100, show_default=True, help="Port.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve Demo Tasks alone on http://HOST:PORT (its issuer), on Switchboard's database.

    Applies pending migrations and creates the demo accounts (admin@, alice@ and bob@example.com,
    password switchboard-demo) on start.
    """
    import uvicorn

    from switchboard.platform.demo_tasks.runner import standalone_app

    settings = _settings(ctx)
    click.echo(f"Demo Tasks is serving on {local_base_url(host, port)}")
    uvicorn.run(standalone_app(settings, host=host, port=port), host=host, port=port, log_level="warning")


@demo_tasks_cli.group("clients")
def clients() -> None:
    """OAuth clients of Demo Tasks' authorization server."""


@clients.command("create")
@click.option("--name", required=True, help="The app's name, shown on the consent page; unique.")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Where Demo Tasks may send the person back to (repeat for several); matched exactly.",
)
@click.pass_context
def clients_create(ctx: click.Context, name: str, redirect_uris: tuple[str, ...]) -> None:
    """Register a client; prints its client ID and secret."""
    settings = _settings(ctx)

    async def work() -> DemoClient:
        registry = ClientRegistry(settings.secret_key, settings.previous_keys)
        return await registry.create_client(name, redirect_uris)

    client = _run(settings, work)
    click.echo(f"Client ID: {client.client_id}")
    click.echo(f"Client secret: {client.client_secret}")
