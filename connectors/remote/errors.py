"""``RemoteError``: a remote MCP server could not be used for a request, in words a person can act on."""

from __future__ import annotations

import httpx

from switchboard.connectors.remote.metadata import Challenge
from switchboard.platform.core.errors import DomainError


class RemoteError(DomainError):
    """The remote server could not be used for this request; the message says why and what to do.

    ``problem`` names the kind of failure for the caller's choice (``unauthorized``, ``insufficient_scope``,
    ``timeout``, ``network``, ...); ``challenge`` is the server's ``WWW-Authenticate`` challenge, if any.
    The message never holds a token.
    """

    code = "remote_error"
    status = 502

    def __init__(self, message: str, *, problem: str, challenge: Challenge | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.challenge = challenge


def http_error(name: str, method: str, status: int, body: str, challenge: Challenge | None) -> RemoteError:
    """The error for an HTTP answer other than 200 to a JSON-RPC request that no new token made good."""
    if status == httpx.codes.UNAUTHORIZED:
        return RemoteError(
            f"{name} did not accept Switchboard's credentials; reconnect.",
            problem="unauthorized",
            challenge=challenge,
        )
    if status == httpx.codes.FORBIDDEN:
        return RemoteError(f"{name} refused {method} (HTTP 403).", problem="forbidden", challenge=challenge)
    if status == httpx.codes.TOO_MANY_REQUESTS:
        return RemoteError(f"{name} is limiting requests; try again later.", problem="rate_limited")
    if status >= 500:
        return RemoteError(f"{name} failed (HTTP {status}); try again later.", problem="server_error")
    detail = " ".join(body.split())[:200]
    return RemoteError(
        f"{name} refused {method} (HTTP {status}{': ' + detail if detail else ''}).", problem="http"
    )
