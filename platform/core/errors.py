"""The domain error hierarchy.

Services raise these; one place per surface (``ui.errors``) maps them to responses: JSON with an
error code and the offending field for the API, the message next to the field for pages.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: ``code`` is the stable machine-readable code, ``status`` the HTTP status."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, Any]:
        """More for API clients, beside the code and message (such as every problem of a recipe)."""
        return {}


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class Throttled(DomainError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
