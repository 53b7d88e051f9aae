"""CSRF protection for every form and every cookie-authenticated API call.

Litestar's double-submit-cookie middleware, with two exemptions that carry no ambient authority:

- requests with ``Authorization: Bearer``: authenticated by the token alone (their cookies are
  ignored), and a browser cannot attach such a header to a cross-site request;
- API requests without a session cookie: nothing authenticates them, so they are answered "sign in
  required" rather than "CSRF token missing". Forms (the sign-in form included) stay protected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware

from switchboard.platform.core.requests import bearer_token

if TYPE_CHECKING:
    from litestar.config.csrf import CSRFConfig
    from litestar.types import ASGIApp, Receive, Scope, Send


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and self._exempt(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _exempt(self, scope: Scope) -> bool:
        headers = Headers.from_scope(scope)
        if bearer_token(headers.get("authorization")) is not None:
            return True
        if self.session_cookie is None or not scope["path"].startswith(self.api_prefix):
            return False
        return not _has_cookie(headers.get("cookie", ""), self.session_cookie)


def _has_cookie(header: str, name: str) -> bool:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return True
    return False
