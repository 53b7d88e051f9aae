"""Discovering how a remote MCP server is protected, from nothing but its URL.

1. An unauthenticated ``initialize`` to the endpoint. Any answer but 401 means no authorization is needed.
2. On 401, the ``WWW-Authenticate: Bearer`` challenge: ``resource_metadata`` and ``scope``.
3. Protected resource metadata (RFC 9728): the challenge's URL, else path-based, else at the root. Its
   ``resource`` must be the endpoint (or a parent path of it on the same origin).
4. Authorization server metadata for its first authorization server (RFC 8414 with path insertion, then
   the OpenID Connect forms). Its ``issuer`` must be that server exactly.

A server that answers 401 but publishes no protected resource metadata is taken, as the 2025-03-26
revision did, to be its own authorization server.

Every URL is fetched under the server's network policy (``network.Network``), so metadata cannot point
Switchboard at private addresses unless an admin allowed them; every URL a document names is checked as the
fetcher checks URLs before it is used or kept, so a malformed one is refused naming the document.
"""

from __future__ import annotations

import contextlib
import enum

import httpx
import msgspec

from switchboard.connectors.remote.metadata import (
    AuthorizationServer,
    Challenge,
    ProtectedResource,
    authorization_server_urls,
    bearer_challenge,
    origin_of,
    protected_resource_urls,
    read_document,
    resource_covers,
    same_issuer,
)
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, Refusal, checked_url

PROTOCOL_VERSION = "2025-11-25"
_PROBE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "Switchboard", "version": "1"},
    },
}
# Refusals that say "this URL is not where the document is": try the next place.
_NOT_HERE = frozenset({Refusal.STATUS, Refusal.NOT_JSON})
# The URLs of authorization server metadata that Switchboard sends requests (or people) to.
_SERVER_URLS = ("authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint")


class AuthMode(enum.StrEnum):
    """How Switchboard authenticates to a remote MCP server."""

    NONE = "none"
    TOKEN = "token"
    CLIENT_CREDENTIALS = "oauth_client_credentials"
    AUTHORIZATION_CODE = "oauth_authorization_code"  # PKCE, public client
    AUTHORIZATION_CODE_CONFIDENTIAL = "oauth_authorization_code_confidential"  # PKCE, client secret

    @property
    def is_oauth(self) -> bool:
        return self.value.startswith("oauth_")

    @property
    def label(self) -> str:
        return {
            "none": "None",
            "token": "Token (static bearer or header)",
            "oauth_client_credentials": "OAuth client credentials",
            "oauth_authorization_code": "OAuth authorization code with PKCE (public client)",
            "oauth_authorization_code_confidential": (
                "OAuth authorization code with PKCE (confidential client)"
            ),
        }[self.value]


class DiscoveryFailed(InvalidInput):
    """Discovery could not finish, or found something Switchboard must not trust; the message says which."""

    code = "discovery_failed"

    def __init__(self, message: str, *, waivable: bool = False) -> None:
        super().__init__(message, field="endpoint")
        # An admin's allowance of private addresses would have let the probe through.
        self.waivable = waivable


class DiscoveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """What discovery found; empty strings and lists where the server said nothing."""

    endpoint: str
    requires_auth: bool
    recommended_auth_mode: AuthMode
    resource: str = ""
    resource_metadata_url: str = ""
    authorization_servers: tuple[str, ...] = ()
    issuer: str = ""
    auth_url: str = ""
    token_url: str = ""
    register_url: str = ""
    revocation_url: str = ""
    scopes: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()
    grant_types_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    pkce_s256_supported: bool = False
    client_id_metadata_document_supported: bool = False
    iss_parameter_supported: bool = False
    warnings: tuple[str, ...] = ()


class Found(msgspec.Struct, frozen=True, kw_only=True):
    """The documents behind a ``DiscoveryResult``, for the OAuth client."""

    result: DiscoveryResult
    server: AuthorizationServer | None = None


