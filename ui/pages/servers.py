"""Console → MCP servers: the list, a new server, and what every tab of a server's page shares.

A server's page has one module a tab: ``server_overview`` (client set-up and settings), ``server_access``
(access method and end-user groups), ``server_tools`` and ``server_tokens``; the client set-up snippets
are in ``server_snippets``. Everyone who builds may look; admins change servers, their groups and tokens;
builders attach tools.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin, requires_builder
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, InvalidInput
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect

LIST_PATH = "/console/servers"
SERVER_FIELDS = ("name", "slug", "description", "instructions", "access_method", "rate_limit_per_minute")


def server_path(server_id: UUID, tab: str = "") -> str:
    return f"{LIST_PATH}/{server_id}" + (f"/{tab}" if tab else "")


def server_tab(
    request: Request[Any, Any, Any],
    template: str,
    server: McpServer,
    tab: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A tab of the server's page (``tab`` '' is the overview)."""
    return page(
        request,
        template,
        status_code=status_code,
        title=server.name,
        server=server,
        tab=tab,
        **context,
    )


def field_errors(exc: DomainError, fields: tuple[str, ...], default: str) -> dict[str, str]:
    return {exc.field if exc.field in fields else default: exc.message}


def rate_limit_of(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            "Enter a whole number of requests a minute (0 for no limit).", field="rate_limit_per_minute"
        ) from None


def access_method_of(value: str) -> AccessMethod:
    try:
        return AccessMethod(value or AccessMethod.IDENTITY.value)
    except ValueError:
        raise InvalidInput("Choose Identity or Token.", field="access_method") from None


def uuid_of(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput("Choose one of the listed options.", field=field) from None


class ServerPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

    @get()
    async def list_servers(
        self,
        request: Request[Any, Any, Any],
        mcp: NamedDependency[McpServices],
        settings: NamedDependency[Settings],
    ) -> Template:
        servers = await mcp.servers.list_all()
        tools = {server.id: await mcp.tools.list_all(server.id) for server in servers}
        return page(
            request,
            "console/servers.html",
            title="MCP servers",
            servers=servers,
            tools=tools,
            base_url=settings.base_url,
        )

    @get("/new", guards=[requires_admin])
    async def new_server(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Template:
        return self._new(request, settings)

    @post(guards=[requires_admin])
    async def create_server(
        self,
        request: Request[Any, Any, Any],
        mcp: NamedDependency[McpServices],
        principal: NamedDependency[Principal],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        values = await form_fields(request, *SERVER_FIELDS)
        try:
            data = ServerCreate(
                slug=values["slug"],
                name=values["name"],
                description=values["description"],
                instructions=values["instructions"],
                access_method=access_method_of(values["access_method"]),
                rate_limit_per_minute=rate_limit_of(values["rate_limit_per_minute"] or "60"),
            )
            server = await mcp.servers.create(data, actor=principal)
        except DomainError as exc:
            errors = field_errors(exc, SERVER_FIELDS, "name")
            return self._new(request, settings, errors=errors, values=values, status_code=exc.status)
        following = "tools" if server.access_method is AccessMethod.TOKEN else "access"
        notice = f"MCP server {server.name} created. " + (
            "Attach tools and create an API token."
            if following == "tools"
            else "Add the user groups who may use it, then attach tools."
        )
        return redirect(request, server_path(server.id, following), notice)

    def _new(
        self,
        request: Request[Any, Any, Any],
        settings: Settings,
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
            base_url=settings.base_url,
        )
