"""Switchboard as an OAuth 2.0 client of third-party apps.

RFC 6749 §4.1 (authorization code) with RFC 7636 PKCE S256, §6 (refresh), §4.4 (client credentials),
RFC 8693 (token exchange), RFC 7009 (revocation), RFC 8707 (``resource``), RFC 9207 (``iss`` is checked by
the grant service). Requests go out with httpx, through the outbound policy that every request on a
builder's behalf follows (``remote.network``: https to public addresses, checked on the address connected
to, unless an admin allowed the connection's origin onto private addresses); every failure becomes a
``ProviderError`` whose message names the app and what went wrong, and never holds a token or secret.

Client authentication (RFC 6749 §2.3.1): the configured method is tried first; when the app refuses it
with ``invalid_client`` the other of client_secret_basic / client_secret_post is tried once, and the one
that worked is remembered for that token endpoint.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import msgspec

from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.models import TokenSet
from switchboard.connectors.remote.network import Network, allowed_on_connection_or_server
from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.platform.core.safe_fetch import FetchRefused, GuardedClient, Refusal, TrustedOrigin

log = logging.getLogger("switchboard.connectors")

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
MAX_RESPONSE_BYTES = 256 * 1024
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


class Endpoints(msgspec.Struct, frozen=True, kw_only=True):
    """An app's OAuth endpoints for one connection (URL templates already filled in)."""

    app_name: str
    token_url: str
    authorize_url: str = ""
    revocation_url: str = ""
    userinfo_url: str = ""
    issuer: str = ""
    scope_separator: str = " "
    extra_authorize_params: dict[str, str] = {}
    auth_method: AuthMethod = "client_secret_basic"
    resource: str = ""
    require_iss: bool = False


class ClientCredentials(msgspec.Struct, frozen=True):
    client_id: str
    client_secret: str = ""


