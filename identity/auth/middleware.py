"""Resolves the caller once per request and stores it as ``scope["user"]`` (None when anonymous).

A request with ``Authorization: Bearer`` is authenticated by that token alone and its cookies are
ignored, which is why such requests need no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from switchboard.identity.principal import Principal
from switchboard.platform.core.requests import bearer_token, client_ip

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from switchboard.identity.deps import IdentityServices

SESSION_COOKIE = "sb_session"
# Demo Tasks, when mounted, is another app with its own sign-in: Switchboard's session means nothing there.
UNAUTHENTICATED_PATHS = ("^/static/", "^/healthz$", "^/readyz$", "^/demo-tasks(/|$)", "^/mcp(/|$)")


class AuthenticationMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = UNAUTHENTICATED_PATHS

    def __init__(self, identity_of: Callable[[Scope], IdentityServices]) -> None:
        """``identity_of`` finds the identity services the app serves the request with."""
        self.identity_of = identity_of

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = Headers.from_scope(scope)
        principal = await self.resolve(self.identity_of(scope), headers)
        if principal is not None:
            # Where the request came from goes with whoever makes it, into the audit of their changes.
            principal = msgspec.structs.replace(
                principal,
                ip_address=client_ip(ASGIConnection(scope)),
                user_agent=headers.get("user-agent", ""),
            )
        scope["user"] = principal
        await next_app(scope, receive, send)

    @staticmethod
    async def resolve(identity: IdentityServices, headers: Headers) -> Principal | None:
        token = bearer_token(headers.get("authorization"))
        if token is not None:
            return await identity.api_tokens.authenticate(token)
        cookie = _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        return await identity.sessions.authenticate(cookie) if cookie else None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None
