"""CSRF protection for every form and every cookie-authenticated API call.

Litestar's double-submit-cookie middleware, except for requests carrying ``Authorization: Bearer``:
those are authenticated by the token alone (their cookies are ignored), and a browser cannot attach
such a header to a cross-site request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send


class BearerExemptCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scheme, _, token = Headers.from_scope(scope).get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
