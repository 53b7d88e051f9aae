"""The ``switchboard`` command line: serve, database, demo seed, users, groups, OAuth clients, keys,
secrets, projects, connectors and recipes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.platform.cli.building import connectors, projects, secrets
from switchboard.platform.cli.clients import clients, keys
from switchboard.platform.cli.people import groups, users
from switchboard.platform.cli.recipes import recipes
from switchboard.platform.cli.remote import remote_servers
from switchboard.platform.cli.servers import servers
from switchboard.platform.cli.support import (
    configured_settings,
    connector_services,
    fail,
    follows_serve,
    remember_served_url,
    run,
    settings_of,
)
from switchboard.platform.core import piccolo_conf
from switchboard.platform.core.database import Database
from switchboard.platform.core.migrations import migrate, pending_migrations
from switchboard.platform.core.settings import local_base_url
from switchboard.platform.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    seed_demo,
    seed_demo_recipes,
    seed_demo_server,
    seed_demo_tasks,
)
from switchboard.platform.demo_tasks.cli import demo_tasks_cli
from switchboard.platform.mcp.deps import McpServices
from switchboard.recipes.deps import RecipeServices

if TYPE_CHECKING:
    from litestar import Litestar


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (also SWITCHBOARD_CONFIG). Environment variables win over it.",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Switchboard: turn workflows into MCP tools that run with each end user's own access."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = str(config) if config else None


@main.command()
@click.option("--host", help="Address to listen on (default SWITCHBOARD_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default SWITCHBOARD_PORT or 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve Switchboard over HTTP."""
    from switchboard.platform.app import create_app
    from switchboard.platform.core.logging import send_to_stderr
    from switchboard.platform.core.redaction import without_link_tokens

    settings = configured_settings(ctx)
    if port is not None and not 1 <= port <= 65535:
        fail(f"--port {port} is invalid: expected an integer from 1 to 65535", 2)
    host, port = host or settings.host, port or settings.port
    follows = follows_serve(settings)
    if follows:
        # No public URL was configured: it follows where this server listens, here and in other commands.
        settings = msgspec.structs.replace(settings, base_url=local_base_url(host, port))
        ctx.obj["settings"] = settings

    async def check(_: IdentityServices, database: Database) -> list[str]:
        return await pending_migrations(database)

    pending = run(ctx, check, needs_schema=False)
    if pending:
        click.echo(
            f"warning: {len(pending)} migration(s) not applied; run `switchboard db migrate`", err=True
        )
    listening = _listen(host, port)
    if follows:
        remember_served_url(settings)
    # Unhandled errors (with the request id their answer shows) and housekeeping reach the server's output.
    send_to_stderr(redact=without_link_tokens)
    _serve(
        create_app(settings),
        listening,
        f"Switchboard is serving on http://{host}:{port} (public URL {settings.base_url})",
    )


def _listen(host: str, port: int) -> list[socket.socket]:
    """Bind every address ``host`` names on ``port``, as asyncio's ``create_server`` would.

    Binding before the app starts lets a port in use be told in one line, before anything claims to serve.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}: {exc.strerror}")
        raise AssertionError("unreachable") from exc
    sockets: list[socket.socket] = []
    try:
        for family, kind, protocol, _, address in dict.fromkeys(addresses):
            listener = socket.socket(family, kind, protocol)
            sockets.append(listener)
            if os.name == "posix":  # Lets a restart bind while old connections linger in TIME_WAIT.
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
    except OSError as exc:
        for listener in sockets:
            listener.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"Port {port} on {host} is in use: stop what uses it or choose another with --port.")
        fail(f"cannot listen on port {port} on {host}: {exc.strerror}")
    return sockets


def _serve(app: Litestar, sockets: list[socket.socket], announcement: str) -> None:
    """Run ``app`` on the bound ``sockets``; print ``announcement`` once the server accepts connections."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                click.echo(announcement)

    server = Server(uvicorn.Config(app, log_level="warning", proxy_headers=True))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C stops the server: no traceback.
        server.run(sockets=sockets)
    if not server.started:  # The app failed to start; uvicorn has said why.
        sys.exit(3)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply every pending migration."""

    async def work(_: IdentityServices, database: Database) -> list[str]:
        return await migrate(database)

    applied = run(ctx, work, needs_schema=False)
    click.echo(f"Applied {len(applied)} migration(s)." if applied else "The database is up to date.")
    for name in applied:
        click.echo(f"  {name}")


@db.command("new-migration")
@click.argument("app")
@click.option("--description", "-d", default="", help="What the migration does.")
@click.option("--empty", is_flag=True, help="An empty migration to fill in by hand (raw SQL steps).")
@click.pass_context
def db_new_migration(ctx: click.Context, app: str, description: str, empty: bool) -> None:
    """For developers: write a migration for APP (such as identity) from its changed tables.

    The migration is written into the app's piccolo_migrations folder of a source checkout; review it
    and run the tests on both engines before committing it.
    """
    from piccolo.apps.migrations.commands.new import new

    settings = settings_of(ctx)
    known = [config.app_name for config in piccolo_conf.APP_REGISTRY.app_configs.values()]
    if app not in known:
        fail(f"unknown app {app!r}: expected one of {', '.join(known)}", 2)
    Database(settings.database_url).bind()
    asyncio.run(new(app_name=app, auto=not empty, desc=description, auto_input="y"))


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """List migrations that are not applied yet (exit 1 when any)."""

    async def work(_: IdentityServices, database: Database) -> list[str]:
        return await pending_migrations(database)

    pending = run(ctx, work, needs_schema=False)
    if not pending:
        click.echo("The database is up to date.")
        return
    click.echo(f"{len(pending)} migration(s) not applied:")
    for name in pending:
        click.echo(f"  {name}")
    sys.exit(1)


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create the demo users and groups, Demo Tasks with a connection to it, and the demo recipes (safe to
    run again)."""
    settings = settings_of(ctx)

    async def work(services: IdentityServices, _: Database) -> list[str]:
        created = await seed_demo(services)
        async with connector_services(ctx, services) as connectors:
            if settings.mounts_demo_tasks:
                created += await seed_demo_tasks(settings, connectors)
            recipes = RecipeServices.from_settings(settings, connectors=connectors, users=services.users)
            created += await seed_demo_recipes(connectors, recipes)
            created += await seed_demo_server(McpServices.create(), recipes, services)
        return created

    created = run(ctx, work)
    click.echo("Demo data: " + (", ".join(created) if created else "already in place."))
    accounts = ", ".join(user.email for user in DEMO_USERS)
    click.echo(f"Demo sign-in: {accounts} (password {DEMO_PASSWORD})")
    if settings.mounts_demo_tasks:
        click.echo(f"Demo Tasks: {settings.base_url}/demo-tasks (same accounts and password)")


for command in (
    users,
    groups,
    clients,
    keys,
    secrets,
    projects,
    connectors,
    recipes,
    servers,
    remote_servers,
):
    main.add_command(command)
main.add_command(demo_tasks_cli, name="demo-tasks")
