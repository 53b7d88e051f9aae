"""Date-times in query parameters, read as the API's document describes them: ISO 8601 (RFC 3339) text.

Litestar converts a ``datetime`` query parameter leniently, a number as a Unix time; a parameter of type
``DateTimeQuery`` arrives as text, still documented as ``format: date-time``, and ``query_time`` reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import QueryParameter

from switchboard.platform.core.errors import InvalidInput

# The document shows what it shows for a ``datetime | None`` parameter: a date-time text, or none.
_DATE_TIME_OR_NONE = [
    Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
    Schema(type=OpenAPIType.NULL),
]

DateTimeQuery = Annotated[str | None, QueryParameter(schema_extra={"one_of": _DATE_TIME_OR_NONE})]


def query_time(text: str | None, *, field: str) -> datetime | None:
    """The moment ``text`` names, in UTC; one given without an offset is taken as UTC.

    Raises:
        InvalidInput: ``text`` is not an ISO 8601 date-time (a number, a date alone, other text).
    """
    if text is None:
        return None
    try:
        moment = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise InvalidInput(
            f"{field} is an ISO 8601 date-time, such as 2026-12-08T09:30:00Z.", field=field
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
