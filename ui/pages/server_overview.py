"""Console → MCP servers → a server's Overview tab: its URL and client set-up, its settings, deleting it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.access import server_url
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerUpdate
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
    ) -> Template:
        return await self._overview(request, mcp, settings, server_id)

    @post("/{server_id:uuid}", guards=[requires_admin])
    async def update_server(
        self,
        request: Request[Any, Any, Any],
        server_id: FromPath[UUID],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        settings: NamedDependency[Settings],
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
                request, mcp, settings, server_id, errors=errors, values=values, status_code=exc.status
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

    async def _overview(
        self,
        request: Request[Any, Any, Any],
        mcp: McpServices,
        settings: Settings,
        server_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        server = await mcp.servers.get(server_id)
        url = server_url(settings.base_url, server.slug)
        return server_tab(
            request,
            "console/server.html",
            server,
            "",
            status_code=status_code,
            url=url,
            snippets=client_snippets(server, url),
            tools=await mcp.tools.list_all(server_id),
            errors=errors or {},
            values=values or {},
        )