class Discoverer:
    def __init__(self, network: Network) -> None:
        self._network = network

    async def discover(self, endpoint: str, policy: NetworkPolicy) -> DiscoveryResult:
        """Raises DiscoveryFailed with what went wrong and what to do about it."""
        return (await self.find(endpoint, policy)).result

    async def find(
        self, endpoint: str, policy: NetworkPolicy, *, challenge: Challenge | None = None
    ) -> Found:
        """Discovery, from a challenge already received (a 401 or 403 to a real request) or by probing."""
        warnings: list[str] = []
        if challenge is None:
            challenge, requires_auth = await self._probe(endpoint, policy)
            if not requires_auth:
                result = DiscoveryResult(
                    endpoint=endpoint, requires_auth=False, recommended_auth_mode=AuthMode.NONE
                )
                return Found(result=result)
        resource, resource_url = await self._protected_resource(endpoint, policy, challenge, warnings)
        if resource is not None and resource.authorization_servers:
            issuer = resource.authorization_servers[0]
            _check_named(
                issuer, f"The protected resource metadata at {resource_url} names an authorization server"
            )
        else:
            issuer = origin_of(endpoint)
            if resource is None:
                warnings.append(
                    "The server publishes no protected resource metadata (RFC 9728); its own origin was "
                    "tried as the authorization server, as in the 2025-03-26 revision."
                )
        server = await self._authorization_server(issuer, policy, has_resource=resource is not None)
        scopes = challenge.scopes if challenge is not None and challenge.scopes else ()
        if not scopes and resource is not None:
            scopes = resource.scopes_supported
        result = _result(endpoint, challenge, resource, resource_url, server, scopes, warnings)
        return Found(result=result, server=server)

    async def _probe(self, endpoint: str, policy: NetworkPolicy) -> tuple[Challenge | None, bool]:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        try:
            async with self._network.client(policy) as client:
                async with client.stream("POST", endpoint, json=_PROBE, headers=headers) as response:
                    status = response.status_code
                    challenge = bearer_challenge(response.headers.get("www-authenticate"))
                    session = response.headers.get("mcp-session-id")
                if session and status < 300:  # be tidy: end the session the probe opened
                    await _end_session(client, endpoint, session)
        except FetchRefused as refused:
            raise DiscoveryFailed(refused.message, waivable=refused.waivable) from None
        except httpx.TimeoutException:
            raise DiscoveryFailed(f"{endpoint} did not answer in time; check the URL.") from None
        except httpx.HTTPError as error:
            raise DiscoveryFailed(f"{endpoint} could not be reached ({type(error).__name__}).") from None
        if status == httpx.codes.UNAUTHORIZED:
            return challenge, True
        if status in (404, 405) or status >= 500:
            raise DiscoveryFailed(
                f"{endpoint} answered an MCP initialize request with HTTP {status}; "
                "check that this is the server's MCP endpoint URL."
            )
        return challenge, status == httpx.codes.FORBIDDEN

    async def _protected_resource(
        self, endpoint: str, policy: NetworkPolicy, challenge: Challenge | None, warnings: list[str]
    ) -> tuple[ProtectedResource | None, str]:
        candidates = protected_resource_urls(endpoint)
        if challenge is not None and challenge.resource_metadata:
            candidates = [challenge.resource_metadata, *candidates]
        for url in dict.fromkeys(candidates):
            data = await self._document(url, policy)
            if data is None:
                continue
            resource = read_document(data, ProtectedResource)
            if resource is None or not resource.resource:
                warnings.append(f"{url} is not protected resource metadata (it names no resource); skipped.")
                continue
            if not resource_covers(resource.resource, endpoint):
                raise DiscoveryFailed(
                    f"The protected resource metadata at {url} is for {resource.resource!r}, not for "
                    f"{endpoint}; Switchboard will not send tokens for it. Check the server URL."
                )
            return resource, url
        return None, ""

    async def _authorization_server(
        self, issuer: str, policy: NetworkPolicy, *, has_resource: bool
    ) -> AuthorizationServer:
        tried = authorization_server_urls(issuer)
        for url in tried:
            data = await self._document(url, policy)
            if data is None:
                continue
            server = read_document(data, AuthorizationServer)
            if server is None:
                raise DiscoveryFailed(f"The authorization server metadata at {url} is malformed.")
            if not same_issuer(server.issuer, issuer):
                raise DiscoveryFailed(
                    f"The authorization server metadata at {url} names the issuer {server.issuer!r}, "
                    f"not {issuer!r}; Switchboard will not trust it (RFC 8414 §3.3)."
                )
            for member in _SERVER_URLS:
                value = getattr(server, member)
                if value:
                    _check_named(value, f"The authorization server metadata at {url} names a {member}")
            return server
        if has_resource:
            detail = f"Its authorization server {issuer} publishes no metadata (tried {', '.join(tried)})."
        else:
            detail = (
                "It publishes no protected resource metadata, and its origin no authorization server "
                f"metadata (tried {', '.join(tried)})."
            )
        raise DiscoveryFailed(
            f"The server requires authorization, but Switchboard cannot find out how. {detail} "
            "Enter the authorization and token URLs yourself, or use a token."
        )

    async def _document(self, url: str, policy: NetworkPolicy) -> object | None:
        """The JSON at ``url``; None when nothing is there. Refusals for the URL itself are errors."""
        try:
            data: object = (await self._network.fetcher(policy).get_json(url)).data
            return data
        except FetchRefused as refused:
            if refused.reason in _NOT_HERE:
                return None
            raise DiscoveryFailed(refused.message) from None


