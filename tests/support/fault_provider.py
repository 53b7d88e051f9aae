"""A third-party app's OAuth 2.0 server that misbehaves on request: for the tests of provider faults.

``FaultProvider`` serves real HTTP on a free port of 127.0.0.1 (uvicorn in a thread of its own, so sync
and async tests alike can use it, and a slow answer never blocks the test's event loop):

=================================================  =========================================================
``GET  /authorize``                                approves at once: redirects to ``redirect_uri`` with
                                                   ``code``, ``state`` and ``iss`` (RFC 9207)
``POST /token``                                    ``authorization_code`` (checks PKCE S256 and the
                                                   redirect URI), ``refresh_token`` (rotates),
                                                   ``client_credentials``, token exchange (RFC 8693)
``POST /revoke``                                   RFC 7009; revoking a refresh token revokes its access
                                                   tokens too
``GET  /userinfo``                                 ``sub``, ``email``, ``name`` of the account
``GET  /api/me``                                   a protected API: 200 for a live access token it issued,
                                                   else 401 ``invalid_token``
``GET  /.well-known/oauth-authorization-server``   RFC 8414 metadata
=================================================  =========================================================

Token, revocation and authorize requests need the client's credentials, by ``client_secret_basic`` or
``client_secret_post`` alike (unless a fault refuses one). Each endpoint has a fault switch, ``ok`` until
the test calls ``fail(endpoint, fault)``, for good or for the next ``times`` requests. Every request is
kept (``requests``), so tests can assert what Switchboard sent: ``resource``, the PKCE verifier, which
client authentication.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import msgspec
import uvicorn

Endpoint = Literal["authorize", "token", "revocation", "userinfo", "api"]
Fault = Literal[
    "ok",
    # any endpoint
    "timeout",  # answers only after ``slow_seconds`` (longer than the client waits)
    "status_500",
    "status_503",
    "malformed",  # 200 with an HTML body instead of JSON
    "invalid_grant",  # 400 {"error": "invalid_grant"}
    "refuse_basic",  # 401 invalid_client when the credentials come in the Authorization header
    "refuse_post",  # 401 invalid_client when they come in the form
    # token
    "no_access_token",  # 200 JSON without access_token
    "no_expires_in",  # a token response without expires_in
    "no_refresh_token",  # a refresh answered without a new refresh token (the old one stays valid)
    # authorize
    "wrong_iss",  # the redirect carries another issuer's iss
    "no_iss",  # the redirect carries no iss
    "access_denied",  # the person refused: error=access_denied
    # userinfo, api
    "invalid_token",  # 401 whatever the token
    # revocation
    "unsupported_token_type",  # access tokens cannot be revoked (self-contained); refresh tokens can
]
ClientAuth = Literal["client_secret_basic", "client_secret_post", "none"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_PATHS: dict[str, Endpoint] = {
    "/authorize": "authorize",
    "/token": "token",
    "/revoke": "revocation",
    "/userinfo": "userinfo",
    "/api/me": "api",
}
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEFAULT_SECRET = "fault-provider-secret"


class Recorded(msgspec.Struct, frozen=True):
    """One request as the provider received it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def endpoint(self) -> Endpoint | None:
        return _PATHS.get(self.path)

    @property
    def basic_credentials(self) -> tuple[str, str] | None:
        """client_id and secret from ``Authorization: Basic`` (RFC 6749 §2.3.1 form-decoded), if sent."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        client_id, _, secret = pair.partition(":")
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))

    @property
    def client_auth(self) -> ClientAuth:
        if self.basic_credentials is not None:
            return "client_secret_basic"
        return "client_secret_post" if "client_secret" in self.form else "none"

    @property
    def bearer(self) -> str | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value if scheme.lower() == "bearer" else None


class Grant(msgspec.Struct):
    """What a code, an access token or a refresh token stands for."""

    client_id: str
    login: str
    scope: str
    resource: str = ""
    expires_at: float = float("inf")
    revoked: bool = False
    refresh_token: str = ""  # an access token's refresh token, so revoking that revokes it too


class _Code(msgspec.Struct):
    grant: Grant
    redirect_uri: str
    challenge: str
    used: bool = False


class FaultProvider:
    """One fake provider; start/stop, or use as a context manager."""

    def __init__(
        self,
        *,
        client_id: str = "switchboard-app",
        client_secret: str = DEFAULT_SECRET,
        login: str = "alice@example.com",
        access_token_ttl: int = 3600,
        slow_seconds: float = 30.0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.login = login
        self.access_token_ttl = access_token_ttl
        self.slow_seconds = slow_seconds
        self.granted_scope: str | None = None  # grant less (or more) than asked, when set
        self.rotate_refresh_tokens = True
        self.requests: list[Recorded] = []
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self._faults: dict[Endpoint, tuple[Fault, int | None]] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.port = 0

    # --- running -------------------------------------------------------------------------------------

    def __enter__(self) -> FaultProvider:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi, interface="asgi3", lifespan="off", log_config=None, access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fault provider did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)  # ends slow answers at once
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    @property
    def authorize_url(self) -> str:
        return self.url("/authorize")

    @property
    def token_url(self) -> str:
        return self.url("/token")

    @property
    def revocation_url(self) -> str:
        return self.url("/revoke")

    @property
    def userinfo_url(self) -> str:
        return self.url("/userinfo")

    @property
    def api_url(self) -> str:
        return self.url("/api/me")

    # --- what tests set and read ---------------------------------------------------------------------

    def fail(self, endpoint: Endpoint, fault: Fault, *, times: int | None = None) -> None:
        """Make ``endpoint`` answer with ``fault``: from now on, or for the next ``times`` requests."""
        self._faults[endpoint] = (fault, times)

    def heal(self) -> None:
        """Every endpoint answers normally again."""
        self._faults.clear()

    def fault(self, endpoint: Endpoint) -> Fault:
        return self._faults.get(endpoint, ("ok", None))[0]

    def requests_to(self, endpoint: Endpoint, *, grant_type: str | None = None) -> list[Recorded]:
        return [
            request
            for request in list(self.requests)
            if request.endpoint == endpoint
            and (grant_type is None or request.form.get("grant_type") == grant_type)
        ]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is past its expiry (refresh tokens stay valid)."""
        for grant in self.access_tokens.values():
            grant.expires_at = 0.0

    def revoke_everything(self) -> None:
        """As a person removing the app's access at the provider: no token issued so far works."""
        for grant in [*self.access_tokens.values(), *self.refresh_tokens.values()]:
            grant.revoked = True

    def live_access_tokens(self) -> list[str]:
        now = time.time()
        return [
            token
            for token, grant in self.access_tokens.items()
            if not grant.revoked and grant.expires_at > now
        ]

    # --- ASGI ----------------------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if self._stopping is None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
        request = await _read(scope, receive)
        self.requests.append(request)
        endpoint = request.endpoint
        if endpoint is None:
            if request.path == "/.well-known/oauth-authorization-server":
                await _json(send, 200, self._metadata())
            else:
                await _json(send, 404, {"error": "not_found"})
            return
        fault = self._take_fault(endpoint)
        if fault == "timeout":
            await self._sleep()
        answered = await _generic_fault(send, fault, request)
        if not answered:
            handler = {
                "authorize": self._authorize,
                "token": self._token,
                "revocation": self._revoke,
                "userinfo": self._userinfo,
                "api": self._api,
            }[endpoint]
            await handler(send, request, fault)

    def _take_fault(self, endpoint: Endpoint) -> Fault:
        fault, times = self._faults.get(endpoint, ("ok", None))
        if times is not None:
            if times <= 1:
                self._faults.pop(endpoint, None)
            else:
                self._faults[endpoint] = (fault, times - 1)
        return fault

    async def _sleep(self) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=self.slow_seconds)

    def _metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url,
            "revocation_endpoint": self.revocation_url,
            "userinfo_endpoint": self.userinfo_url,
            "response_types_supported": ["code"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                TOKEN_EXCHANGE,
            ],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "authorization_response_iss_parameter_supported": True,
        }

    # --- endpoints -----------------------------------------------------------------------------------

    async def _authorize(self, send: Send, request: Recorded, fault: Fault) -> None:
        query = request.query
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            await _json(send, 400, {"error": "invalid_request", "error_description": "unknown client"})
            return
        params: dict[str, str] = {}
        if fault == "access_denied":
            params["error"] = "access_denied"
        elif query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            params.update(error="invalid_request", error_description="response_type code with PKCE S256")
        elif not query.get("code_challenge"):
            params.update(error="invalid_request", error_description="code_challenge required")
        else:
            code = secrets.token_urlsafe(24)
            grant = Grant(self.client_id, self.login, query.get("scope", ""), query.get("resource", ""))
            self.codes[code] = _Code(grant, redirect_uri, query["code_challenge"])
            params["code"] = code
        if "state" in query:
            params["state"] = query["state"]
        if fault == "wrong_iss":
            params["iss"] = "https://evil.example"
        elif fault != "no_iss":
            params["iss"] = self.issuer
        await _redirect(send, _with_query(redirect_uri, params))

    async def _token(self, send: Send, request: Recorded, fault: Fault) -> None:
        if not await self._client_authenticated(send, request):
            return
        form = request.form
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            grant = self._redeem_code(form)
        elif grant_type == "refresh_token":
            grant = self._redeem_refresh_token(form, fault)
        elif grant_type in ("client_credentials", TOKEN_EXCHANGE):
            subject = self.login if grant_type == TOKEN_EXCHANGE else self.client_id
            grant = Grant(self.client_id, subject, form.get("scope", ""), form.get("resource", ""))
        else:
            await _json(send, 400, {"error": "unsupported_grant_type"})
            return
        if grant is None:
            await _json(send, 400, {"error": "invalid_grant"})
            return
        refresh = grant_type == "authorization_code" or (
            grant_type == "refresh_token" and self.rotate_refresh_tokens and fault != "no_refresh_token"
        )
        await _json(
            send, 200, self._issue(grant, form.get("refresh_token", ""), refresh=refresh, fault=fault)
        )

    def _redeem_code(self, form: dict[str, str]) -> Grant | None:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or code.redirect_uri != form.get("redirect_uri"):
            return None
        code.used = True
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(digest, code.challenge):
            return None
        return code.grant

    def _redeem_refresh_token(self, form: dict[str, str], fault: Fault) -> Grant | None:
        token = form.get("refresh_token", "")
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.revoked:
            return None
        if self.rotate_refresh_tokens and fault != "no_refresh_token":
            grant.revoked = True  # spent: the answer carries its successor
        return msgspec.structs.replace(grant, revoked=False)

    def _issue(self, grant: Grant, old_refresh_token: str, *, refresh: bool, fault: Fault) -> dict[str, Any]:
        access_token = secrets.token_urlsafe(24)
        scope = self.granted_scope if self.granted_scope is not None else grant.scope
        refresh_token = secrets.token_urlsafe(24) if refresh else old_refresh_token
        if refresh:
            self.refresh_tokens[refresh_token] = msgspec.structs.replace(grant, scope=scope)
        self.access_tokens[access_token] = msgspec.structs.replace(
            grant, scope=scope, expires_at=time.time() + self.access_token_ttl, refresh_token=refresh_token
        )
        body: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer"}
        if fault != "no_expires_in":
            body["expires_in"] = self.access_token_ttl
        if refresh:
            body["refresh_token"] = refresh_token
        if scope:
            body["scope"] = scope
        if fault == "no_access_token":
            del body["access_token"]
        return body

    async def _revoke(self, send: Send, request: Recorded, fault: Fault) -> None:
        if not await self._client_authenticated(send, request):
            return
        token = request.form.get("token", "")
        if fault == "unsupported_token_type" and token in self.access_tokens:
            await _json(send, 400, {"error": "unsupported_token_type"})
            return
        if token in self.refresh_tokens:
            self.refresh_tokens[token].revoked = True
            for grant in self.access_tokens.values():
                if grant.refresh_token == token:
                    grant.revoked = True
        if token in self.access_tokens:
            self.access_tokens[token].revoked = True
        await _respond(send, 200, b"", "text/plain")

    async def _userinfo(self, send: Send, request: Recorded, fault: Fault) -> None:
        grant = self._live_grant(request)
        if grant is None or fault == "invalid_token":
            await _invalid_token(send)
            return
        await _json(send, 200, {"sub": grant.login, "email": grant.login, "name": grant.login.split("@")[0]})

    async def _api(self, send: Send, request: Recorded, fault: Fault) -> None:
        grant = self._live_grant(request)
        if grant is None or fault == "invalid_token":
            await _invalid_token(send)
            return
        await _json(send, 200, {"sub": grant.login, "email": grant.login, "scope": grant.scope})

    def _live_grant(self, request: Recorded) -> Grant | None:
        grant = self.access_tokens.get(request.bearer or "")
        if grant is None or grant.revoked or grant.expires_at <= time.time():
            return None
        return grant

    async def _client_authenticated(self, send: Send, request: Recorded) -> bool:
        """RFC 6749 §2.3.1: either method, one at a time, with the right secret; else 401 invalid_client."""
        basic = request.basic_credentials
        if basic is not None and "client_secret" in request.form:
            await _json(
                send, 400, {"error": "invalid_request", "error_description": "two client auth methods"}
            )
            return False
        client_id, secret = basic or (
            request.form.get("client_id", ""),
            request.form.get("client_secret", ""),
        )
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            await _invalid_client(send)
            return False
        return True


