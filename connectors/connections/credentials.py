"""What a connection adds to a call to its app: field values and credentials, for one caller.

Shared connections give everyone the same credentials (API key, bearer token, basic, a client
credentials token kept until shortly before it expires, or the token of the grant a builder made with
their own account). End user's connections give the caller's own
API key or login (entered once, see ``personal``), or token: from their authorization code grant (see
``grants``), or by exchanging the caller's Switchboard identity at the app (RFC 8693 token exchange),
with no second consent where the app trusts Switchboard.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from switchboard.connectors.action_requests import RequestAuth
from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.grants import GrantService
from switchboard.connectors.connections.models import (
    PERSONAL_AUTH_TYPES,
    Connection,
    Mode,
    TokenSet,
    union,
)
from switchboard.connectors.connections.provider import ClientCredentials, ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.definitions import ApiKeyAuth, ConnectorDefinition, TokenExchangeAuth
from switchboard.platform.core.errors import PermissionDenied

SUBJECT_TOKEN_LIFETIME = timedelta(minutes=5)
Signer = Callable[[dict[str, Any]], Awaitable[str]]
"""Signs the subject token of a token exchange with Switchboard's keys (published at /oauth/jwks)."""


class Caller:
    """Who a call is made for: a verified user, or nobody (automations with a server API token); in an end
    user's connection, ``account`` names which of the user's accounts ('': their default one)."""

    def __init__(self, user_id: UUID | None, email: str = "", account: str = "") -> None:
        self.user_id = user_id
        self.email = email
        self.account = account


