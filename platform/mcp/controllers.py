"""/api/v1/servers: MCP servers, who may use them, their tools and API tokens; /api/v1/tool-calls: the audit
log of tool calls.

Builders read servers and attach tools; everything else is for owners and admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.query_times import DateTimeQuery, query_time
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.access import server_url
from switchboard.platform.mcp.audit import OUTCOMES, PAGE_SIZE, ToolCall, ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import (
    AccessMethod,
    ClientRateLimit,
    McpServer,
    NewServerToken,
    RemoteTool,
    RemoteToolAttach,
    ServerCreate,
    ServerGroup,
    ServerToken,
    ServerTool,
    ServerUpdate,
    ToolAttach,
    ToolUpdate,
)


class ServerOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    slug: str
    url: str  # what MCP clients connect to; also the audience of its tokens
    name: str
    description: str
    instructions: str
    access_method: AccessMethod
    rate_limit_per_minute: int  # requests a minute per person and client; 0: no limit
    client_rate_limits: list[ClientRateLimit]  # clients with a limit of their own instead
    groups: list[ServerGroup]
    tools: list[ServerTool]
    remote_tools: list[RemoteTool]
    created_at: datetime
    updated_at: datetime


class GroupsAdd(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    group_ids: list[UUID]


class TokenCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str


class ClientRateLimitSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: Annotated[str, msgspec.Meta(max_length=600)]
    rate_limit_per_minute: int


async def _out(settings: Settings, mcp: McpServices, server: McpServer) -> ServerOut:
    return ServerOut(
        id=server.id,
        slug=server.slug,
        url=server_url(settings.base_url, server.slug),
        name=server.name,
        description=server.description,
        instructions=server.instructions,
        access_method=server.access_method,
        rate_limit_per_minute=server.rate_limit_per_minute,
        client_rate_limits=list(server.client_rate_limits),
        groups=list(server.groups),
        tools=await mcp.tools.list_all(server.id),
        remote_tools=await mcp.tools.list_remote(server.id),
        created_at=server.created_at,
        updated_at=server.updated_at,
    )


class ServerController(Controller):
    path = "/api/v1/servers"
    tags = ["MCP servers"]
    guards = [requires_builder]

    @get(summary="List MCP servers with their groups and tools")
    async def list_servers(
        self, mcp: NamedDependency[McpServices], settings: NamedDependency[Settings]
    ) -> list[ServerOut]:
        return [await _out(settings, mcp, server) for server in await mcp.servers.list_all()]

    @post(guards=[requires_admin], summary="Create an MCP server")
    async def create_server(
        self,
        data: JSONBody[ServerCreate],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        return await _out(settings, mcp, await mcp.servers.create(data, actor=principal))

    @get("/{server_id:uuid}", summary="An MCP server with its groups and tools")
    async def get_server(
        self,
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
    ) -> ServerOut:
        return await _out(settings, mcp, await mcp.servers.get(server_id))

    @patch("/{server_id:uuid}", guards=[requires_admin], summary="Change an MCP server (not its slug)")
    async def update_server(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[ServerUpdate],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        return await _out(settings, mcp, await mcp.servers.update(server_id, data, actor=principal))

    @delete("/{server_id:uuid}", guards=[requires_admin], summary="Delete an MCP server")
    async def delete_server(
        self,
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await mcp.servers.delete(server_id, actor=principal)

    @post("/{server_id:uuid}/groups", guards=[requires_admin], status_code=200, summary="Add user groups")
    async def add_groups(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[GroupsAdd],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        if not data.group_ids:
            raise InvalidInput("Choose at least one user group.", field="group_ids")
        server = await mcp.groups.add(server_id, data.group_ids, actor=principal)
        return await _out(settings, mcp, server)

    @delete(
        "/{server_id:uuid}/groups/{group_id:uuid}",
        guards=[requires_admin],
        status_code=200,
        summary="Remove a user group",
    )
    async def remove_group(
        self,
        server_id: FromPath[UUID],
        group_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        server = await mcp.groups.remove(server_id, group_id, actor=principal)
        return await _out(settings, mcp, server)

    @post(
        "/{server_id:uuid}/client-rate-limits",
        guards=[requires_admin],
        status_code=200,
        summary="Give a client a rate limit of its own on the server, or change it",
    )
    async def set_client_rate_limit(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[ClientRateLimitSet],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        server = await mcp.limits.set_for_client(
            server_id, data.client_id, data.rate_limit_per_minute, actor=principal
        )
        return await _out(settings, mcp, server)

    @delete(
        "/{server_id:uuid}/client-rate-limits",
        guards=[requires_admin],
        status_code=200,
        summary="Take a client's own rate limit away (it has the server's again)",
    )
    async def remove_client_rate_limit(
        self,
        server_id: FromPath[UUID],
        client_id: Annotated[str, QueryParameter(max_length=600)],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ServerOut:
        server = await mcp.limits.remove_for_client(server_id, client_id, actor=principal)
        return await _out(settings, mcp, server)

    @get("/{server_id:uuid}/tools", summary="The server's tools")
    async def list_tools(
        self, server_id: FromPath[UUID], mcp: NamedDependency[McpServices]
    ) -> list[ServerTool]:
        await mcp.servers.get(server_id)
        return await mcp.tools.list_all(server_id)

    @post("/{server_id:uuid}/tools", summary="Attach a published recipe as a tool")
    async def attach_tool(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[ToolAttach],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> ServerTool:
        return await mcp.tools.attach(server_id, data, actor=principal)

    @patch("/{server_id:uuid}/tools/{recipe_id:uuid}", summary="Change a tool's scope or hints")
    async def update_tool(
        self,
        server_id: FromPath[UUID],
        recipe_id: FromPath[UUID],
        data: JSONBody[ToolUpdate],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> ServerTool:
        return await mcp.tools.update(server_id, recipe_id, data, actor=principal)

    @delete("/{server_id:uuid}/tools/{recipe_id:uuid}", summary="Detach a tool")
    async def detach_tool(
        self,
        server_id: FromPath[UUID],
        recipe_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await mcp.tools.detach(server_id, recipe_id, actor=principal)

    @get("/{server_id:uuid}/remote-tools", summary="Remote MCP servers' tools the server offers directly")
    async def list_remote_tools(
        self, server_id: FromPath[UUID], mcp: NamedDependency[McpServices]
    ) -> list[RemoteTool]:
        await mcp.servers.get(server_id)
        return await mcp.tools.list_remote(server_id)

    @post("/{server_id:uuid}/remote-tools", summary="Offer a remote MCP server's tool directly (no recipe)")
    async def attach_remote_tool(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[RemoteToolAttach],
        mcp: NamedDependency[McpServices],
        connectors: NamedDependency[ConnectorServices],
        principal: NamedDependency[Principal],
    ) -> RemoteTool:
        return await mcp.tools.attach_remote(
            server_id, data, connections=connectors.connections, actor=principal
        )

    @delete("/{server_id:uuid}/remote-tools/{tool_id:uuid}", summary="Stop offering a remote tool")
    async def detach_remote_tool(
        self,
        server_id: FromPath[UUID],
        tool_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await mcp.tools.detach_remote(server_id, tool_id, actor=principal)

    @get(
        "/{server_id:uuid}/tokens", guards=[requires_admin], summary="The server's API tokens (never secrets)"
    )
    async def list_tokens(
        self, server_id: FromPath[UUID], mcp: NamedDependency[McpServices]
    ) -> list[ServerToken]:
        await mcp.servers.get(server_id)
        return await mcp.tokens.list_all(server_id)

    @post(
        "/{server_id:uuid}/tokens",
        guards=[requires_admin],
        summary="Create an API token; the secret is in this answer only",
    )
    async def create_token(
        self,
        server_id: FromPath[UUID],
        data: JSONBody[TokenCreate],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> NewServerToken:
        return await mcp.tokens.create(server_id, data.name, actor=principal)

    @delete(
        "/{server_id:uuid}/tokens/{token_id:uuid}", guards=[requires_admin], summary="Revoke an API token"
    )
    async def revoke_token(
        self,
        server_id: FromPath[UUID],
        token_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
    ) -> None:
        await mcp.tokens.revoke(server_id, token_id, actor=principal)


_Filter = Annotated[str, QueryParameter(max_length=254)]


class ToolCallController(Controller):
    path = "/api/v1/tool-calls"
    tags = ["MCP servers"]
    guards = [requires_admin]

    @get(summary="Tool calls, newest first; `before` (the `at` of the last one) pages on")
    async def list_calls(
        self,
        mcp: NamedDependency[McpServices],
        user: _Filter = "",
        client: Annotated[str, QueryParameter(max_length=600)] = "",
        server: _Filter = "",
        tool: _Filter = "",
        outcome: _Filter = "",
        since: DateTimeQuery = None,
        until: DateTimeQuery = None,
        before: DateTimeQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = PAGE_SIZE,
    ) -> list[ToolCall]:
        if outcome and outcome not in OUTCOMES:
            raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}.", field="outcome")
        where = ToolCallFilter(
            user=user,
            client=client,
            server=server,
            tool=tool,
            outcome=outcome,
            since=query_time(since, field="since"),
            until=query_time(until, field="until"),
        )
        return await mcp.calls.search(where, limit=limit, before=query_time(before, field="before"))


API_CONTROLLERS = [ServerController, ToolCallController]
