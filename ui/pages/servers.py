"""Console → MCP servers: what a server offers (tools), who may use it (access method, end-user groups),
its API tokens, and how to add it to an MCP client.

Everyone who builds may look; admins change servers, their groups and tokens; builders attach tools.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.principal import Principal
from switchboard.identity.services.groups import GroupService
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.mcp.access import server_url
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import (
    AccessMethod,
    McpServer,
    NewServerToken,
    RemoteTool,
    RemoteToolAttach,
    ServerCreate,
    ServerUpdate,
    ToolAttach,
    ToolUpdate,
)
from switchboard.recipes.deps import RecipeServices
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/servers"
_SERVER_FIELDS = ("name", "slug", "description", "instructions", "access_method", "rate_limit_per_minute")
_REMOTE_FIELDS = ("remote_tool", "name", "remote_scope", "remote_read_only", "remote_destructive")
_TOKEN_PLACEHOLDER = "<API token>"  # noqa: S105 (a placeholder in configuration snippets)


def server_path(server_id: UUID, tab: str = "") -> str:
    return f"{LIST_PATH}/{server_id}" + (f"/{tab}" if tab else "")


class Snippet(msgspec.Struct, frozen=True, kw_only=True):
    """How to add the server to one MCP client: where it goes, and what to paste."""

    id: str
    client: str
    where: str
    text: str
    rows: int


def client_snippets(server: McpServer, url: str) -> list[Snippet]:
    """Ready-made configuration for Claude, Cursor, VS Code and the MCP Inspector.

    Identity servers need nothing but the URL (the client finds the sign-in from the server's 401);
    Token servers need the API token in an Authorization header.
    """
    token = server.access_method is AccessMethod.TOKEN
    headers = {"Authorization": f"Bearer {_TOKEN_PLACEHOLDER}"} if token else {}

    def config(entry: dict[str, Any], key: str) -> str:
        return json.dumps(
            {key: {server.slug: {**entry, **({"headers": headers} if headers else {})}}}, indent=2
        )

    claude_code = f"claude mcp add --transport http {server.slug} {url}"
    if token:
        claude_code += f' --header "Authorization: Bearer {_TOKEN_PLACEHOLDER}"'
    claude_where = (
        "Claude Code: run this command. Claude (claude.ai, Claude Desktop): Settings → Connectors → "
        "Add custom connector, and paste the server URL; Claude signs you in when you first use it."
    )
    inspector = "npx @modelcontextprotocol/inspector"
    inspector_where = (
        'Run this command; in the page it opens choose Transport Type "Streamable HTTP", paste the server '
        "URL and press Connect"
        + (
            " after entering the API token under Authentication"
            f' (header "Authorization", value "Bearer {_TOKEN_PLACEHOLDER}").'
            if token
            else ". The Inspector opens the Switchboard sign-in when the server asks for it."
        )
    )
    snippets = [
        (claude_code, "claude", "Claude", claude_where),
        (
            config({"url": url}, "mcpServers"),
            "cursor",
            "Cursor",
            "Add to ~/.cursor/mcp.json (every project) or .cursor/mcp.json (one project).",
        ),
        (
            config({"type": "http", "url": url}, "servers"),
            "vscode",
            "VS Code",
            "Add to .vscode/mcp.json in your workspace (or run “MCP: Add Server…” and choose HTTP).",
        ),
        (inspector, "inspector", "MCP Inspector", inspector_where),
    ]
    return [
        Snippet(id=f"snippet-{key}", client=client, where=where, text=text, rows=text.count("\n") + 1)
        for text, key, client, where in snippets
    ]


def _errors(exc: DomainError, fields: tuple[str, ...], default: str) -> dict[str, str]:
    return {exc.field if exc.field in fields else default: exc.message}


def _rate(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            "Enter a whole number of tool calls a minute (0 for no limit).", field="rate_limit_per_minute"
        ) from None


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


class ServerPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_servers(
        self, request: Request[Any, Any, Any], mcp: NamedDependency[McpServices]
    ) -> Template:
        servers = await mcp.servers.list_all()
        tools = {server.id: await mcp.servers.tools(server.id) for server in servers}
        return page(
            request,
            "console/servers.html",
            title="MCP servers",
            servers=servers,
            tools=tools,
            base_url=request.app.state.settings.base_url,
        )

    @get("/new", guards=[requires_admin])
    async def new_server(self, request: Request[Any, Any, Any]) -> Template:
        return self._new(request)

    @post(guards=[requires_admin])
    async def create_server(
        self,
        request: Request[Any, Any, Any],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, *_SERVER_FIELDS)
        try:
            data = ServerCreate(
                slug=values["slug"],
                name=values["name"],
                description=values["description"],
                instructions=values["instructions"],
                access_method=_access_method(values["access_method"]),
                rate_limit_per_minute=_rate(values["rate_limit_per_minute"] or "60"),
            )
            server = await mcp.servers.create(data, actor=principal)
        except DomainError as exc:
            errors = _errors(exc, _SERVER_FIELDS, "name")
            return self._new(request, errors=errors, values=values, status_code=exc.status)
        following = "tools" if server.access_method is AccessMethod.TOKEN else "access"
        notice = f"MCP server {server.name} created. " + (
            "Attach tools and create an API token."
            if following == "tools"
            else "Add the user groups who may use it, then attach tools."
        )
        return redirect(request, server_path(server.id, following), notice)

    @get("/{server_id:uuid}")
    async def overview(
        self, request: Request[Any, Any, Any], server_id: FromPath[UUID], mcp: NamedDependency[McpServices]
    ) -> Template:
        return await self._overview(request, mcp, server_id)

    @post("/{server_id:uuid}", guards=[requires_admin])
    async def update_server(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "name", "description", "instructions", "rate_limit_per_minute")
        try:
            data = ServerUpdate(
                name=values["name"],
                description=values["description"],
                instructions=values["instructions"],
                rate_limit_per_minute=_rate(values["rate_limit_per_minute"]),
            )
            await mcp.servers.update(server_id, data, actor=principal)
        except DomainError as exc:
            errors = _errors(exc, _SERVER_FIELDS, "name")
            return await self._overview(
                request, mcp, server_id, errors=errors, values=values, status_code=exc.status
            )
        return redirect(request, server_path(server_id), "Server saved.")

    @post("/{server_id:uuid}/delete", guards=[requires_admin])
    async def delete_server(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        server = await mcp.servers.get(server_id)
        await mcp.servers.delete(server_id, actor=principal)
        return redirect(request, LIST_PATH, f"MCP server {server.name} deleted.")

    # --- End user access ------------------------------------------------------------------------------

    @get("/{server_id:uuid}/access")
    async def access(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
    ) -> Template:
        return await self._access(request, mcp, groups, server_id)

    @post("/{server_id:uuid}/access", guards=[requires_admin])
    async def change_access_method(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "access_method")
        try:
            method = _access_method(values["access_method"])
            await mcp.servers.update(server_id, ServerUpdate(access_method=method), actor=principal)
        except DomainError as exc:
            return await self._access(
                request, mcp, groups, server_id, errors={"access_method": exc.message}, status_code=exc.status
            )
        return redirect(request, server_path(server_id, "access"), f"Access method set to {method.label}.")

    @post("/{server_id:uuid}/groups", guards=[requires_admin])
    async def add_groups(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        groups: NamedDependency[GroupService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        form = await request.form()
        try:
            chosen = [_uuid(value, "group_ids") for value in form.getall("group_ids", [])]
            if not chosen:
                raise InvalidInput("Choose at least one user group.", field="group_ids")
            before = {group.id for group in (await mcp.servers.get(server_id)).groups}
            server = await mcp.servers.add_groups(server_id, chosen, actor=principal)
        except DomainError as exc:
            return await self._access(
                request, mcp, groups, server_id, errors={"group_ids": exc.message}, status_code=exc.status
            )
        added = [group.name for group in server.groups if group.id not in before]
        notice = (
            f"{_listed(added)} may now use {server.name}." if added else "Those groups had access already."
        )
        return redirect(request, server_path(server_id, "access"), notice)

    @post("/{server_id:uuid}/groups/{group_id:uuid}/remove", guards=[requires_admin])
    async def remove_group(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        group_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        server = await mcp.servers.get(server_id)
        name = next((group.name for group in server.groups if group.id == group_id), "The group")
        await mcp.servers.remove_group(server_id, group_id, actor=principal)
        return redirect(request, server_path(server_id, "access"), f"{name} can no longer use {server.name}.")

    # --- Tools ----------------------------------------------------------------------------------------

    @get("/{server_id:uuid}/tools")
    async def tools(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
    ) -> Template:
        return await self._tools(request, mcp, recipes, server_id)

    @post("/{server_id:uuid}/tools")
    async def attach_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "recipe_id", "scope", "read_only", "destructive")
        try:
            if not values["recipe_id"]:
                raise InvalidInput("Choose a published recipe.", field="recipe_id")
            data = ToolAttach(
                recipe_id=_uuid(values["recipe_id"], "recipe_id"),
                scope=values["scope"],
                read_only=_checked(values, "read_only"),
                destructive=_checked(values, "destructive"),
            )
            tool = await mcp.servers.attach_tool(server_id, data, actor=principal)
        except DomainError as exc:
            errors = _errors(exc, ("recipe_id", "scope"), "recipe_id")
            return await self._tools(
                request, mcp, recipes, server_id, errors=errors, values=values, status_code=exc.status
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
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(request, "scope", "read_only", "destructive")
        data = ToolUpdate(
            scope=values["scope"],
            read_only=_checked(values, "read_only"),
            destructive=_checked(values, "destructive"),
        )
        try:
            tool = await mcp.servers.update_tool(server_id, recipe_id, data, actor=principal)
        except DomainError as exc:
            return await self._tools(
                request,
                mcp,
                recipes,
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
            (tool for tool in await mcp.servers.tools(server_id) if tool.recipe_id == recipe_id), None
        )
        await mcp.servers.detach_tool(server_id, recipe_id, actor=principal)
        name = tool.tool_name if tool else "The tool"
        return redirect(request, server_path(server_id, "tools"), f"Tool {name} detached.")

    @post("/{server_id:uuid}/remote-tools")
    async def offer_remote_tool(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        recipes: NamedDependency[RecipeServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        values = await form_fields(
            request, "remote_tool", "name", "remote_scope", "remote_read_only", "remote_destructive"
        )
        connectors: ConnectorServices = request.app.state.connectors
        try:
            connection, _, action = values["remote_tool"].partition("/")
            if not action:
                raise InvalidInput("Choose a remote tool.", field="remote_tool")
            data = RemoteToolAttach(
                connection_id=_uuid(connection, "remote_tool"),
                action=action,
                name=values["name"],
                scope=values["remote_scope"],
                read_only=_checked(values, "remote_read_only"),
                destructive=_checked(values, "remote_destructive"),
            )
            tool = await mcp.servers.attach_remote_tool(
                server_id, data, definitions=connectors.registry, actor=principal
            )
        except DomainError as exc:
            field = {"connection_id": "remote_tool", "action": "remote_tool", "scope": "remote_scope"}.get(
                exc.field or "", exc.field or ""
            )
            errors = {
                field if field in ("remote_tool", "name", "remote_scope") else "remote_tool": exc.message
            }
            return await self._tools(
                request, mcp, recipes, server_id, errors=errors, values=values, status_code=exc.status
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
        tool = next((tool for tool in await mcp.servers.remote_tools(server_id) if tool.id == tool_id), None)
        await mcp.servers.detach_remote_tool(server_id, tool_id, actor=principal)
        name = tool.tool_name if tool else "The tool"
        return redirect(request, server_path(server_id, "tools"), f"Remote tool {name} withdrawn.")

    # --- API tokens -----------------------------------------------------------------------------------

    @get("/{server_id:uuid}/tokens", guards=[requires_admin])
    async def tokens(
        self, request: Request[Any, Any, Any], server_id: FromPath[UUID], mcp: NamedDependency[McpServices]
    ) -> Template:
        return await self._tokens(request, mcp, server_id)

    @post("/{server_id:uuid}/tokens", guards=[requires_admin])
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Template:
        values = await form_fields(request, "name")
        try:
            created = await mcp.servers.create_token(server_id, values["name"], actor=principal)
        except DomainError as exc:
            return await self._tokens(
                request, mcp, server_id, errors={"name": exc.message}, values=values, status_code=exc.status
            )
        return await self._tokens(request, mcp, server_id, created=created)

    @post("/{server_id:uuid}/tokens/{token_id:uuid}/revoke", guards=[requires_admin])
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        token_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        token = next(
            (token for token in await mcp.servers.list_tokens(server_id) if token.id == token_id), None
        )
        await mcp.servers.revoke_token(server_id, token_id, actor=principal)
        name = token.name if token else "The token"
        return redirect(request, server_path(server_id, "tokens"), f"API token {name} revoked.")

    # --- rendering ------------------------------------------------------------------------------------

    def _new(
        self,
        request: Request[Any, Any, Any],
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/servers_new.html",
            status_code=status_code,
            title="New MCP server",
            methods=list(AccessMethod),
            errors=errors or {},
            values=values or {},
            base_url=request.app.state.settings.base_url,
        )

    def _server_page(
        self,
        request: Request[Any, Any, Any],
        template: str,
        server: McpServer,
        tab: str,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        return page(
            request,
            template,
            status_code=status_code,
            title=server.name,
            server=server,
            tab=tab,
            **context,
        )

    async def _overview(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        url = server_url(request.app.state.settings.base_url, server.slug)
        return self._server_page(
            request,
            "console/server.html",
            server,
            "",
            status_code=status_code,
            url=url,
            snippets=client_snippets(server, url),
            tools=await mcp.servers.tools(server_id),
            errors=errors or {},
            values=values or {},
        )

    async def _access(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        groups: GroupService,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        assigned = {group.id for group in server.groups}
        everyone = await groups.list_all()
        return self._server_page(
            request,
            "console/server_access.html",
            server,
            "access",
            status_code=status_code,
            methods=list(AccessMethod),
            members={group.id: len(group.members) for group in everyone},
            candidates=[group for group in everyone if group.id not in assigned],
            errors=errors or {},
        )

    async def _tools(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        recipes: RecipeServices,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        tools = await mcp.servers.tools(server_id)
        attached = {tool.recipe_id for tool in tools}
        published = [
            recipe
            for recipe in await recipes.recipes.list_all()
            if recipe.published_version is not None and recipe.id not in attached
        ]
        remote = await mcp.servers.remote_tools(server_id)
        return self._server_page(
            request,
            "console/server_tools.html",
            server,
            "tools",
            status_code=status_code,
            tools=tools,
            published=published,
            remote_tools=remote,
            remote_choices=await _remote_choices(request.app.state.connectors, remote),
            errors=errors or {},
            values=values or {},
        )

    async def _tokens(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        server_id: UUID,
        *,
        created: NewServerToken | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        return self._server_page(
            request,
            "console/server_tokens.html",
            server,
            "tokens",
            status_code=status_code,
            tokens=await mcp.servers.list_tokens(server_id),
            created=created,
            errors=errors or {},
            values=values or {},
        )


def _access_method(value: str) -> AccessMethod:
    try:
        return AccessMethod(value or AccessMethod.IDENTITY.value)
    except ValueError:
        raise InvalidInput("Choose Identity or Token.", field="access_method") from None


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput("Choose one of the listed options.", field=field) from None


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
