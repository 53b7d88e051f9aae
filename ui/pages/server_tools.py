"""Console → MCP servers → a server's Tools tab: attach a published recipe, change a tool's scope and hints,
detach it; offer a remote MCP server's tool directly, or withdraw it. Builders may use this tab."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import RemoteTool, RemoteToolAttach, ToolAttach, ToolUpdate
from switchboard.recipes.deps import RecipeServices
from switchboard.ui.forms import form_fields
from switchboard.ui.pages.servers import LIST_PATH, field_errors, server_path, server_tab, uuid_of
from switchboard.ui.rendering import redirect

_REMOTE_FIELDS = ("remote_tool", "name", "remote_scope", "remote_read_only", "remote_destructive")


class ServerToolPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/{server_id:uuid}/tools")
    async def tools(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
    ) -> Template:
        return await self._tools(request, mcp, recipes, connectors, server_id)

    @post("/{server_id:uuid}/tools")
    async def attach_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "recipe_id", "scope", "read_only", "destructive")
        try:
            if not values["recipe_id"]:
                raise InvalidInput("Choose a published recipe.", field="recipe_id")
            data = ToolAttach(
                recipe_id=uuid_of(values["recipe_id"], "recipe_id"),
                scope=values["scope"],
                read_only=_checked(values, "read_only"),
                destructive=_checked(values, "destructive"),
            )
            tool = await mcp.tools.attach(server_id, data, actor=principal)
        except DomainError as exc:
            errors = field_errors(exc, ("recipe_id", "scope"), "recipe_id")
            return await self._tools(
                request,
                mcp,
                recipes,
                connectors,
                server_id,
                errors=errors,
                values=values,
                status_code=exc.status,
            )
        return redirect(request, server_path(server_id, "tools"), f"Tool {tool.tool_name} attached.")

    @post("/{server_id:uuid}/tools/{recipe_id:uuid}")
    async def update_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        recipe_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "scope", "read_only", "destructive")
        data = ToolUpdate(
            scope=values["scope"],
            read_only=_checked(values, "read_only"),
            destructive=_checked(values, "destructive"),
        )
        try:
            tool = await mcp.tools.update(server_id, recipe_id, data, actor=principal)
        except DomainError as exc:
            return await self._tools(
                request,
                mcp,
                recipes,
                connectors,
                server_id,
                errors={f"scope-{recipe_id}": exc.message},
                values={f"scope-{recipe_id}": values["scope"]},
                status_code=exc.status,
            )
        return redirect(request, server_path(server_id, "tools"), f"Tool {tool.tool_name} saved.")

    @post("/{server_id:uuid}/tools/{recipe_id:uuid}/detach")
    async def detach_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        recipe_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        tool = next(
            (tool for tool in await mcp.tools.list_all(server_id) if tool.recipe_id == recipe_id), None
        )
        await mcp.tools.detach(server_id, recipe_id, actor=principal)
        name = tool.tool_name if tool else "The tool"
        return redirect(request, server_path(server_id, "tools"), f"Tool {name} detached.")

    @post("/{server_id:uuid}/remote-tools")
    async def offer_remote_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, *_REMOTE_FIELDS)
        try:
            connection, _, action = values["remote_tool"].partition("/")
            if not action:
                raise InvalidInput("Choose a remote tool.", field="remote_tool")
            data = RemoteToolAttach(
                connection_id=uuid_of(connection, "remote_tool"),
                action=action,
                name=values["name"],
                scope=values["remote_scope"],
                read_only=_checked(values, "remote_read_only"),
                destructive=_checked(values, "remote_destructive"),
            )
            tool = await mcp.tools.attach_remote(
                server_id, data, connections=connectors.connections, actor=principal
            )
        except DomainError as exc:
            field = {"connection_id": "remote_tool", "action": "remote_tool", "scope": "remote_scope"}.get(
                exc.field or "", exc.field or ""
            )
            errors = {
                field if field in ("remote_tool", "name", "remote_scope") else "remote_tool": exc.message
            }
            return await self._tools(
                request,
                mcp,
                recipes,
                connectors,
                server_id,
                errors=errors,
                values=values,
                status_code=exc.status,
            )
        return redirect(request, server_path(server_id, "tools"), f"Remote tool {tool.tool_name} offered.")

    @post("/{server_id:uuid}/remote-tools/{tool_id:uuid}/withdraw")
    async def withdraw_remote_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        tool_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        tool = next((tool for tool in await mcp.tools.list_remote(server_id) if tool.id == tool_id), None)
        await mcp.tools.detach_remote(server_id, tool_id, actor=principal)
        name = tool.tool_name if tool else "The tool"
        return redirect(request, server_path(server_id, "tools"), f"Remote tool {name} withdrawn.")

    async def _tools(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        recipes: RecipeServices,
        connectors: ConnectorServices,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        tools = await mcp.tools.list_all(server_id)
        attached = {tool.recipe_id for tool in tools}
        published = [
            recipe
            for recipe in await recipes.recipes.list_all()
            if recipe.published_version is not None and recipe.id not in attached
        ]
        remote = await mcp.tools.list_remote(server_id)
        return server_tab(
            request,
            "console/server_tools.html",
            server,
            "tools",
            status_code=status_code,
            tools=tools,
            published=published,
            remote_tools=remote,
            remote_choices=await _remote_choices(connectors, remote),
            errors=errors or {},
            values=values or {},
        )


async def _remote_choices(connectors: ConnectorServices, offered: list[RemoteTool]) -> list[tuple[str, str]]:
    """Every remote server tool that could be offered: (``<connection id>/<action>``, its label)."""
    taken = {(tool.connection_id, tool.action) for tool in offered}
    remote = {server.key: server for server in await connectors.remote.list()}
    choices: list[tuple[str, str]] = []
    for connection in await connectors.connections.list_all():
        server = remote.get(connection.connector)
        if server is None:
            continue
        for tool in server.tools:
            if (connection.id, tool.action) not in taken:
                label = f"{tool.action} — {tool.title or tool.name} ({server.name}, via {connection.name})"
                choices.append((f"{connection.id}/{tool.action}", label))
    return choices


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") not in ("", "0", "off")
