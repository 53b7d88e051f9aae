"""Reading submitted forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request


async def form_fields(request: Request[Any, Any, Any], *names: str) -> dict[str, str]:
    """The named fields of a submitted form as stripped strings ('' when absent)."""
    form = await request.form()
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name, "")
        values[name] = value.strip() if isinstance(value, str) and name != "password" else str(value or "")
    return values


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after sign-in (no //host, no scheme).

    Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so a slash, a tab and
    another slash, or a slash and a backslash, would leave the site: any whitespace, control character
    or backslash refuses.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
