"""``switchboard secrets``, ``projects`` and ``connectors``: what builders build with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from switchboard.connectors.connections.models import ProjectCreate
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import connector_services, run, settings_of
from switchboard.platform.core.database import Database
from switchboard.platform.demo_tasks.clients import ClientRegistry


@click.group()
def secrets() -> None:
    """Stored secrets (connection credentials, third-party tokens, signing keys)."""


@secrets.command("reencrypt")
@click.pass_context
def secrets_reencrypt(ctx: click.Context) -> None:
    """Re-encrypt every stored secret with the current secret key.

    After setting a new SWITCHBOARD_SECRET_KEY, list the old one in SWITCHBOARD_PREVIOUS_SECRET_KEYS,
    run this, then remove the old key.
    """

    settings = settings_of(ctx)

    async def work(services: IdentityServices, _: Database) -> tuple[int, int, int, int]:
        async with connector_services(ctx, services) as connectors:
            return (
                await connectors.connections.reencrypt(),
                await connectors.grant_store.reencrypt(),
                await services.oauth.keys.reencrypt(),
                await ClientRegistry(settings.secret_key, settings.previous_keys).reencrypt(),
            )

    connections, grants, keys_changed, demo_clients = run(ctx, work)
    click.echo(
        f"Re-encrypted {connections} connection(s), {grants} user grant(s), {keys_changed} signing key(s) "
        f"and {demo_clients} Demo Tasks client secret(s) with the current secret key."
    )


@click.group()
def projects() -> None:
    """Projects, which hold connections and recipes."""


@projects.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.pass_context
def projects_create(ctx: click.Context, name: str, description: str) -> None:
    """Create a project."""

    async def work(services: IdentityServices, _: Database) -> str:
        async with connector_services(ctx, services) as connectors:
            project = await connectors.projects.create(
                ProjectCreate(name=name, description=description), actor=COMMAND_LINE
            )
        return project.name

    click.echo(f"Project {run(ctx, work)} created.")


@projects.command("list")
@click.pass_context
def projects_list(ctx: click.Context) -> None:
    """List projects."""

    async def work(services: IdentityServices, _: Database) -> list[str]:
        async with connector_services(ctx, services) as connectors:
            return [project.name for project in await connectors.projects.list_all()]

    for name in run(ctx, work):
        click.echo(name)


@click.group()
def connectors() -> None:
    """Connector definitions: the built-in ones, a folder's and those added here or in the console."""


@connectors.command("list")
@click.pass_context
def connectors_list(ctx: click.Context) -> None:
    """List connectors (and any definition files that failed to load)."""

    async def work(services: IdentityServices, _: Database) -> tuple[list[Any], list[str]]:
        async with connector_services(ctx, services) as connectors:
            return list(await connectors.registry.list()), list(connectors.registry.problems())

    found, problems = run(ctx, work)
    for summary in found:
        click.echo(f"{summary.key}\t{summary.name}\t{summary.auth_type}\t{summary.origin}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)


@connectors.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def connectors_add(ctx: click.Context, file: Path) -> None:
    """Add (or replace) a connector from a YAML or JSON definition FILE."""

    source = file.read_text()

    async def work(services: IdentityServices, _: Database) -> str:
        async with connector_services(ctx, services) as connectors:
            definition = await connectors.registry.save(source, actor="command line")
        return f"{definition.key} ({definition.name})"

    click.echo(f"Connector {run(ctx, work)} saved.")


@connectors.command("import-openapi")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", default=None, help="The connector key (default: from the document's title).")
@click.pass_context
def connectors_import_openapi(ctx: click.Context, file: Path, key: str | None) -> None:
    """Make a connector from an OpenAPI 3 document FILE: each operation becomes an action."""

    source = file.read_text()

    async def work(services: IdentityServices, _: Database) -> str:
        async with connector_services(ctx, services) as connectors:
            definition = await connectors.registry.import_openapi(source, actor="command line", key=key)
        return f"{definition.key} ({definition.name}, {len(definition.actions)} actions)"

    click.echo(f"Connector {run(ctx, work)} saved.")
