"""Console → MCP servers → a server's API tokens tab (admins only): create a token, shown once; see when
each was last used; revoke it."""

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
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import NewServerToken
from switchboard.ui.forms import form_fields
from switchboard.ui.pages.servers import LIST_PATH, server_path, server_tab
from switchboard.ui.rendering import redirect


class ServerTokenPages(Controller):
    path = LIST_PATH
    include_in_schema = False
    guards = [requires_builder]

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
            created = await mcp.tokens.create(server_id, values["name"], actor=principal)
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
        token = next((token for token in await mcp.tokens.list_all(server_id) if token.id == token_id), None)
        await mcp.tokens.revoke(server_id, token_id, actor=principal)
        name = token.name if token else "The token"
        return redirect(request, server_path(server_id, "tokens"), f"API token {name} revoked.")

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
        return server_tab(
            request,
            "console/server_tokens.html",
            server,
            "tokens",
            status_code=status_code,
            tokens=await mcp.tokens.list_all(server_id),
            created=created,
            errors=errors or {},
            values=values or {},
        )
