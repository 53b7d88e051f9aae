"""Switchboard registering itself as a client of a remote MCP server's authorization server.

In order: a client ID (and secret) an admin entered is used as given; else, for a public client, a client
ID metadata document (Switchboard's own, at a stable https URL) when the server accepts them; else dynamic
registration (RFC 7591) — public clients as ``none``, confidential ones with the server's supported
methods in the order client_secret_basic, client_secret_post, none, moving to the next when the server
refuses one. A registration is bound to the issuer it was made with: when the issuer changes, it is made
again.
"""

from __future__ import annotations

from typing import Literal

import httpx
import msgspec

from switchboard.connectors.remote.metadata import AuthorizationServer
from switchboard.connectors.remote.network import Network, NetworkPolicy, send
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.platform.core.safe_fetch import FetchRefused

CLIENT_METADATA_PATH = "/oauth/client-metadata.json"  # Switchboard's client ID metadata document
TokenAuthMethod = Literal["none", "client_secret_basic", "client_secret_post"]
_CONFIDENTIAL_ORDER: tuple[TokenAuthMethod, ...] = ("client_secret_basic", "client_secret_post", "none")


class RegistrationFailed(InvalidInput):
    code = "registration_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="client_id")


class Registration(msgspec.Struct, frozen=True, kw_only=True):
    """Switchboard's client at one authorization server. ``client_secret`` is stored encrypted."""

    issuer: str
    client_id: str
    client_secret: str = ""
    auth_method: TokenAuthMethod = "none"
    how: Literal["given", "metadata_document", "dynamic"] = "given"


class ClientProfile(msgspec.Struct, frozen=True, kw_only=True):
    """How Switchboard describes itself to authorization servers."""

    name: str
    redirect_uri: str
    metadata_document_url: str = ""  # empty: Switchboard's base URL is not https, so it cannot use one


def given(
    server: AuthorizationServer, client_id: str, client_secret: str = "", method: str = ""
) -> Registration:
    """A pre-registered client; its method is the one named, else the server's first that fits."""
    if method in ("none", "client_secret_basic", "client_secret_post"):
        chosen: TokenAuthMethod = method  # type: ignore[assignment]
    elif not client_secret:
        chosen = "none"
    else:
        supported = server.token_endpoint_auth_methods_supported
        chosen = next((m for m in _CONFIDENTIAL_ORDER[:2] if m in supported), "client_secret_basic")
    return Registration(
        issuer=server.issuer, client_id=client_id, client_secret=client_secret, auth_method=chosen
    )


class Registrar:
    def __init__(self, network: Network, profile: ClientProfile) -> None:
        self._network = network
        self._profile = profile

    @property
    def profile(self) -> ClientProfile:
        return self._profile

    async def register(
        self,
        server: AuthorizationServer,
        policy: NetworkPolicy,
        *,
        confidential: bool,
        grant_types: tuple[str, ...] = ("authorization_code", "refresh_token"),
        scopes: tuple[str, ...] = (),
    ) -> Registration:
        """Raises RegistrationFailed saying what to enter instead when nothing works."""
        document_url = self._profile.metadata_document_url
        if not confidential and server.client_id_metadata_document_supported and document_url:
            return Registration(
                issuer=server.issuer, client_id=document_url, auth_method="none", how="metadata_document"
            )
        if not server.registration_endpoint:
            raise RegistrationFailed(self._enter_instead(server, "has no registration endpoint"))
        if confidential:
            supported = server.token_endpoint_auth_methods_supported
            methods = [m for m in _CONFIDENTIAL_ORDER if m in supported] or list(_CONFIDENTIAL_ORDER[:2])
        else:
            methods = ["none"]
        refusals: list[str] = []
        for method in methods:
            registration = await self._dynamic(server, policy, method, grant_types, scopes, refusals)
            if registration is not None:
                return registration
        raise RegistrationFailed(
            self._enter_instead(server, f"refused dynamic registration ({'; '.join(refusals)})")
        )

    async def _dynamic(
        self,
        server: AuthorizationServer,
        policy: NetworkPolicy,
        method: TokenAuthMethod,
        grant_types: tuple[str, ...],
        scopes: tuple[str, ...],
        refusals: list[str],
    ) -> Registration | None:
        body: dict[str, object] = {
            "client_name": self._profile.name,
            "grant_types": list(grant_types),
            "token_endpoint_auth_method": method,
            "application_type": "web",
        }
        if "authorization_code" in grant_types:
            body["redirect_uris"] = [self._profile.redirect_uri]
            body["response_types"] = ["code"]
        if scopes:
            body["scope"] = " ".join(scopes)
        url = server.registration_endpoint
        try:
            async with self._network.client(policy) as client:
                response = await send(client, "POST", url, json=body, headers={"Accept": "application/json"})
        except FetchRefused as refused:
            raise RegistrationFailed(refused.message) from None
        except httpx.HTTPError as error:
            raise RegistrationFailed(
                f"The registration endpoint {url} could not be reached ({type(error).__name__}); "
                "try again, or enter a client ID and secret."
            ) from None
        data = _json(response)
        if response.status_code not in (200, 201):
            oauth_error = str(data.get("error", "")) if data else ""
            description = str(data.get("error_description", "")) if data else ""
            reason = oauth_error or f"HTTP {response.status_code}"
            refusals.append(f"{method}: {reason}, {description}" if description else f"{method}: {reason}")
            return None
        client_id = data.get("client_id") if data else None
        if not isinstance(client_id, str) or not client_id:
            raise RegistrationFailed(f"The registration endpoint {url} answered without a client_id.")
        secret = data.get("client_secret") if data else None
        answered = data.get("token_endpoint_auth_method") if data else None
        chosen = answered if answered in ("none", "client_secret_basic", "client_secret_post") else method
        if chosen != "none" and not isinstance(secret, str):
            chosen = "none"
        return Registration(
            issuer=server.issuer,
            client_id=client_id,
            client_secret=secret if isinstance(secret, str) and chosen != "none" else "",
            auth_method=chosen,
            how="dynamic",
        )

    def _enter_instead(self, server: AuthorizationServer, problem: str) -> str:
        return (
            f"The authorization server {server.issuer} {problem}: enter a client ID and secret registered "
            f"with it, with the redirect URI {self._profile.redirect_uri}."
        )


def _json(response: httpx.Response) -> dict[str, object] | None:
    try:
        data = load_json(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
