"""``switchboard servers tools|attach|offer|detach``: the tools a server offers, recipes and remote tools."""

from __future__ import annotations

from uuid import UUID

import click

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import connector_services, run, settings_of
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import Conflict, NotFound
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import RemoteTool, RemoteToolAttach, ServerTool, ToolAttach
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.service import RecipeService


async def _recipe(recipes: RecipeService, name: str, project: str | None) -> UUID:
    """The recipe whose (draft) tool name is ``name``; ``project`` tells apart recipes of several."""
    found = await recipes.find_by_tool_name(name)
    if project is not None:
        found = [recipe for recipe in found if recipe.project_name.lower() == project.lower()]
    if not found:
        where = f" in project {project}" if project else ""
        raise NotFound(f"no recipe named {name!r}{where}")
    if len(found) > 1:
        projects = ", ".join(sorted(recipe.project_name for recipe in found))
        raise Conflict(
            f"several projects have a recipe named {name!r} ({projects}): choose one with --project"
        )
    return found[0].id


def _tool_line(tool: ServerTool) -> str:
    hints = ",".join(
        name for name, on in (("read-only", tool.read_only), ("destructive", tool.destructive)) if on
    )
    version = f"v{tool.published_version}" if tool.published_version is not None else "not published"
    return f"{tool.tool_name}\t{tool.scope}\t{version}\t{hints or '-'}"


def _remote_line(tool: RemoteTool) -> str:
    hints = ",".join(
        name for name, on in (("read-only", tool.read_only), ("destructive", tool.destructive)) if on
    )
    where = f"remote {tool.connector}.{tool.action} via {tool.connection_name}"
    return f"{tool.tool_name}\t{tool.scope}\t{where}\t{hints or '-'}"


async def _connection(connectors: ConnectorServices, name: str, project: str | None) -> UUID:
    """The connection called ``name`` (case-blind); ``project`` tells apart connections of several."""
    found = [c for c in await connectors.connections.list_all() if c.name.lower() == name.lower()]
    if project is not None:
        found = [c for c in found if c.project_name.lower() == project.lower()]
    if not found:
        raise NotFound(f"no connection named {name!r}" + (f" in project {project}" if project else ""))
    if len(found) > 1:
        projects = ", ".join(sorted(c.project_name for c in found))
        raise Conflict(
            f"several projects have a connection named {name!r} ({projects}): choose one with --project"
        )
    return found[0].id


@click.command("tools")
@click.argument("slug")
@click.pass_context
def servers_tools(ctx: click.Context, slug: str) -> None:
    """List the server's tools: name, scope, published version and hints."""

    async def work(_: IdentityServices, __: Database) -> tuple[list[ServerTool], list[RemoteTool]]:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        return await mcp.tools.list_all(server.id), await mcp.tools.list_remote(server.id)

    tools, remote = run(ctx, work)
    for tool in tools:
        click.echo(_tool_line(tool))
    for offered in remote:
        click.echo(_remote_line(offered))


@click.command("attach")
@click.argument("slug")
@click.argument("tool")
@click.option("--project", default=None, help="The recipe's project, when several have this tool name.")
@click.option("--scope", default="", help="The scope the tool needs (default mcp:tools:TOOL).")
@click.option("--read-only", is_flag=True, help="Hint to clients: the tool changes nothing.")
@click.option("--destructive", is_flag=True, help="Hint to clients: the tool may delete or overwrite.")
@click.pass_context
def servers_attach(
    ctx: click.Context,
    slug: str,
    tool: str,
    project: str | None,
    scope: str,
    read_only: bool,
    destructive: bool,
) -> None:
    """Make the recipe TOOL a tool of the server SLUG."""

    async def work(identity: IdentityServices, _: Database) -> ServerTool:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        async with connector_services(ctx, identity) as connectors:
            recipes = RecipeServices.from_settings(
                settings_of(ctx), connectors=connectors, users=identity.users
            )
            recipe_id = await _recipe(recipes.recipes, tool, project)
        data = ToolAttach(recipe_id=recipe_id, scope=scope, read_only=read_only, destructive=destructive)
        return await mcp.tools.attach(server.id, data, actor=COMMAND_LINE)

    click.echo(_tool_line(run(ctx, work)))


@click.command("offer")
@click.argument("slug")
@click.argument("connection")
@click.argument("action")
@click.option("--project", default=None, help="The connection's project, when several have this name.")
@click.option("--name", default="", help="The tool's name on this server (default: ACTION).")
@click.option("--scope", default="", help="The scope the tool needs (default mcp:tools:NAME).")
@click.option("--read-only", is_flag=True, help="Hint to clients: the tool changes nothing.")
@click.option("--destructive", is_flag=True, help="Hint to clients: the tool may delete or overwrite.")
@click.pass_context
def servers_offer(
    ctx: click.Context,
    slug: str,
    connection: str,
    action: str,
    project: str | None,
    name: str,
    scope: str,
    read_only: bool,
    destructive: bool,
) -> None:
    """Offer the remote MCP server tool ACTION directly, called through the connection CONNECTION."""

    async def work(identity: IdentityServices, _: Database) -> RemoteTool:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        async with connector_services(ctx, identity) as connectors:
            data = RemoteToolAttach(
                connection_id=await _connection(connectors, connection, project),
                action=action,
                name=name,
                scope=scope,
                read_only=read_only,
                destructive=destructive,
            )
            return await mcp.tools.attach_remote(
                server.id, data, connections=connectors.connections, actor=COMMAND_LINE
            )

    click.echo(_remote_line(run(ctx, work)))


@click.command("detach")
@click.argument("slug")
@click.argument("tool")
@click.pass_context
def servers_detach(ctx: click.Context, slug: str, tool: str) -> None:
    """Remove the tool TOOL from the server SLUG."""

    async def work(_: IdentityServices, __: Database) -> None:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        found = next((t for t in await mcp.tools.list_all(server.id) if t.tool_name == tool), None)
        if found is not None:
            await mcp.tools.detach(server.id, found.recipe_id, actor=COMMAND_LINE)
            return
        remote = next((t for t in await mcp.tools.list_remote(server.id) if t.tool_name == tool), None)
        if remote is None:
            raise NotFound(f"server {slug} has no tool {tool!r}")
        await mcp.tools.detach_remote(server.id, remote.id, actor=COMMAND_LINE)

    run(ctx, work)
    click.echo(f"Detached {tool} from {slug}.")


TOOL_COMMANDS = (servers_tools, servers_attach, servers_offer, servers_detach)
