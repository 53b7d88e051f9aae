"""OAuth errors in the RFC 6749 format: ``{"error": …, "error_description": …}``."""

from __future__ import annotations


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