# --- HTTP plumbing ---------------------------------------------------------------------------------------


async def _read(scope: Scope, receive: Receive) -> Recorded:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    form: dict[str, str] = {}
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    query = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
    return Recorded(scope["method"], scope["path"], query, form, headers)


_REFUSED_BY_AUTH: dict[ClientAuth, Fault] = {
    "client_secret_basic": "refuse_basic",
    "client_secret_post": "refuse_post",
}


async def _generic_fault(send: Send, fault: Fault, request: Recorded) -> bool:
    """Answer with ``fault`` when it replaces the endpoint's own answer; False when the endpoint answers."""
    if fault == "status_500":
        await _respond(send, 500, b"<html><body>Internal Server Error</body></html>", "text/html")
    elif fault == "status_503":
        await _respond(
            send, 503, b"<html><body>Service Unavailable</body></html>", "text/html", [("retry-after", "1")]
        )
    elif fault == "malformed":
        await _respond(send, 200, b"<html><body>Welcome! Please sign in.</body></html>", "text/html")
    elif fault == "invalid_grant":
        await _json(send, 400, {"error": "invalid_grant", "error_description": "the grant was revoked"})
    elif fault == _REFUSED_BY_AUTH.get(request.client_auth):
        await _invalid_client(send)
    else:
        return False
    return True


async def _invalid_client(send: Send) -> None:
    await _json(
        send,
        401,
        {"error": "invalid_client", "error_description": "client authentication failed"},
        [("www-authenticate", 'Basic realm="fault-provider"')],
    )


async def _invalid_token(send: Send) -> None:
    await _json(send, 401, {"error": "invalid_token"}, [("www-authenticate", 'Bearer error="invalid_token"')])


async def _json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None
) -> None:
    await _respond(send, status, msgspec.json.encode(body), "application/json", headers)


async def _redirect(send: Send, location: str) -> None:
    await _respond(send, 302, b"", "text/plain", [("location", location)])


async def _respond(
    send: Send, status: int, body: bytes, content_type: str, headers: list[tuple[str, str]] | None = None
) -> None:
    raw = [
        (b"content-type", content_type.encode()),
        (b"cache-control", b"no-store"),
        *[(name.encode(), value.encode()) for name, value in headers or []],
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))
