"""CSRF protection for every form and every cookie-authenticated API call.

A change sent with the sign-in session cookie must carry that session's own token (form field
``_csrf_token`` or header ``x-csrftoken``): an HMAC of the session cookie under the secret key. Nobody
computes it without both, so a token obtained anywhere else (another browser, the anonymous sign-in
page, a cookie planted by a sibling origin of the same site) is refused with this session. Without a
session cookie (the sign-in form) the token is Litestar's double-submit cookie: a signed value that
must match the CSRF cookie.

The CSRF cookie always holds the token in effect for the browser: a response that sets the session
cookie (signing in) sets it to the new session's token, one that clears the session cookie (signing
out) clears it, and pages put the session's token back if the cookie holds another.

Two exemptions carry no ambient authority:

- requests with ``Authorization: Bearer``: authenticated by the token alone (their cookies are
  ignored), and a browser cannot attach such a header to a cross-site request;
- API requests without a session cookie: nothing authenticates them, so they are answered "sign in
  required" rather than "CSRF token missing". Forms (the sign-in form included) stay protected.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from secrets import compare_digest
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_hash, generate_csrf_token
from litestar.utils.scope.state import ScopeState

from switchboard.platform.core.redaction import without_link_tokens
from switchboard.platform.core.requests import bearer_token

if TYPE_CHECKING:
    from litestar.config.csrf import CSRFConfig
    from litestar.connection import Request
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("switchboard.csrf")
# Litestar's message, which the error pages recognise as a refused form rather than a refused permission.
CSRF_FAILED = "CSRF token verification failed"


def csrf_token_of(scope: Scope) -> str | None:
    """The CSRF token of the browser session a request comes from (None where CSRF is not checked)."""
    token = ScopeState.from_scope(scope).csrf_token
    return token if isinstance(token, str) and token else None


class BearerExemptCSRFMiddleware(CSRFMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        config: CSRFConfig,
        *,
        session_cookie: str | None = None,
        api_prefix: str = "/api/",
    ) -> None:
        super().__init__(app, config)
        self.session_cookie = session_cookie
        self.api_prefix = api_prefix
        self._session_key = hashlib.sha256(f"csrf-session:{config.secret}".encode()).digest()

    def session_token(self, session_cookie_value: str) -> str:
        """The only CSRF token accepted with this session cookie.

        It has the shape of Litestar's tokens (a value and its HMAC), the value being an HMAC of the
        session cookie: once the session cookie is gone (expired in the browser), the token left in the
        CSRF cookie is an anonymous one, which lets the visitor sign in again and nothing more.
        """
        value = hmac.new(self._session_key, session_cookie_value.encode(), hashlib.sha256).hexdigest()
        return value + generate_csrf_hash(token=value, secret=self.config.secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        if self._exempt(scope, headers):
            await self.app(scope, receive, send)
            return

        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        session = _cookie(headers.get("cookie", ""), self.session_cookie) if self.session_cookie else None
        expected = self._expected_token(session, cookie)
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            token = expected or generate_csrf_token(secret=self.config.secret)
            state.csrf_token = token
            await self.app(scope, receive, self._keeping_cookie(send, token if token != cookie else None))
            return

        submitted = await _submitted_token(request, self.config.header_name)
        refusal = _refusal(submitted, expected, with_session=session is not None)
        if refusal is not None or expected is None:
            # Stale forms land here too; the tokens themselves are never logged, nor a connect link's.
            path = without_link_tokens(scope["path"])
            log.info("CSRF check refused %s %s: %s", request.method, path, refusal)
            raise PermissionDeniedException(CSRF_FAILED)
        state.csrf_token = expected
        await self.app(scope, receive, self._keeping_cookie(send, None))

    def _expected_token(self, session: str | None, cookie: str | None) -> str | None:
        """The token this request must carry: its session's, or else the CSRF cookie's if this server
        signed it."""
        if session is not None:
            return self.session_token(session)
        if cookie is not None and cookie.isascii() and self._decode_csrf_token(cookie) is not None:
            return cookie
        return None

    def _keeping_cookie(self, send: Send, token: str | None) -> Send:
        """Send the response with the CSRF cookie set to ``token`` (None: as it is), or to follow the
        session cookie when the response sets or clears it."""

        async def send_keeping_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableScopeHeaders.from_message(message)
                value = token
                session = self._session_set_in(headers)
                if session is not None:
                    value = self.session_token(session) if session else ""
                if value is not None:
                    headers.add("set-cookie", self._cookie_header(value))
            await send(message)

        return send_keeping_cookie

    def _session_set_in(self, headers: MutableScopeHeaders) -> str | None:
        """The session cookie a response sets ('' when it clears it; None when it leaves it alone)."""
        if self.session_cookie is None:
            return None
        for header in headers.getall("set-cookie", []):
            pair, *attributes = (part.strip() for part in header.split(";"))
            name, _, value = pair.partition("=")
            if name != self.session_cookie:
                continue
            cleared = any(attribute.lower() == "max-age=0" for attribute in attributes)
            return "" if cleared else value.strip('"')
        return None

    def _cookie_header(self, value: str) -> str:
        cookie = Cookie(
            key=self.config.cookie_name,
            value=value,
            path=self.config.cookie_path,
            secure=self.config.cookie_secure,
            httponly=self.config.cookie_httponly,
            samesite=self.config.cookie_samesite,
            domain=self.config.cookie_domain,
            max_age=None if value else 0,
            expires=None if value else 0,
        )
        return cookie.to_header(header="")

    def _exempt(self, scope: Scope, headers: Headers) -> bool:
        if bearer_token(headers.get("authorization")) is not None:
            return True
        if self.session_cookie is None or not scope["path"].startswith(self.api_prefix):
            return False
        return _cookie(headers.get("cookie", ""), self.session_cookie) is None


def _refusal(submitted: str | None, expected: str | None, *, with_session: bool) -> str | None:
    """Why the token sent does not do, for the log (None when it does)."""
    if submitted is None:
        return "no token sent"
    if expected is None:
        return "no CSRF cookie signed by this server"
    if not compare_digest(submitted.encode(errors="replace"), expected.encode()):
        return "not this session's token" if with_session else "token does not match the CSRF cookie"
    return None


async def _submitted_token(request: Request[Any, Any, Any], header_name: str) -> str | None:
    token = request.headers.get(header_name)
    if token:
        return token
    content_type, _ = request.content_type
    if content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        value = (await request.form()).get("_csrf_token")
        return value if isinstance(value, str) and value else None
    return None


def _cookie(header: str, name: str) -> str | None:
    """The first cookie of that name, as the authentication middleware reads it."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None
