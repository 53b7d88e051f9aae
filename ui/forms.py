"""Reading submitted forms."""

from __future__ import annotations

from typing import Any

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
    """Only same-site paths are followed after sign-in (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