class ProviderClient:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        trusted: TrustedOrigin | None = None,
    ) -> None:
        """``transport`` replaces the network altogether (a remote server's guarded one; tests' faults);
        ``trusted`` says which origins an admin allowed onto private addresses (by default: those allowed
        on a connection, and a remote server's token and revocation endpoints)."""
        self._http = GuardedClient(
            timeout=timeout,
            transport=transport or Network().app_transport(trusted or allowed_on_connection_or_server),
            follow_redirects=False,
            headers={"Accept": "application/json"},
            # One client serves every user: it must never keep an app's cookies between their requests.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            trust_env=False,
        )
        self._timeout = timeout
        self._working_method: dict[str, AuthMethod] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def exchange_code(
        self, endpoints: Endpoints, client: ClientCredentials, *, code: str, redirect_uri: str, verifier: str
    ) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        form["code_verifier"] = verifier
        return await self._token(endpoints, client, form)

    async def refresh(self, endpoints: Endpoints, client: ClientCredentials, refresh_token: str) -> TokenSet:
        return await self._token(
            endpoints, client, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def client_credentials(
        self, endpoints: Endpoints, client: ClientCredentials, scopes: tuple[str, ...]
    ) -> TokenSet:
        form = {"grant_type": "client_credentials"}
        if scopes:
            form["scope"] = endpoints.scope_separator.join(scopes)
        return await self._token(endpoints, client, form)

    async def token_exchange(
        self,
        endpoints: Endpoints,
        client: ClientCredentials,
        *,
        subject_token: str,
        audience: str,
        scopes: tuple[str, ...],
        requested_token_type: str,
    ) -> TokenSet:
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "requested_token_type": requested_token_type,
        }
        if audience:
            form["audience"] = audience
        if scopes:
            form["scope"] = endpoints.scope_separator.join(scopes)
        return await self._token(endpoints, client, form)

    async def revoke(self, endpoints: Endpoints, client: ClientCredentials, token: str, hint: str) -> None:
        """RFC 7009. Raises ProviderError when the app cannot be reached or refuses."""
        if not endpoints.revocation_url:
            return
        form = {"token": token, "token_type_hint": hint}
        response = await self._post(endpoints, endpoints.revocation_url, client, form, what="revocation")
        if response.status_code != httpx.codes.OK:
            raise _refusal(endpoints, response, "revoke the tokens")

    async def account_label(self, endpoints: Endpoints, access_token: str, paths: tuple[str, ...]) -> str:
        """Which account was connected, from the app's userinfo; empty when the app does not say."""
        if not endpoints.userinfo_url:
            return ""
        try:
            response = await self._http.get(
                endpoints.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
            )
            data = load_json(response.content) if response.status_code == httpx.codes.OK else None
        except FetchRefused as refused:
            log.info("userinfo of %s was not asked for: %s", endpoints.app_name, refused.detail)
            return ""
        except (httpx.HTTPError, ValueError):
            log.info("userinfo of %s could not be read", endpoints.app_name)
            return ""
        for path in paths:
            value = _dig(data, path)
            if isinstance(value, str | int) and str(value):
                return str(value)[:254]
        return ""

    async def _token(self, endpoints: Endpoints, client: ClientCredentials, form: dict[str, str]) -> TokenSet:
        if endpoints.resource:
            form = {**form, "resource": endpoints.resource}
        response = await self._post(endpoints, endpoints.token_url, client, form, what="token")
        if response.status_code != httpx.codes.OK:
            raise _refusal(endpoints, response, "issue tokens")
        return _token_set(endpoints, response)

    async def _post(
        self, endpoints: Endpoints, url: str, client: ClientCredentials, form: dict[str, str], *, what: str
    ) -> httpx.Response:
        first = self._working_method.get(url, endpoints.auth_method)
        response = await self._send(endpoints, url, client, form, first, what)
        if client.client_secret and _is_client_refusal(response):
            other: AuthMethod = (
                "client_secret_post" if first == "client_secret_basic" else "client_secret_basic"
            )
            retry = await self._send(endpoints, url, client, form, other, what)
            if not _is_client_refusal(retry):
                self._working_method[url] = other
                return retry
        return response

    async def _send(
        self,
        endpoints: Endpoints,
        url: str,
        client: ClientCredentials,
        form: dict[str, str],
        method: AuthMethod,
        what: str,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        body = dict(form)
        if client.client_secret and method == "client_secret_basic":
            pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            body["client_id"] = client.client_id
            if client.client_secret:
                body["client_secret"] = client.client_secret
        try:
            async with self._http.stream("POST", url, data=body, headers=headers) as response:
                content = b""
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_RESPONSE_BYTES:
                        raise ProviderError(
                            f"{endpoints.app_name}'s {what} endpoint sent an answer that is too large.",
                            problem="malformed",
                        )
                return httpx.Response(response.status_code, headers=response.headers, content=content)
        except FetchRefused as refused:
            raise _policy_refusal(endpoints, url, what, refused) from None
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"{endpoints.app_name} did not answer within {self._timeout:g} s at its {what} endpoint; "
                "try again in a moment.",
                problem="unreachable",
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"{endpoints.app_name}'s {what} endpoint cannot be reached ({type(exc).__name__}).",
                problem="unreachable",
            ) from exc


def _policy_refusal(endpoints: Endpoints, url: str, what: str, refused: FetchRefused) -> ProviderError:
    """The outbound policy refused the request before anything connected: say why, and who can change it."""
    app = endpoints.app_name
    where = _without_query(url)
    if refused.reason is Refusal.UNRESOLVABLE:
        return ProviderError(
            f"{app}'s {what} endpoint cannot be reached at {where}: {refused.detail}.", problem="unreachable"
        )
    log.info("a %s request of %s to %s was refused: %s", what, app, where, refused.detail)
    hint = "; only an admin can allow it onto private addresses" if refused.waivable else ""
    return ProviderError(
        f"{app}'s {what} endpoint was not called at {where}: {refused.detail}{hint}.", problem="refused"
    )


