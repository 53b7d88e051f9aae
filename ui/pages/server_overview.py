"""Console → MCP servers → a server's Overview tab: its URL and client set-up, its settings, the rate limits
of single clients, deleting it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.access import server_url
from switchboard.platform.mcp.client_names import API_TOKEN_CLIENT
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerUpdate
from switchboard.ui.forms import form_fields
from switchboard.ui.pages.server_snippets import client_snippets
from switchboard.ui.pages.servers import (
    LIST_PATH,
    SERVER_FIELDS,
    field_errors,
    rate_limit_of,
    server_path,
    server_tab,
)
from switchboard.ui.rendering import redirect


class ServerOverviewPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get("/{server_id:uuid}")
    async def overview(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Template:
        return await self._overview(request, mcp, settings, oauth, server_id)

    @post("/{server_id:uuid}", guards=[requires_admin])
    async def update_server(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Response[Any]:
        values = await form_fields(request, "name", "description", "instructions", "rate_limit_per_minute")
        try:
            data = ServerUpdate(
                name=values["name"],
                description=values["description"],
                instructions=values["instructions"],
                rate_limit_per_minute=rate_limit_of(values["rate_limit_per_minute"]),
            )
            await mcp.servers.update(server_id, data, actor=principal)
        except DomainError as exc:
            errors = field_errors(exc, SERVER_FIELDS, "name")
            return await self._overview(
                request, mcp, settings, oauth, server_id, errors=errors, values=values, status_code=exc.status
            )
        return redirect(request, server_path(server_id), "Server saved.")

    @post("/{server_id:uuid}/client-limits", guards=[requires_admin])
    async def set_client_limit(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        settings: NamedDependency[Settings],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Response[Any]:
        values = await form_fields(request, "client_id", "client_limit")
        try:
            limit = _requests_a_minute(values["client_limit"])
            server = await mcp.limits.set_for_client(server_id, values["client_id"], limit, actor=principal)
        except DomainError as exc:
            field = "client_id" if exc.field == "client_id" else "client_limit"
            return await self._overview(
                request,
                mcp,
                settings,
                oauth,
                server_id,
                errors={field: exc.message},
                values=values,
                status_code=exc.status,
            )
        name = (await _client_names(oauth, mcp, server)).get(values["client_id"], values["client_id"])
        notice = f"{name} may now send {limit} requests a minute to {server.name}."
        if limit == 0:
            notice = f"{name} may now send {server.name} requests without a limit."
        return redirect(request, server_path(server_id), notice)

    @post("/{server_id:uuid}/client-limits/remove", guards=[requires_admin])
    async def remove_client_limit(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        oauth: NamedDependency[AuthorizationServer],
    ) -> Response[Any]:
        client_id = (await form_fields(request, "client_id"))["client_id"]
        server = await mcp.limits.remove_for_client(server_id, client_id, actor=principal)
        name = (await _client_names(oauth, mcp, server)).get(client_id, client_id)
        return redirect(request, server_path(server_id), f"{name} now has {server.name}'s limit.")

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

    async def _overview(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        settings: Settings,
        oauth: AuthorizationServer,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        url = server_url(settings.base_url, server.slug)
        names = await _client_names(oauth, mcp, server)
        return server_tab(
            request,
            "console/server.html",
            server,
            "",
            status_code=status_code,
            url=url,
            snippets=client_snippets(server, url),
            tools=await mcp.tools.list_all(server_id),
            client_limits=[(limit, names.get(limit.client_id, "")) for limit in server.client_rate_limits],
            client_choices=sorted(names.items(), key=lambda item: (item[1].lower(), item[0])),
            errors=errors or {},
            values=values or {},
        )


async def _client_names(oauth: AuthorizationServer, mcp: McpServices, server: McpServer) -> dict[str, str]:
    """The clients that may call ``server``, by id, with their names: the registry's OAuth clients, or a
    Token server's API tokens."""
    if server.access_method is AccessMethod.TOKEN:
        tokens = await mcp.tokens.list_all(server.id)
        return {f"{API_TOKEN_CLIENT}{token.name}": f"API token {token.name}" for token in tokens}
    return {client.client_id: client.name for client in await oauth.clients.list_all()}


def _requests_a_minute(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            "Enter a whole number of requests a minute (0 for no limit).", field="rate_limit_per_minute"
        ) from None
