"""Console → API tokens: tokens for scripts calling /api/v1 as an admin."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.principal import Principal
from switchboard.identity.services.api_tokens import ApiTokenService
from switchboard.platform.core.errors import DomainError
from switchboard.ui.forms import form_fields
from switchboard.ui.rendering import page, redirect


class ApiTokenPages(Controller):
    path = "/console/api-tokens"
    include_in_schema = False
    guards = [requires_admin]

    @get()
    async def list_tokens(
        self,
        request: Request[Any, Any, Any],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
    ) -> Template:
        return await self._list(request, api_tokens, principal)

    @post()
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
    ) -> Template:
        name = (await form_fields(request, "name"))["name"]
        try:
            created = await api_tokens.create(name, actor=principal)
        except DomainError as exc:
            return await self._list(
                request,
                api_tokens,
                principal,
                errors={"name": exc.message},
                values={"name": name},
                status_code=422,
            )
        # The token is in this response only; the page is not cached.
        return await self._list(request, api_tokens, principal, created=created)

    @post("/{token_id:uuid}/revoke")
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        token_id: FromPath[UUID],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
    ) -> Response[Any]:
        await api_tokens.revoke(token_id, actor=principal)
        return redirect(
            request, "/console/api-tokens", "Token revoked. Scripts using it are refused from now on."
        )

    async def _list(
        self,
        request: Request[Any, Any, Any],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
        *,
        created: Any = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "console/api_tokens.html",
            status_code=status_code,
            title="API tokens",
            tokens=await api_tokens.list_all(actor=principal),
            created=created,
            errors=errors or {},
            values=values or {},
        )
