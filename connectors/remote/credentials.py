"""Bearer tokens for a remote MCP server, obtained the way the MCP authorization specification describes.

A session asks its ``Credentials`` for the token to send and tells them about refusals; ``NoCredentials``
sends none (for requests with fixed headers, or none).

``OAuthCredentials`` starts from what the server's 401 says: it discovers the protected resource and its
authorization server from the challenge, registers (or uses the given client), and gets a token — by the
authorization code grant through a ``UserAgent`` (whatever takes a person, or a test, to the authorization
URL and brings back the callback's parameters), or by the client credentials grant. A 401 with a refresh
token refreshes first; a 403 ``insufficient_scope`` authorizes again with the union of the scopes asked
for so far and those challenged. A registration is tied to its issuer: a new issuer means a new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.models import TokenSet, union
from switchboard.connectors.remote.authorization import RemoteOAuth
from switchboard.connectors.remote.discovery import AuthMode, Discoverer, Found
from switchboard.connectors.remote.metadata import AuthorizationServer, Challenge
from switchboard.connectors.remote.network import NetworkPolicy
from switchboard.connectors.remote.registration import Registrar, Registration, given

UserAgent = Callable[[str], Awaitable[dict[str, str]]]
"""Takes the authorization URL; returns the query parameters the authorization server redirected back with."""


class Credentials(Protocol):
    """Where a session's bearer tokens come from."""

    async def token(self) -> str | None:
        """The token to send now; None to send none."""
        ...

    async def unauthorized(self, challenge: Challenge | None) -> str | None:
        """A 401 answered the last token (or no token): a new one, or None to give up."""
        ...

    async def insufficient_scope(self, challenge: Challenge) -> str | None:
        """A 403 asked for more scopes: a token with them, or None to give up."""
        ...


class NoCredentials:
    """For requests that carry fixed headers, or none: no token to send or renew."""

    async def token(self) -> str | None:
        return None

    async def unauthorized(self, challenge: Challenge | None) -> str | None:
        return None

    async def insufficient_scope(self, challenge: Challenge) -> str | None:
        return None


class OAuthCredentials:
    def __init__(
        self,
        *,
        endpoint: str,
        mode: AuthMode | None,
        policy: NetworkPolicy,
        discoverer: Discoverer,
        registrar: Registrar,
        oauth: RemoteOAuth,
        user_agent: UserAgent | None = None,
        client_id: str = "",
        client_secret: str = "",
        scopes: tuple[str, ...] = (),
    ) -> None:
        self._endpoint = endpoint
        self._mode = mode
        self._policy = policy
        self._discoverer = discoverer
        self._registrar = registrar
        self._oauth = oauth
        self._user_agent = user_agent
        self._client_id = client_id
        self._client_secret = client_secret
        self._configured_scopes = scopes
        self._found: Found | None = None
        self._registration: Registration | None = None
        self._tokens: TokenSet | None = None
        self._asked: tuple[str, ...] = ()

    @property
    def registration(self) -> Registration | None:
        return self._registration

    async def token(self) -> str | None:
        return self._tokens.access_token if self._tokens is not None else None

    async def unauthorized(self, challenge: Challenge | None) -> str | None:
        found = await self._discover(challenge)
        refresh_token = self._tokens.refresh_token if self._tokens is not None else None
        if refresh_token and found.server is not None:
            try:
                return await self._refreshed(found, found.server, refresh_token)
            except ProviderError:
                self._tokens = None  # the grant is gone: authorize anew below
        scopes = self._configured_scopes or found.result.scopes
        return await self._authorize(found, scopes)

    async def insufficient_scope(self, challenge: Challenge) -> str | None:
        found = await self._discover(challenge)
        return await self._authorize(found, union(self._asked, challenge.scopes))

    async def _discover(self, challenge: Challenge | None) -> Found:
        """What the challenge points at; the earlier discovery when it points at the same metadata."""
        known = self._found
        if known is not None and (
            challenge is None
            or not challenge.resource_metadata
            or challenge.resource_metadata == known.result.resource_metadata_url
        ):
            return known
        self._found = await self._discoverer.find(self._endpoint, self._policy, challenge=challenge)
        return self._found

    def _mode_for(self, found: Found) -> AuthMode:
        """The configured mode; without one, what discovery recommends."""
        return self._mode or found.result.recommended_auth_mode

    async def _client(
        self, found: Found, server: AuthorizationServer, scopes: tuple[str, ...]
    ) -> Registration:
        mode = self._mode_for(found)
        registration = self._registration
        if registration is not None and registration.issuer == server.issuer:
            return registration
        if self._client_id:
            registration = given(server, self._client_id, self._client_secret)
        else:
            grants = (
                ("client_credentials",)
                if mode is AuthMode.CLIENT_CREDENTIALS
                else ("authorization_code", "refresh_token")
            )
            registration = await self._registrar.register(
                server,
                self._policy,
                confidential=mode is not AuthMode.AUTHORIZATION_CODE,
                grant_types=grants,
                scopes=scopes,
            )
        self._registration = registration
        return registration

    async def _authorize(self, found: Found, scopes: tuple[str, ...]) -> str | None:
        server = found.server
        if server is None:
            return None
        registration = await self._client(found, server, scopes)
        resource = found.result.resource
        self._asked = scopes
        if self._mode_for(found) is AuthMode.CLIENT_CREDENTIALS:
            self._tokens = await self._oauth.client_credentials(
                server, registration, resource=resource, scopes=scopes, policy=self._policy
            )
            return self._tokens.access_token
        if self._user_agent is None:
            return None
        url, pending = self._oauth.start(
            server,
            registration,
            redirect_uri=self._registrar.profile.redirect_uri,
            resource=resource,
            scopes=scopes,
        )
        params = await self._user_agent(url)
        self._tokens = await self._oauth.finish(server, registration, pending, params, self._policy)
        return self._tokens.access_token

    async def _refreshed(self, found: Found, server: AuthorizationServer, refresh_token: str) -> str:
        registration = await self._client(found, server, self._asked)
        fresh = await self._oauth.refresh(
            server,
            registration,
            refresh_token,
            resource=found.result.resource,
            policy=self._policy,
        )
        if fresh.refresh_token is None:  # the server keeps the refresh token as it was
            fresh = msgspec.structs.replace(fresh, refresh_token=refresh_token)
        self._tokens = fresh
        return fresh.access_token
