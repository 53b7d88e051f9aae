"""Reading submitted forms."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from switchboard.platform.core.errors import InvalidInput


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


def day_range(since: str, until: str) -> tuple[datetime | None, datetime | None]:
    """A filter's days typed as YYYY-MM-DD (UTC, both ends included, either may be left out) as the
    instants they span: from the first day's start to the end of the last."""
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and last < first:
        raise InvalidInput("The last day comes before the first.", field="until")
    return (
        datetime.combine(first, time(), UTC) if first else None,
        datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
    )


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Enter a date as YYYY-MM-DD.", field=field) from None
