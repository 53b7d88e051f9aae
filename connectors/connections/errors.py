"""Errors of connections and grants, in words a person can act on."""

from __future__ import annotations

from typing import Literal

from switchboard.platform.core.errors import DomainError

ProviderProblem = Literal[
    "unreachable", "server_error", "malformed", "invalid_grant", "invalid_client", "refused"
]


class ProviderError(DomainError):
    """The app's authorization server failed or refused; nothing stored was changed because of it."""

    code = "provider_error"
    status = 502

    def __init__(self, message: str, *, problem: ProviderProblem, oauth_error: str = "") -> None:
        super().__init__(message)
        self.problem = problem
        self.oauth_error = oauth_error


class ConnectionRequired(DomainError):
    """The caller has no usable grant for an end user's connection: they must (re)connect at the link."""

    code = "connection_required"
    status = 403

    def __init__(
        self, message: str, *, connect_url: str, connection_name: str, app_name: str, reason: str
    ) -> None:
        super().__init__(message)
        self.connect_url = connect_url
        self.connection_name = connection_name
        self.app_name = app_name
        self.reason = reason


class SharedGrantMissing(DomainError):
    """A shared connection's grant is missing or refused: a builder must connect it again (callers get no
    link: connecting it is not theirs to do)."""

    code = "connection_not_connected"
    status = 409


class LinkRefused(DomainError):
    """A connect link or callback that cannot be used: expired, used, another user's, or tampered with."""

    code = "link_refused"
    status = 403
