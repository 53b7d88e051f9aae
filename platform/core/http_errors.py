"""Errors as the API answers them: ``{"error": code, "message": text, "field": name}``."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.exceptions import HTTPException, ValidationException

from switchboard.platform.core.errors import DomainError, Throttled

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def api_error(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> Response[Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    body.update(extra)
    return Response(body, status_code=status, headers=headers)


def domain_error_json(exc: DomainError) -> Response[Any]:
    if isinstance(exc, Throttled):
        return api_error(exc.status, exc.code, exc.message, exc.field, retry_after=exc.retry_after)
    return api_error(exc.status, exc.code, exc.message, exc.field, **exc.details())


# The name Litestar gives the request body in its validation details.
_BODY = "data"


def validation_field(exc: ValidationException) -> tuple[str | None, str]:
    """The first offending field and a readable message, from Litestar's validation details."""
    details = exc.extra if isinstance(exc.extra, list) else []
    for detail in details:
        if isinstance(detail, dict):
            key = detail.get("key")
            message = str(detail.get("message", exc.detail))
            return (str(key) if key else None), message
    return None, exc.detail


def validation_error_json(exc: ValidationException) -> Response[Any]:
    field, message = validation_field(exc)
    if message.startswith(("Object contains unknown field `", "Object missing required field `")):
        # Litestar reports the body itself ("data") as the key; the field is named in the message.
        field = message.split("`")[1]
    elif field == _BODY:
        # The body as a whole is wrong: missing (Litestar says just "'data'") or not an object.
        field = None
        missing = message.strip("'") == _BODY
        message = (
            "Send a JSON object as the request body." if missing else f"The request body is wrong: {message}"
        )
    return api_error(422, "invalid_input", message, field)


def http_error_json(exc: HTTPException) -> Response[Any]:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if exc.status_code < 500 else "Something went wrong on our side."
    if exc.status_code == 403 and "CSRF" in exc.detail:
        code, message = "csrf_failed", "The CSRF token is missing or wrong: reload the page and try again."
    return api_error(exc.status_code, code, message)
