"""What every layer reads off an incoming request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The caller's address as the server sees it ('' when unknown), for rate limits and the audit."""
    return connection.client.host if connection.client else ""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (RFC 6750 §2.1).

    The scheme is matched case-blind (RFC 9110 §11.1) and the token stripped of surrounding spaces; None
    when the header is missing, names another scheme or carries no token.
    """
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
