"""What services take and give about projects, connections and each user's grant."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Secret = Annotated[str, msgspec.Meta(max_length=4000)]


class Mode(enum.StrEnum):
    SHARED = "shared"
    END_USER = "end_user"

    @property
    def label(self) -> str:
        return "Shared" if self is Mode.SHARED else "End user's connection"


# Which auth types each mode can use: an end user's connection is the user's own OAuth grant, or an API
# key or login each person enters once (``PERSONAL_AUTH_TYPES``); a shared one may be a grant too, made
# once by a builder with their own account and used for everyone.
PERSONAL_AUTH_TYPES = ("api_key", "basic")
END_USER_AUTH_TYPES = ("oauth2_authorization_code", "oauth2_token_exchange", *PERSONAL_AUTH_TYPES)
SHARED_AUTH_TYPES = (
    "none",
    "api_key",
    "bearer",
    "basic",
    "oauth2_client_credentials",
    "oauth2_authorization_code",
)


def union(asked: tuple[str, ...], challenged: tuple[str, ...]) -> tuple[str, ...]:
    """Scopes asked for before, then newly challenged ones, each once, in order: what a step-up asks."""
    return tuple(dict.fromkeys((*asked, *challenged)))


class GrantStatus(enum.StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    NOT_CONNECTED = "not_connected"

    @property
    def label(self) -> str:
        return {"connected": "Connected", "needs_reconnect": "Needs reconnect"}.get(
            self.value, "Not connected"
        )


class Project(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    description: str
    created_at: datetime


class ProjectCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    description: Description = ""


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """The secret part of a connection, stored encrypted. Which fields matter depends on the auth type."""

    client_secret: str = ""
    api_key: str = ""
    token: str = ""
    password: str = ""


class ConnectionInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The connection form (and API body). Secrets left empty on an edit keep their stored value.

    ``allow_private`` is an admin's decision: Switchboard may reach the connection's addresses (the
    origins of its URLs as they are now) even when they are private or loopback ones, or plain http.
    None keeps it as it is (a new connection: not allowed).
    """

    name: Name
    project_id: UUID
    connector: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    mode: Mode = Mode.END_USER
    auth_type: str = ""
    client_id: Annotated[str, msgspec.Meta(max_length=500)] = ""
    client_secret: Secret = ""
    username: Annotated[str, msgspec.Meta(max_length=200)] = ""
    password: Secret = ""
    api_key: Secret = ""
    token: Secret = ""
    scopes: tuple[str, ...] = ()
    fields: dict[str, str] = {}
    allow_private: bool | None = None


class Connection(msgspec.Struct, frozen=True, kw_only=True):
    """A connection as builders see it: never its secrets, only whether each one is set."""

    id: UUID
    name: str
    project_id: UUID
    project_name: str
    connector: str
    mode: Mode
    auth_type: str
    client_id: str
    username: str
    scopes: tuple[str, ...]
    fields: dict[str, str]
    secrets_set: tuple[str, ...]
    scopes_version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    # The origins (scheme://host:port) an admin allowed onto private addresses for this connection.
    private_origins: tuple[str, ...] = ()

    @property
    def is_end_user(self) -> bool:
        return self.mode is Mode.END_USER

    @property
    def allow_private(self) -> bool:
        return bool(self.private_origins)


class TokenSet(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens from an app's token endpoint; ``expires_at`` is None when the app gave no lifetime."""

    access_token: str
    token_type: str = "Bearer"
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str | None = None


class ConnectedAccount(msgspec.Struct, frozen=True, kw_only=True):
    """One account a person connected in an end user's connection, by their name for it (``label``)."""

    grant_id: UUID
    label: str
    is_default: bool
    status: GrantStatus
    account: str = ""
    reason: str = ""
    connected_at: datetime | None = None
    refreshed_at: datetime | None = None


class UserConnection(msgspec.Struct, frozen=True, kw_only=True):
    """One row of "My connections" (and of a connection's "who connected" list): the status, account and
    scopes are the person's default account's; ``accounts`` lists each account they connected."""

    connection_id: UUID
    connection_name: str
    connector: str
    app_name: str
    app_icon: str
    project_name: str
    user_email: str
    status: GrantStatus
    account: str = ""
    scopes: tuple[str, ...] = ()
    reason: str = ""
    connected_at: datetime | None = None
    refreshed_at: datetime | None = None
    auth_type: str = "oauth2_authorization_code"
    """``api_key`` or ``basic``: the person enters a key or login instead of signing in at the app."""
    accounts: tuple[ConnectedAccount, ...] = ()


class Connected(msgspec.Struct, frozen=True, kw_only=True):
    """The end of a successful connect: what the page tells the user."""

    connection_id: UUID
    connection_name: str
    app_name: str
    account: str
    scopes: tuple[str, ...]
    return_to: str = ""
    shared: bool = False  # a builder connected a shared connection, for every caller
    label: str = ""  # the person's name for the account connected


class TestOutcome(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    message: str
    kind: Literal["credentials", "action", "account"] = "credentials"
