"""What every layer reads off an incoming request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The caller's address as the server sees it ('' when unknown), for rate limits and the audit."""
    return connection.client.host if connection.client else ""
