"""``switchboard recipes``: list, export and import recipes, so that they can live in version control."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import click
import msgspec

from switchboard.connectors.connections.models import Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import connector_services, fail, run, settings_of
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.schemas import Recipe


@contextlib.asynccontextmanager
async def _services(
    ctx: click.Context, identity: IdentityServices
) -> AsyncIterator[tuple[ConnectorServices, RecipeServices]]:
    async with connector_services(ctx, identity) as connectors:
        yield (
            connectors,
            RecipeServices.from_settings(settings_of(ctx), connectors=connectors, users=identity.users),
        )


async def _find(connectors: ConnectorServices, recipes: RecipeServices, project: str, name: str) -> Recipe:
    found = await _project(connectors, project)
    for recipe in await recipes.recipes.list_all(project_id=found.id):
        if recipe.tool_name == name:
            return recipe
    raise NotFound(f"project {found.name} has no recipe named {name!r}")


async def _project(connectors: ConnectorServices, name: str) -> Project:
    found = await connectors.projects.find(name)
    if found is None:
        raise NotFound(f"no project named {name!r}")
    return found


@click.group()
def recipes() -> None:
    """Recipes: tool triggers and steps that become MCP tools."""


@recipes.command("list")
@click.option("--project", default=None, help="Only this project's recipes.")
@click.pass_context
def recipes_list(ctx: click.Context, project: str | None) -> None:
    """List recipes: project, tool name, status and published version."""

    async def work(identity: IdentityServices, _: Database) -> list[Recipe]:
        async with _services(ctx, identity) as (connectors, services):
            project_id = None if project is None else (await _project(connectors, project)).id
            return await services.recipes.list_all(project_id=project_id)

    for recipe in run(ctx, work):
        version = f"v{recipe.published_version}" if recipe.published_version else "-"
        click.echo(f"{recipe.project_name}\t{recipe.tool_name}\t{recipe.status}\t{version}")


@recipes.command("export")
@click.argument("name")
@click.option("--project", default="Default", show_default=True, help="The recipe's project.")
@click.option("--version", "version", type=int, default=None, help="A published version (default: draft).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def recipes_export(
    ctx: click.Context, name: str, project: str, version: int | None, output: Path | None
) -> None:
    """Export recipe NAME (its tool name) as JSON: trigger and steps, connections by name, no secrets."""

    async def work(identity: IdentityServices, _: Database) -> RecipeDocument:
        async with _services(ctx, identity) as (connectors, services):
            recipe = await _find(connectors, services, project, name)
            return await services.recipes.export(recipe.id, version=version)

    text = msgspec.json.format(msgspec.json.encode(run(ctx, work)), indent=2).decode() + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"Recipe {name} written to {output}.")


@recipes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", default="Default", show_default=True, help="The project to import into.")
@click.option("--replace", is_flag=True, help="Make the document the draft of the recipe with its name.")
@click.option("--publish", is_flag=True, help="Publish the imported draft (refused if it has problems).")
@click.pass_context
def recipes_import(ctx: click.Context, file: Path, project: str, replace: bool, publish: bool) -> None:
    """Import a recipe from an exported JSON FILE as a draft (connections found by name in the project)."""
    try:
        document = msgspec.json.decode(file.read_bytes(), type=RecipeDocument)
    except msgspec.ValidationError as exc:
        fail(f"{file} is not a recipe export: {exc}")
        raise AssertionError("unreachable") from exc
    except msgspec.DecodeError as exc:
        fail(f"{file} is not JSON: {exc}")
        raise AssertionError("unreachable") from exc

    async def work(identity: IdentityServices, _: Database) -> tuple[str, list[str], int | None]:
        async with _services(ctx, identity) as (connectors, services):
            target = await connectors.projects.ensure(project)
            saved = await services.recipes.import_document(
                target.id, document, actor=COMMAND_LINE, replace=replace
            )
            number = None
            if publish:
                number = (await services.recipes.publish(saved.recipe.id, actor=COMMAND_LINE)).number
            return saved.recipe.tool_name, [str(problem) for problem in saved.problems], number

    tool_name, problems, number = run(ctx, work)
    click.echo(f"Recipe {tool_name} imported into {project} as a draft.")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if number is not None:
        click.echo(f"Published as version {number}.")
