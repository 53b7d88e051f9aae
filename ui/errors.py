"""One place that turns errors into responses: JSON for the API, friendly pages for the browser."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from switchboard.platform.core.errors import DomainError, NotAuthenticated
from switchboard.platform.core.http_errors import (
    domain_error_json,
    http_error_json,
    internal_error_json,
    validation_error_json,
)
from switchboard.ui.rendering import page

log = logging.getLogger("switchboard.errors")

_API_PREFIXES = ("/api/", "/schema", "/healthz", "/readyz")

_TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "You don't have access to this page",
    404: "Page not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Check what you entered",
    429: "Too many attempts",
    500: "Something went wrong",
}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(_API_PREFIXES)


def _error_page(
    request: Request[Any, Any, Any], status: int, message: str, *, title: str | None = None
) -> Response[Any]:
    return page(
        request,
        "error.html",
        status_code=status,
        title=title or _TITLES.get(status, "Error"),
        message=message,
    )


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _wants_json(request):
        return domain_error_json(exc)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"/login?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, exc.status, exc.message)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    if _wants_json(request):
        return validation_error_json(exc)
    return _error_page(request, 400, "The request could not be understood. Go back and try again.")


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        log.error("HTTP %s on %s %s: %s", exc.status_code, request.method, request.url.path, exc.detail)
    if _wants_json(request):
        return http_error_json(exc)
    message = exc.detail if exc.status_code < 500 else "Please try again in a moment."
    title = None
    if exc.status_code == 403 and "CSRF" in exc.detail:
        # Not a permission problem: the form's token is stale (or the post is forged).
        title = "This form has expired"
        message = (
            "This form has expired or was sent from another site. Go back, reload the page and try again."
        )
    elif exc.status_code == 404:
        message = "There is nothing at this address."
    return _error_page(request, exc.status_code, message, title=title)


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return internal_error_json()
    return _error_page(request, 500, "Please try again in a moment. The error has been logged.")


def on_recursion_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """msgspec refuses JSON nested too deeply to decode: bad input, not a fault of ours."""
    if "deserializing" not in str(exc):
        return on_unexpected_error(request, exc)
    return on_http_error(
        request, HTTPException(status_code=400, detail="The request body is nested too deeply.")
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    RecursionError: on_recursion_error,
    Exception: on_unexpected_error,
}
