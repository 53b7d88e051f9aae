"""Errors answered to OAuth clients (RFC 6749 §5.2) and to API callers (RFC 6750 §3).

``OAuthError`` becomes ``{"error", "error_description"}`` JSON at the token and revocation endpoints, or
query parameters on the client's redirect URI at the authorization endpoint. ``BearerError`` carries the
``WWW-Authenticate`` challenge of the tasks API and userinfo.
"""

from __future__ import annotations


class OAuthError(Exception):
    def __init__(self, code: str, description: str, *, status: int = 400, basic: bool = False) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        # RFC 6749 §5.2: a client that tried HTTP Basic is answered 401 with a Basic challenge.
        self.www_authenticate = 'Basic realm="Demo Tasks"' if basic else None

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str, *, basic: bool = False) -> OAuthError:
    return OAuthError("invalid_client", description, status=401, basic=basic)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)


class BearerError(Exception):
    """A refused bearer token (401 ``invalid_token``) or one without the needed scope (403)."""

    def __init__(self, code: str, description: str, *, status: int, scope: str | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.scope = scope

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value; the description travels in the JSON body only."""
        scope = f', scope="{self.scope}"' if self.scope else ""
        return f'Bearer error="{self.code}"{scope}'

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


def invalid_token(description: str) -> BearerError:
    return BearerError("invalid_token", description, status=401)


def insufficient_scope(scope: str) -> BearerError:
    return BearerError(
        "insufficient_scope", f"This access token was not granted {scope}.", status=403, scope=scope
    )
