"""/api/v1/api-tokens: admin API tokens (the token is in the creation response only)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from switchboard.identity.auth.guards import requires_admin
from switchboard.identity.principal import Principal
from switchboard.identity.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenOut
from switchboard.identity.services.api_tokens import ApiTokenService


class ApiTokenController(Controller):
    path = "/api/v1/api-tokens"
    tags = ["API tokens"]
    guards = [requires_admin]

    @get(summary="List admin API tokens")
    async def list_tokens(
        self, api_tokens: NamedDependency[ApiTokenService], principal: NamedDependency[Principal]
    ) -> list[ApiTokenOut]:
        return await api_tokens.list_all(actor=principal)

    @post(summary="Create an admin API token; the token is shown only in this response")
    async def create_token(
        self,
        data: JSONBody[ApiTokenCreate],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
    ) -> ApiTokenCreated:
        return await api_tokens.create(data.name, actor=principal)

    @delete("/{token_id:uuid}", summary="Revoke an admin API token")
    async def revoke_token(
        self,
        token_id: FromPath[UUID],
        api_tokens: NamedDependency[ApiTokenService],
        principal: NamedDependency[Principal],
    ) -> None:
        await api_tokens.revoke(token_id, actor=principal)
