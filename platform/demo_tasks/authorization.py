"""The authorization endpoint's rules (RFC 6749 §4.1.1-4.1.2, RFC 7636, RFC 9207).

Before the client and its redirect URI are trusted, every problem is a ``PageError`` shown to the person;
after, problems go back to the client as ``error`` parameters on its redirect URI. Every redirect carries
``state`` (when sent) and ``iss``. Codes are single-use, last ten minutes and are bound to the client,
the redirect URI, the PKCE challenge and the account; only their hash is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.platform.core.tokens import new_token, token_hash
from switchboard.platform.demo_tasks import spec
from switchboard.platform.demo_tasks.clients import ClientRegistry, RegisteredClient
from switchboard.platform.demo_tasks.tables import AuthorizationCode

SCOPES = {"tasks:read": "See your tasks", "tasks:write": "Add tasks to your list"}
DEFAULT_SCOPES = ("tasks:read",)
CODE_LIFETIME = timedelta(minutes=10)
CODE_PREFIX = "dtk_"
_SINGLE = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


class PageError(Exception):
    """A request that cannot be answered to the client (unknown client or redirect URI): shown, never
    redirected, so that Demo Tasks is nobody's open redirector."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RedirectError(Exception):
    """An error answered to the client at its (verified) redirect URI."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class ScopeChoice(msgspec.Struct, frozen=True):
    name: str
    description: str


class AuthorizationRequest(msgspec.Struct, frozen=True, kw_only=True):
    client: RegisteredClient
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    code_challenge: str

    @property
    def scope_choices(self) -> tuple[ScopeChoice, ...]:
        return tuple(ScopeChoice(name, SCOPES[name]) for name in self.scopes)


def _now() -> datetime:
    return datetime.now(UTC)


class Authorizer:
    def __init__(self, *, issuer: str, clients: ClientRegistry) -> None:
        self.issuer = issuer
        self.clients = clients

    async def validate(self, params: Mapping[str, Sequence[str]]) -> AuthorizationRequest:
        repeated = next((name for name in _SINGLE if len(params.get(name, ())) > 1), None)
        client_id = _first(params, "client_id")
        redirect_uri = _first(params, "redirect_uri")
        if not client_id:
            raise PageError("The link names no app (client_id is missing).")
        client = await self.clients.find(client_id)
        if client is None:
            raise PageError("The app that sent you here is not registered with Demo Tasks.")
        if not redirect_uri:
            raise PageError(f"The link from {client.name} has no redirect_uri.")
        if redirect_uri not in client.redirect_uris:
            raise PageError(
                f"The redirect URI is not registered for {client.name}, "
                "so Demo Tasks will not send you there."
            )
        if repeated in ("client_id", "redirect_uri"):
            raise PageError(f"The link sends {repeated} more than once.")
        state = _first(params, "state")

        def fail(error: str, description: str) -> RedirectError:
            return RedirectError(
                self.redirect(redirect_uri, state, error=error, error_description=description)
            )

        if repeated:
            raise fail("invalid_request", f"The {repeated} parameter was sent more than once.")
        response_type = _first(params, "response_type")
        if response_type != "code":
            error = "invalid_request" if not response_type else "unsupported_response_type"
            raise fail(error, "Only response_type=code is supported.")
        challenge = _first(params, "code_challenge")
        if not challenge:
            raise fail(
                "invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if _first(params, "code_challenge_method") != "S256":
            raise fail("invalid_request", "Only code_challenge_method=S256 is supported.")
        if not spec.valid_code_challenge(challenge):
            raise fail("invalid_request", "The code_challenge is malformed.")
        scopes = spec.parse_scope(_first(params, "scope")) or DEFAULT_SCOPES
        unknown = [scope for scope in scopes if scope not in SCOPES]
        if unknown:
            raise fail("invalid_scope", f"Demo Tasks offers no scope {unknown[0][:60]}.")
        return AuthorizationRequest(
            client=client, redirect_uri=redirect_uri, state=state, scopes=scopes, code_challenge=challenge
        )

    def redirect(self, redirect_uri: str, state: str | None, **params: str) -> str:
        """The redirect URI with the response parameters, ``state`` and ``iss`` (RFC 9207)."""
        pairs = list(params.items())
        if state is not None:
            pairs.append(("state", state))
        pairs.append(("iss", self.issuer))
        return spec.add_params_to_uri(redirect_uri, pairs)

    async def allow(self, request: AuthorizationRequest, *, account_id: UUID) -> str:
        """Issue a code for the account; returns where to send the person."""
        code = new_token(CODE_PREFIX)
        now = _now()
        await AuthorizationCode(
            code_hash=token_hash(code),
            client=request.client.id,
            account=account_id,
            redirect_uri=request.redirect_uri,
            scope=spec.join_scope(request.scopes),
            code_challenge=request.code_challenge,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        ).save()
        return self.redirect(request.redirect_uri, request.state, code=code)

    def deny(self, request: AuthorizationRequest) -> str:
        return self.redirect(
            request.redirect_uri,
            request.state,
            error="access_denied",
            error_description="The user did not allow access.",
        )


def _first(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or ()
    return values[0] if values else None
