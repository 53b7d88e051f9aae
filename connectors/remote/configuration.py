"""A remote server's auth settings, completed from discovery, and Switchboard's client at its
authorization server, as the MCP authorization specification describes.

Whatever the builder left out comes from discovery (``discovery``): the recommended mode, the resource
and scopes from the protected resource metadata (RFC 9728), the endpoints from the authorization server
metadata (RFC 8414); URLs the builder entered take the place of those published. For the OAuth modes,
Switchboard's client is the one given, else the registration made before with the same issuer, else a new
one: a client ID metadata document or dynamic client registration (RFC 7591; see ``registration``).
The authorization code grant needs PKCE S256.
"""

from __future__ import annotations

from typing import Any

import msgspec

from switchboard.connectors.connections.models import union
from switchboard.connectors.remote.discovery import AuthMode, Discoverer, DiscoveryFailed, DiscoveryResult
from switchboard.connectors.remote.metadata import AuthorizationServer, origin_of
from switchboard.connectors.remote.models import AuthInput
from switchboard.connectors.remote.network import NetworkPolicy
from switchboard.connectors.remote.registration import Registrar, Registration, RegistrationFailed, given
from switchboard.connectors.remote.store import StoredSecrets
from switchboard.platform.core.errors import InvalidInput

Configured = tuple[dict[str, Any], StoredSecrets, Registration | None, tuple[str, ...]]
"""The settings to store, the secrets to seal, the client to use, and warnings for the builder."""


class AuthConfigurator:
    def __init__(self, discoverer: Discoverer, registrar: Registrar) -> None:
        self._discoverer = discoverer
        self._registrar = registrar

    async def configure(
        self, endpoint: str, auth: AuthInput, policy: NetworkPolicy, previous: Registration | None
    ) -> Configured:
        """Settings with every missing field filled from discovery, and the client to use."""
        result, server, discovery_problem = await self._discovered(endpoint, auth, policy)
        warnings = list(result.warnings if result else ())
        if discovery_problem:
            warnings.append(discovery_problem)
        mode = auth.mode or (result.recommended_auth_mode if result else AuthMode.NONE)
        if mode is AuthMode.TOKEN and not auth.token:
            raise InvalidInput("Enter the token the server expects.", field="auth.token")
        settings: dict[str, Any] = {
            "mode": mode.value,
            "header": auth.header if mode is AuthMode.TOKEN else "",
            "given_client_id": auth.client_id,
            "discovery": msgspec.to_builtins(result) if result else None,
        }
        registration: Registration | None = None
        if mode.is_oauth:
            server = _with_overrides(server, auth, endpoint)
            if not server.token_endpoint:
                raise InvalidInput(
                    f"{discovery_problem or 'The server publishes no token endpoint.'} Enter the token URL.",
                    field="auth.token_url",
                )
            if mode is not AuthMode.CLIENT_CREDENTIALS and not server.authorization_endpoint:
                raise InvalidInput("Enter the authorization URL.", field="auth.auth_url")
            if mode is not AuthMode.CLIENT_CREDENTIALS and not server.supports_s256:
                raise InvalidInput(
                    f"{server.issuer} does not advertise PKCE S256, which Switchboard requires for the "
                    "authorization code grant; use a token or client credentials.",
                    field="auth.mode",
                )
            scopes = auth.scopes if auth.scopes is not None else (result.scopes if result else ())
            # Registered for every scope the server names, so a later step-up may ask for more.
            usable = union(scopes, result.scopes_supported if result else ())
            registration = await self._client(server, mode, auth, policy, previous, usable)
            settings.update(
                scopes=list(scopes),
                auth_url=server.authorization_endpoint,
                token_url=server.token_endpoint,
                register_url=server.registration_endpoint,
                revocation_url=server.revocation_endpoint,
                resource=auth.resource or (result.resource if result else "") or endpoint,
                issuer=server.issuer,
                iss_parameter_supported=server.authorization_response_iss_parameter_supported,
                token_endpoint_auth_method=registration.auth_method,
                registered=registration.how,
            )
        secrets = StoredSecrets(
            token=auth.token if mode is AuthMode.TOKEN else "",
            client_secret=auth.client_secret if auth.client_id else "",
        )
        return settings, secrets, registration, tuple(warnings)

    async def _discovered(
        self, endpoint: str, auth: AuthInput, policy: NetworkPolicy
    ) -> tuple[DiscoveryResult | None, AuthorizationServer | None, str]:
        """Discovery's answer; when it fails but the settings given are enough, its error as a warning."""
        try:
            found = await self._discoverer.find(endpoint, policy)
        except DiscoveryFailed as failed:
            enough = auth.mode is not None and (
                not auth.mode.is_oauth or (bool(auth.token_url) and bool(auth.client_id))
            )
            if not enough:
                raise
            return None, None, failed.message
        return found.result, found.server, ""

    async def _client(
        self,
        server: AuthorizationServer,
        mode: AuthMode,
        auth: AuthInput,
        policy: NetworkPolicy,
        previous: Registration | None,
        scopes: tuple[str, ...],
    ) -> Registration:
        if auth.client_id:
            return given(server, auth.client_id, auth.client_secret)
        if previous is not None and previous.issuer == server.issuer and previous.how != "given":
            return previous  # still registered with this issuer
        grants = (
            ("client_credentials",)
            if mode is AuthMode.CLIENT_CREDENTIALS
            else ("authorization_code", "refresh_token")
        )
        try:
            return await self._registrar.register(
                server,
                policy,
                confidential=mode is not AuthMode.AUTHORIZATION_CODE,
                grant_types=grants,
                scopes=scopes,
            )
        except RegistrationFailed as failed:
            raise InvalidInput(failed.message, field="auth.client_id") from None


def _with_overrides(
    server: AuthorizationServer | None, auth: AuthInput, endpoint: str
) -> AuthorizationServer:
    """Discovery's authorization server, with the URLs the builder entered in place of its own."""
    base = server or AuthorizationServer(
        issuer=origin_of(auth.token_url or endpoint), code_challenge_methods_supported=("S256",)
    )
    return msgspec.structs.replace(
        base,
        authorization_endpoint=auth.auth_url or base.authorization_endpoint,
        token_endpoint=auth.token_url or base.token_endpoint,
        registration_endpoint=auth.register_url or base.registration_endpoint,
    )
