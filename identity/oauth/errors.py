"""OAuth errors: those answered to a client in the RFC 6749 §5.2 format (``OAuthError``,
``{"error": …, "error_description": …}``), and the authorization endpoint's (§4.1.2.1), shown to the
person (``PageError``) or sent to the client's redirect URI (``RedirectError``)."""

from __future__ import annotations

from typing import NamedTuple

from switchboard.platform.core.errors import Throttled


class OAuthError(Exception):
    """An error answered to an OAuth client; ``code`` is the RFC 6749 (or extension) error code."""

    def __init__(
        self,
        code: str,
        description: str,
        *,
        status: int = 400,
        retry_after: int | None = None,
        www_authenticate: str | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.retry_after = retry_after
        self.www_authenticate = www_authenticate

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


class ReturnTo(NamedTuple):
    """The way back to a client that was refused: its redirect URI with ``error=access_denied``.

    The browser goes there by itself only for a client an administrator approved (``automatic``); for any
    other, the page offers a link naming where it leads (RFC 9700 §4.11.2), so Switchboard never sends
    anyone to an address nobody vouched for.
    """

    location: str
    host: str
    client_name: str
    automatic: bool


class PageError(Exception):
    """An authorization request that cannot be answered to the client (unknown client or redirect URI, a
    client no admin approved yet, too many requests): shown to the person on an error page, never
    redirected; ``return_to`` is the link back to a client whose redirect URI is known."""

    def __init__(
        self,
        title: str,
        message: str,
        *,
        status: int = 400,
        retry_after: int | None = None,
        return_to: ReturnTo | None = None,
    ) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.return_to = return_to


class RedirectError(Exception):
    """An authorization error answered to the client at its (verified) redirect URI."""

    def __init__(self, location: str, error: str) -> None:
        super().__init__(error)
        self.location = location
        self.error = error


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str = "Client authentication failed.", *, basic: bool = False) -> OAuthError:
    # RFC 6749 §5.2: 401 with a challenge when the client tried HTTP Basic.
    return OAuthError(
        "invalid_client",
        description,
        status=401,
        www_authenticate='Basic realm="switchboard"' if basic else None,
    )


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)


def invalid_target(description: str) -> OAuthError:
    return OAuthError("invalid_target", description)


def unauthorized_client(description: str) -> OAuthError:
    return OAuthError("unauthorized_client", description)


def too_many_requests(throttled: Throttled) -> OAuthError:
    """A rate limit's refusal as the endpoints answer it: 429 with ``Retry-After`` (RFC 6585 §4)."""
    return OAuthError(
        "too_many_requests",
        f"Too many requests; try again in {throttled.retry_after} seconds.",
        status=429,
        retry_after=throttled.retry_after,
    )
