"""Switchboard getting tokens for a remote MCP server, as the MCP authorization specification asks.

- Authorization code grant with PKCE S256 only: a server that does not advertise S256 is refused.
- ``resource`` (RFC 8707) on the authorization request and on every token request.
- The callback must carry the ``state`` that was sent; ``iss`` (RFC 9207) must be the issuer, and must be
  present when the server advertises ``authorization_response_iss_parameter_supported``.
- A registration made with another issuer is never used (the caller registers again).
- Scopes: from the challenge, else the resource's ``scopes_supported``, else none; on
  ``insufficient_scope`` the union of what was asked before and what the challenge names.

Token requests go through ``ProviderClient`` (client authentication, refusals in plain words) over the
server's guarded transport.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import msgspec
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from switchboard.connectors.connections.models import TokenSet
from switchboard.connectors.connections.provider import (
    ClientCredentials,
    Endpoints,
    ProviderClient,
    authorization_url,
)
from switchboard.connectors.remote.metadata import AuthorizationServer
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.registration import Registration
from switchboard.platform.core.errors import DomainError, InvalidInput

MAX_AUTHORIZATIONS = 3  # per request: a refresh or new authorization, and step-ups


class AuthorizationRefused(DomainError):
    """The authorization did not complete: refused by the server or the user, or its answer is not trusted."""

    code = "authorization_refused"
    status = 400


class PendingAuthorization(msgspec.Struct, frozen=True, kw_only=True):
    """What the callback is checked against; kept (encrypted) between starting and finishing."""

    state: str
    verifier: str
    redirect_uri: str
    resource: str
    scopes: tuple[str, ...]
    issuer: str


class RemoteOAuth:
    def __init__(self, network: Network) -> None:
        self._network = network
        self._providers: dict[NetworkPolicy, ProviderClient] = {}

    def start(
        self,
        server: AuthorizationServer,
        registration: Registration,
        *,
        redirect_uri: str,
        resource: str,
        scopes: tuple[str, ...],
    ) -> tuple[str, PendingAuthorization]:
        """The URL to send the user to, and what to keep for the callback."""
        _check_usable(server, registration)
        if not server.authorization_endpoint:
            raise InvalidInput(f"{server.issuer} has no authorization endpoint.", field="auth_url")
        verifier = secrets.token_urlsafe(48)
        pending = PendingAuthorization(
            state=secrets.token_urlsafe(24),
            verifier=verifier,
            redirect_uri=redirect_uri,
            resource=resource,
            scopes=scopes,
            issuer=server.issuer,
        )
        url = authorization_url(
            _endpoints(server, registration, resource),
            _credentials(registration),
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=pending.state,
            code_challenge=create_s256_code_challenge(verifier),
        )
        return url, pending

    async def finish(
        self,
        server: AuthorizationServer,
        registration: Registration,
        pending: PendingAuthorization,
        params: dict[str, str],
        policy: NetworkPolicy,
    ) -> TokenSet:
        """The tokens for the code in the callback's ``params``, after checking state and issuer."""
        if not secrets.compare_digest(params.get("state", ""), pending.state):
            raise AuthorizationRefused("The answer does not belong to this authorization (state mismatch).")
        check_issuer(params.get("iss"), server)
        if "error" in params:
            error = params["error"][:100]
            description = params.get("error_description", "")[:300]
            detail = f"{error}: {description}" if description else error
            raise AuthorizationRefused(f"{server.issuer} did not authorize Switchboard ({detail}).")
        code = params.get("code", "")
        if not code:
            raise AuthorizationRefused("The authorization server answered without a code.")
        _check_usable(server, registration)
        return await self._provider(policy).exchange_code(
            _endpoints(server, registration, pending.resource),
            _credentials(registration),
            code=code,
            redirect_uri=pending.redirect_uri,
            verifier=pending.verifier,
        )

    async def refresh(
        self,
        server: AuthorizationServer,
        registration: Registration,
        refresh_token: str,
        *,
        resource: str,
        policy: NetworkPolicy,
    ) -> TokenSet:
        _check_usable(server, registration, need_s256=False)
        return await self._provider(policy).refresh(
            _endpoints(server, registration, resource), _credentials(registration), refresh_token
        )

    async def client_credentials(
        self,
        server: AuthorizationServer,
        registration: Registration,
        *,
        resource: str,
        scopes: tuple[str, ...],
        policy: NetworkPolicy,
    ) -> TokenSet:
        _check_usable(server, registration, need_s256=False)
        return await self._provider(policy).client_credentials(
            _endpoints(server, registration, resource), _credentials(registration), scopes
        )

    def _provider(self, policy: NetworkPolicy) -> ProviderClient:
        provider = self._providers.get(policy)
        if provider is None:
            provider = self._providers[policy] = ProviderClient(transport=self._network.transport(policy))
        return provider

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()


def check_issuer(iss: str | None, server: AuthorizationServer) -> None:
    """RFC 9207 §2.4: simple string comparison with the issuer; required when the server advertises it."""
    if iss is None:
        if server.authorization_response_iss_parameter_supported:
            raise AuthorizationRefused(
                f"The answer does not name its issuer, though {server.issuer} says it always does "
                "(RFC 9207); nothing was stored."
            )
        return
    if iss != server.issuer:
        raise AuthorizationRefused(
            f"The answer came from {iss[:100]!r}, not from {server.issuer}; nothing was stored."
        )


def _check_usable(server: AuthorizationServer, registration: Registration, *, need_s256: bool = True) -> None:
    if registration.issuer != server.issuer:
        raise AuthorizationRefused(
            f"Switchboard's registration is with {registration.issuer}, but the server now uses "
            f"{server.issuer}; it must register again."
        )
    if need_s256 and not server.supports_s256:
        raise AuthorizationRefused(
            f"{server.issuer} does not advertise PKCE S256 (code_challenge_methods_supported), which "
            "Switchboard requires for the authorization code grant."
        )


def _endpoints(server: AuthorizationServer, registration: Registration, resource: str) -> Endpoints:
    return Endpoints(
        app_name=urlsplit(server.issuer).netloc or server.issuer,
        token_url=server.token_endpoint,
        authorize_url=server.authorization_endpoint,
        revocation_url=server.revocation_endpoint,
        issuer=server.issuer,
        auth_method="client_secret_post"
        if registration.auth_method == "client_secret_post"
        else "client_secret_basic",
        resource=resource,
    )


def _credentials(registration: Registration) -> ClientCredentials:
    secret = registration.client_secret if registration.auth_method != "none" else ""
    return ClientCredentials(registration.client_id, secret)