def _check_named(url: str, named: str) -> None:
    """A URL a document names, checked as the fetcher checks URLs (the address waits for the request)."""
    try:
        checked_url(url, FetchPolicy(require_https=False))
    except FetchRefused as refused:
        raise DiscoveryFailed(f"{named} that cannot be used ({url[:200]}: {refused.detail}).") from None


async def _end_session(client: httpx.AsyncClient, endpoint: str, session: str) -> None:
    with contextlib.suppress(httpx.HTTPError, FetchRefused):
        await client.delete(endpoint, headers={"Mcp-Session-Id": session})


def _result(
    endpoint: str,
    challenge: Challenge | None,
    resource: ProtectedResource | None,
    resource_url: str,
    server: AuthorizationServer,
    scopes: tuple[str, ...],
    warnings: list[str],
) -> DiscoveryResult:
    if not server.supports_s256:
        warnings.append(
            "The authorization server does not advertise PKCE S256 (code_challenge_methods_supported); "
            "Switchboard will not use its authorization code grant."
        )
    if not server.registration_endpoint and not server.client_id_metadata_document_supported:
        warnings.append(
            "The authorization server supports neither dynamic registration nor client ID metadata "
            "documents: enter a client ID (and secret) registered with it."
        )
    return DiscoveryResult(
        endpoint=endpoint,
        requires_auth=True,
        recommended_auth_mode=_recommended(server),
        resource=resource.resource if resource is not None else endpoint,
        resource_metadata_url=resource_url,
        authorization_servers=resource.authorization_servers if resource is not None else (server.issuer,),
        issuer=server.issuer,
        auth_url=server.authorization_endpoint,
        token_url=server.token_endpoint,
        register_url=server.registration_endpoint,
        revocation_url=server.revocation_endpoint,
        scopes=scopes,
        scopes_supported=resource.scopes_supported if resource is not None else server.scopes_supported,
        grant_types_supported=server.grant_types_supported,
        token_endpoint_auth_methods_supported=server.token_endpoint_auth_methods_supported,
        pkce_s256_supported=server.supports_s256,
        client_id_metadata_document_supported=server.client_id_metadata_document_supported,
        iss_parameter_supported=server.authorization_response_iss_parameter_supported,
        warnings=tuple(warnings),
    )


def _recommended(server: AuthorizationServer) -> AuthMode:
    grants = set(server.grant_types_supported)
    if "authorization_code" in grants and server.supports_s256 and server.authorization_endpoint:
        methods = set(server.token_endpoint_auth_methods_supported)
        if "none" in methods or server.client_id_metadata_document_supported:
            return AuthMode.AUTHORIZATION_CODE
        return AuthMode.AUTHORIZATION_CODE_CONFIDENTIAL
    if "client_credentials" in grants:
        return AuthMode.CLIENT_CREDENTIALS
    return AuthMode.TOKEN
