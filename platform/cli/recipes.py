"""``switchboard recipes``: list, export and import recipes, so that they can live in version control."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import click
import msgspec

from switchboard.connectors.connections.models import Project
from switchboard.connectors.connections.projects import DEFAULT_PROJECT
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import connector_services, fail, run, settings_of
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import Conflict, NotFound
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.errors import NothingChanged
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


async def _find(
    connectors: ConnectorServices, recipes: RecipeServices, project: str | None, name: str
) -> Recipe:
    """The recipe whose tool is ``name``: in ``project``, or in whichever one project has it."""
    if project is None:
        found = await recipes.recipes.find_by_tool_name(name)
        if not found:
            raise NotFound(f"No recipe named {name!r} in any project.")
        if len(found) > 1:
            names = ", ".join(sorted((recipe.project_name for recipe in found), key=str.lower))
            raise Conflict(
                f"Several projects have a recipe named {name!r}: {names}. Choose one with --project."
            )
        return found[0]
    in_project = await _project(connectors, project)
    for recipe in await recipes.recipes.list_all(project_id=in_project.id):
        if recipe.tool_name == name:
            return recipe
    raise NotFound(f"project {in_project.name} has no recipe named {name!r}")


async def _project(connectors: ConnectorServices, name: str, *, hint: str = "") -> Project:
    """The project named ``name``; when there is none, the error names the projects there are."""
    found = await connectors.projects.find(name)
    if found is None:
        names = [project.name for project in await connectors.projects.list_all()]
        there = f"Projects: {', '.join(names)}." if names else "There are no projects yet."
        raise NotFound(" ".join(filter(None, [f"No project named {name!r}.", there, hint])))
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
@click.option("--project", default=None, help="The recipe's project (needed when several have the tool).")
@click.option("--version", "version", type=int, default=None, help="A published version (default: draft).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def recipes_export(
    ctx: click.Context, name: str, project: str | None, version: int | None, output: Path | None
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
@click.option(
    "--project",
    default=None,
    help=f"The project to import into (default {DEFAULT_PROJECT}, made when missing).",
)
@click.option("--create-project", is_flag=True, help="Create the --project named when it does not exist.")
@click.option("--replace", is_flag=True, help="Make the document the draft of the recipe with its name.")
@click.option("--publish", is_flag=True, help="Publish the imported draft (refused if it has problems).")
@click.pass_context
def recipes_import(
    ctx: click.Context, file: Path, project: str | None, create_project: bool, replace: bool, publish: bool
) -> None:
    """Import a recipe from an exported JSON FILE as a draft (connections found by name in the project)."""
    try:
        document = msgspec.json.decode(file.read_bytes(), type=RecipeDocument)
    except msgspec.ValidationError as exc:
        fail(f"{file} is not a recipe export: {exc}")
        raise AssertionError("unreachable") from exc
    except msgspec.DecodeError as exc:
        fail(f"{file} is not JSON: {exc}")
        raise AssertionError("unreachable") from exc

    async def work(identity: IdentityServices, _: Database) -> tuple[str, str, list[str], int | None, bool]:
        async with _services(ctx, identity) as (connectors, services):
            if project is None:
                target = await connectors.projects.ensure(DEFAULT_PROJECT)
            elif create_project:
                target = await connectors.projects.ensure(project)
            else:  # A mistyped name must not leave a stray project behind.
                target = await _project(connectors, project, hint="Add --create-project to create it.")
            saved = await services.recipes.import_document(
                target.id, document, actor=COMMAND_LINE, replace=replace
            )
            number, unchanged = None, False
            if publish:
                try:
                    number = (await services.recipes.publish(saved.recipe.id, actor=COMMAND_LINE)).number
                except NothingChanged as same:  # importing the same document again deploys nothing new
                    number, unchanged = same.version, True
            problems = [str(problem) for problem in saved.problems]
            return saved.recipe.tool_name, target.name, problems, number, unchanged

    tool_name, project_name, problems, number, unchanged = run(ctx, work)
    click.echo(f"Recipe {tool_name} imported into {project_name} as a draft.")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if unchanged:
        click.echo(f"Unchanged: version {number} stays published.")
    elif number is not None:
        click.echo(f"Published as version {number}.")