def _without_query(url: str) -> str:
    """A URL for a message: no query or fragment (they may hold a key), no user name or password."""
    scheme, separator, rest = url.partition("://")
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    authority, slash, path = rest.partition("/")
    return f"{scheme}{separator}{authority.rpartition('@')[2]}{slash}{path}"[:200]


def authorization_url(
    endpoints: Endpoints,
    client: ClientCredentials,
    *,
    redirect_uri: str,
    scopes: tuple[str, ...],
    state: str,
    code_challenge: str,
) -> str:
    """RFC 6749 §4.1.1 with PKCE (RFC 7636 §4.3) and, when the endpoints name one, ``resource``."""
    params = {
        **endpoints.extra_authorize_params,
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if scopes:
        params["scope"] = endpoints.scope_separator.join(scopes)
    if endpoints.resource:
        params["resource"] = endpoints.resource
    return _with_query(endpoints.authorize_url, params)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _body(response: httpx.Response) -> dict[str, Any] | None:
    """The answer as a mapping: JSON, or form-encoded (some apps still answer that way)."""
    content_type = response.headers.get("content-type", "")
    try:
        if "application/x-www-form-urlencoded" in content_type or "text/plain" in content_type:
            return dict(parse_qsl(response.text))
        data = load_json(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _is_client_refusal(response: httpx.Response) -> bool:
    if response.status_code not in {400, 401}:
        return False
    body = _body(response) or {}
    return response.status_code == httpx.codes.UNAUTHORIZED or body.get("error") == "invalid_client"


def _refusal(endpoints: Endpoints, response: httpx.Response, doing: str) -> ProviderError:
    app = endpoints.app_name
    if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
        return ProviderError(
            f"{app} failed to {doing} (HTTP {response.status_code}); try again in a moment.",
            problem="server_error",
        )
    body = _body(response) or {}
    error = str(body.get("error", ""))[:100]
    description = str(body.get("error_description", ""))[:300]
    detail = f"{error}: {description}" if error and description else error or f"HTTP {response.status_code}"
    if error == "invalid_grant":
        return ProviderError(
            f"{app} no longer accepts this grant ({detail}); connect again.",
            problem="invalid_grant",
            oauth_error=error,
        )
    if error == "invalid_client" or response.status_code == httpx.codes.UNAUTHORIZED:
        return ProviderError(
            f"{app} refused the connection's client ID or secret ({detail}); check them in the connection.",
            problem="invalid_client",
            oauth_error=error or "invalid_client",
        )
    return ProviderError(f"{app} refused to {doing} ({detail}).", problem="refused", oauth_error=error)


def _token_set(endpoints: Endpoints, response: httpx.Response) -> TokenSet:
    body = _body(response)
    access_token = body.get("access_token") if body else None
    if body and "error" in body:  # some apps (GitHub) report refusals with HTTP 200
        raise _refusal(endpoints, response, "issue tokens")
    if not body or not isinstance(access_token, str) or not access_token:
        raise ProviderError(
            f"{endpoints.app_name}'s token endpoint answered without an access token; "
            "check the connector's token URL.",
            problem="malformed",
        )
    refresh_token = body.get("refresh_token")
    return TokenSet(
        access_token=access_token,
        token_type=str(body.get("token_type") or "Bearer"),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_at=_expiry(body.get("expires_in")),
        scope=_scope_text(body.get("scope")),
    )


def _scope_text(scope: Any) -> str | None:
    """Granted scopes, space-separated whether the app used spaces, commas or a JSON list."""
    if isinstance(scope, list):
        scope = " ".join(str(item) for item in scope)
    if not isinstance(scope, str) or not scope.strip():
        return None
    return " ".join(scope.replace(",", " ").split())


def _expiry(expires_in: Any) -> datetime | None:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return datetime.now(UTC) + timedelta(seconds=max(seconds, 0))


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
