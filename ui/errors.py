"""One place that turns errors into responses: JSON for the API, friendly pages for the browser.

An error nothing else handled is logged here, with its traceback and a request id that the answer carries
too (``X-Request-Id``, the page, ``request_id`` in the API's JSON), so that what a person reports can be
found in the log. The log names the request by its method and path alone, a connect link's token taken
out of the path: never its query, headers, cookies or body.

A change that a signed-in person's role does not allow (a ``PermissionDenied`` of a guard or a service,
answered 403 to a POST, PUT, PATCH or DELETE, in the console or the API) is recorded in the audit trail
as ``access.refused``: who, the method and path, why, from where. A person's refusals are rationed like
those at ``/mcp``: of each route (method and path pattern) the 1st, 10th, 100th… of a minute are
recorded, so that a flood of them leaves a handful of records however many are sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from switchboard.identity.audit import AuditLog, rationed
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import DomainError, NotAuthenticated, PermissionDenied
from switchboard.platform.core.http_errors import (
    api_error,
    domain_error_json,
    http_error_json,
    validation_error_json,
)
from switchboard.platform.core.ratelimit import RateLimiter
from switchboard.platform.core.redaction import without_link_tokens
from switchboard.platform.core.request_ids import new_request_id
from switchboard.ui.rendering import page

log = logging.getLogger("switchboard.errors")

REQUEST_ID_HEADER = "X-Request-Id"

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
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    *,
    title: str | None = None,
    request_id: str | None = None,
) -> Response[Any]:
    return page(
        request,
        "error.html",
        status_code=status,
        title=title or _TITLES.get(status, "Error"),
        message=message,
        request_id=request_id,
    )


def _logged_path(request: Request[Any, Any, Any]) -> str:
    """The path as the log may keep it: a connect link's token is its owner's secret."""
    return without_link_tokens(request.url.path)


def _with_request_id(response: Response[Any], request_id: str) -> Response[Any]:
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    response = _domain_error_response(request, exc)
    if isinstance(exc, PermissionDenied) and request.method in _CHANGES:
        _record_refused_change(request, exc, response)
    return response


def _domain_error_response(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _wants_json(request):
        return domain_error_json(exc)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"/login?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, exc.status, exc.message)


# Refused changes ---------------------------------------------------------------------------------------

REFUSED_CHANGE = "access.refused"
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REFUSALS_WINDOW = timedelta(minutes=1)


def _record_refused_change(
    request: Request[Any, Any, Any], exc: PermissionDenied, response: Response[Any]
) -> None:
    """Record the refusal once the answer is sent (a handler answers at once; the record needs the
    database), through the audit log of the services the app serves (handlers take no dependencies)."""
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        return
    audit: AuditLog = request.app.state.services.identity.oauth.audit
    attempt = "".join(char for char in f"{request.method} {_logged_path(request)}" if char.isprintable())
    # Counted by route rather than path, so that ids in the path do not make every attempt a new kind.
    route = f"{request.method} {request.scope.get('path_template') or request.url.path}"
    key = f"access-refused:{principal.user_id}:{route}"
    response.background = BackgroundTask(_refused_change, audit, principal, key, attempt, exc.message)


async def _refused_change(audit: AuditLog, principal: Principal, key: str, attempt: str, reason: str) -> None:
    try:
        hits = (await RateLimiter().count(key, window=_REFUSALS_WINDOW)).hits
        if not rationed(hits):
            return
        if hits > 1:
            reason += f" (the {hits}th such refusal of this person this minute)"
        await audit.change(
            principal,
            REFUSED_CHANGE,
            object_type="request",
            object_id=attempt,
            outcome="refused",
            reason=reason,
        )
    except Exception:  # the answer is sent: an operator learns from the log that the record is missing
        log.exception("could not record the refused change %s", attempt)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    if _wants_json(request):
        return validation_error_json(exc)
    return _error_page(request, 400, "The request could not be understood. Go back and try again.")


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        return _server_error(request, exc)
    if _wants_json(request):
        return http_error_json(exc)
    message = exc.detail
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


def _server_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """A 5xx raised on purpose (its detail is for the log, not for the person): logged without a
    traceback, answered with a request id."""
    request_id = new_request_id()
    log.error(
        "HTTP %s on %s %s (request id %s): %s",
        exc.status_code,
        request.method,
        _logged_path(request),
        request_id,
        exc.detail,
    )
    if _wants_json(request):
        response = http_error_json(exc)
        response.content = {**response.content, "request_id": request_id}
    else:
        response = _error_page(
            request, exc.status_code, "Please try again in a moment.", request_id=request_id
        )
    return _with_request_id(response, request_id)


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_id = new_request_id()
    log.error(
        "unhandled error on %s %s (request id %s)",
        request.method,
        _logged_path(request),
        request_id,
        exc_info=exc,
    )
    if _wants_json(request):
        response = api_error(
            500,
            "internal_error",
            "Something went wrong on our side; the error has been logged.",
            request_id=request_id,
        )
    else:
        response = _error_page(
            request, 500, "Please try again in a moment. The error has been logged.", request_id=request_id
        )
    return _with_request_id(response, request_id)


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