class CredentialService:
    def __init__(
        self,
        *,
        issuer: str,
        connections: ConnectionService,
        grants: GrantService,
        provider: ProviderClient,
        sign: Signer,
    ) -> None:
        self._issuer = issuer
        self._connections = connections
        self._grants = grants
        self._provider = provider
        self._sign = sign
        self._cache: dict[tuple[UUID, UUID | None], TokenSet] = {}
        self._locks: dict[tuple[UUID, UUID | None], asyncio.Lock] = {}
        # Scopes a client credentials connection stepped up to (a server asked for them), by connection.
        self._stepped_up: dict[UUID, tuple[str, ...]] = {}

    async def request_auth(self, connection_id: UUID, caller: Caller) -> RequestAuth:
        return await self.auth_for(await self._connections.get(connection_id), caller)

    async def auth_for(self, connection: Connection, caller: Caller) -> RequestAuth:
        """What ``connection`` adds to a call made for ``caller`` (see the module's docstring)."""
        connection_id = connection.id
        definition = await self._connections.definition_of(connection)
        if connection.mode is Mode.END_USER:
            if caller.user_id is None:
                raise PermissionDenied(
                    f"{connection.name} uses each end user's own {definition.name} account, and this call "
                    "has no signed-in user."
                )
            if connection.auth_type == "oauth2_token_exchange":
                token = await self._exchanged(connection, definition, caller)
                return _bearer(connection, token.access_token, token.token_type)
            fresh = await self._grants.access_token(caller.user_id, connection_id, caller.account)
            if connection.auth_type in PERSONAL_AUTH_TYPES:  # the key or login the person entered
                return _personal(connection, definition, fresh.access_token)
            return _bearer(connection, fresh.access_token, fresh.token_type)
        return await self._shared(connection, definition)

    async def after_refusal(
        self, connection_id: UUID, caller: Caller, refused: RequestAuth, scopes: tuple[str, ...] = ()
    ) -> RequestAuth | None:
        """New credentials after the app refused ``refused``: for a 401 (no ``scopes``), a grant's token
        refreshed (once, across callers), a client credentials token fetched again; for a 403 asking for
        ``scopes``, a step-up (see ``_step_up``). None when there is nothing to renew."""
        connection = await self._connections.get(connection_id)
        if scopes:
            return await self._step_up(connection, caller, scopes)
        if connection.auth_type == "oauth2_authorization_code":
            if connection.mode is Mode.END_USER and caller.user_id is None:
                return None
            token = refused.headers.get("Authorization", "").partition(" ")[2]
            fresh = await self._grants.refresh_refused(caller.user_id, connection_id, token, caller.account)
            return _bearer(connection, fresh.access_token, fresh.token_type)
        if connection.mode is Mode.END_USER:
            return None
        if connection.auth_type == "oauth2_client_credentials":
            self.forget(connection_id)
            return await self.request_auth(connection_id, caller)
        return None

    def forget(self, connection_id: UUID) -> None:
        """Drop cached tokens of a connection (after an edit, or when the app refused them)."""
        for key in [key for key in self._cache if key[0] == connection_id]:
            del self._cache[key]
        self._stepped_up.pop(connection_id, None)

    async def _step_up(
        self, connection: Connection, caller: Caller, scopes: tuple[str, ...]
    ) -> RequestAuth | None:
        """The app wants ``scopes`` the token lacks (403 ``insufficient_scope``): a client credentials
        connection asks at once for the union of its scopes and these (kept while this process runs); a
        grant needs its person to consent again, so this raises ConnectionRequired with a link asking for
        the union (SharedGrantMissing for a shared grant: its scopes are the builder's to change)."""
        if connection.auth_type == "oauth2_client_credentials" and connection.mode is Mode.SHARED:
            before = self._stepped_up.get(connection.id, connection.scopes)
            self._stepped_up[connection.id] = union(before, scopes)
            self._cache.pop((connection.id, None), None)
            definition = await self._connections.definition_of(connection)
            return await self._shared(connection, definition)
        if connection.auth_type == "oauth2_authorization_code":
            raise await self._grants.more_access(caller.user_id, connection.id, scopes, caller.account)
        return None

    async def _shared(self, connection: Connection, definition: ConnectorDefinition) -> RequestAuth:
        secrets = await self._connections.credentials(connection.id)
        values = connection.fields
        match connection.auth_type:
            case "api_key":
                return _personal(connection, definition, secrets.api_key)
            case "bearer":
                return RequestAuth(values=values, headers={"Authorization": f"Bearer {secrets.token}"})
            case "oauth2_authorization_code":  # the grant a builder made for everyone
                fresh = await self._grants.access_token(None, connection.id)
                return _bearer(connection, fresh.access_token, fresh.token_type)
            case "basic":
                return _personal(connection, definition, f"{connection.username}:{secrets.password}")
            case "oauth2_client_credentials":
                token = await self._cached(
                    (connection.id, None),
                    lambda: self._provider.client_credentials(
                        endpoints_for(connection, definition),
                        ClientCredentials(connection.client_id, secrets.client_secret),
                        self._stepped_up.get(connection.id, connection.scopes),
                    ),
                )
                return _bearer(connection, token.access_token, token.token_type)
            case _:
                return RequestAuth(values=values)

    async def _exchanged(
        self, connection: Connection, definition: ConnectorDefinition, caller: Caller
    ) -> TokenSet:
        assert caller.user_id is not None
        spec = definition.auth
        assert isinstance(spec, TokenExchangeAuth)
        endpoints = endpoints_for(connection, definition)
        audience = spec.audience or endpoints.issuer or endpoints.token_url
        secrets = await self._connections.credentials(connection.id)

        async def exchange() -> TokenSet:
            now = datetime.now(UTC)
            subject = await self._sign(
                {
                    "iss": self._issuer,
                    "sub": str(caller.user_id),
                    "email": caller.email,
                    "aud": audience,
                    "iat": int(now.timestamp()),
                    "exp": int((now + SUBJECT_TOKEN_LIFETIME).timestamp()),
                }
            )
            return await self._provider.token_exchange(
                endpoints,
                ClientCredentials(connection.client_id, secrets.client_secret),
                subject_token=subject,
                audience=audience,
                scopes=connection.scopes,
                requested_token_type=spec.requested_token_type,
            )

        return await self._cached((connection.id, caller.user_id), exchange)

    async def _cached(
        self, key: tuple[UUID, UUID | None], fetch: Callable[[], Awaitable[TokenSet]]
    ) -> TokenSet:
        async with self._locks.setdefault(key, asyncio.Lock()):
            token = self._cache.get(key)
            if token is None or (
                token.expires_at is not None and token.expires_at - timedelta(seconds=60) <= datetime.now(UTC)
            ):
                token = await fetch()
                self._cache[key] = token
            return token


def _personal(connection: Connection, definition: ConnectorDefinition, secret: str) -> RequestAuth:
    """An API key where the connector's auth says, or a basic login (``secret``: user name:password); a
    shared connection's or the one a person entered, applied the same way."""
    values = connection.fields
    if connection.auth_type == "basic":
        pair = base64.b64encode(secret.encode()).decode()
        return RequestAuth(values=values, headers={"Authorization": f"Basic {pair}"})
    spec = definition.auth if isinstance(definition.auth, ApiKeyAuth) else ApiKeyAuth()
    if spec.location == "query":
        return RequestAuth(values=values, query={spec.name: secret})
    return RequestAuth(values=values, headers={spec.name: spec.prefix + secret})


def _bearer(connection: Connection, token: str, token_type: str) -> RequestAuth:
    scheme = "Bearer" if token_type.lower() == "bearer" else token_type
    return RequestAuth(values=connection.fields, headers={"Authorization": f"{scheme} {token}"})
