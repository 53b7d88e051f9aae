"""What an MCP server is: its URL slug, who may use it (access method, end-user groups) and its tools."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class AccessMethod(enum.StrEnum):
    """How callers prove who they are: a verified user's OAuth token, or a server API token."""

    IDENTITY = "identity"
    TOKEN = "token"  # noqa: S105 (the method's name, not a secret)

    @property
    def label(self) -> str:
        return {"identity": "Identity (verified users)", "token": "Token (API tokens)"}[self.value]


class ServerGroup(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class ServerTool(msgspec.Struct, frozen=True, kw_only=True):
    """A recipe attached to a server as a tool. ``published_version`` is None while the recipe has no
    published version (the tool is then not listed)."""

    recipe_id: UUID
    tool_name: str
    title: str
    description: str
    scope: str
    read_only: bool = False
    destructive: bool = False
    published_version: int | None = None


class RemoteTool(msgspec.Struct, frozen=True, kw_only=True):
    """A remote MCP server's tool offered directly on a server, through one of its connections (shared,
    or each end user's own); its title, description and input schema come from the remote server."""

    id: UUID
    tool_name: str
    connection_id: UUID
    connection_name: str
    connector: str  # the remote server's key
    action: str
    scope: str
    read_only: bool = False
    destructive: bool = False


class RemoteToolAttach(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Offer a remote tool: the connection to call it through, its action, and (empty: the action's
    name) the tool's name here; ``scope`` empty means ``mcp:tools:<tool name>``."""

    connection_id: UUID
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Annotated[str, msgspec.Meta(max_length=64)] = ""
    scope: str = ""
    read_only: bool = False
    destructive: bool = False


class ClientRateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """A client's own rate limit on one server, instead of the server's (0: no limit). ``client_id`` is
    an OAuth client's id, or ``token:<name>`` for an API token of a Token server."""

    client_id: str
    rate_limit_per_minute: int


class McpServer(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    slug: str
    name: str
    description: str = ""
    instructions: str = ""
    access_method: AccessMethod = AccessMethod.IDENTITY
    rate_limit_per_minute: int = 60  # requests per (server, client, user); 0: no limit
    client_rate_limits: tuple[ClientRateLimit, ...] = ()
    groups: tuple[ServerGroup, ...] = ()
    created_at: datetime
    updated_at: datetime

    def rate_limit_for(self, client_id: str) -> int:
        """The requests a minute each person may send through ``client_id`` (0: no limit)."""
        own = next((limit for limit in self.client_rate_limits if limit.client_id == client_id), None)
        return own.rate_limit_per_minute if own is not None else self.rate_limit_per_minute


class ServerCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: str
    name: str
    description: str = ""
    instructions: str = ""
    access_method: AccessMethod = AccessMethod.IDENTITY
    rate_limit_per_minute: int = 60


class ServerUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out (None) stay as they are; the slug cannot change (clients hold the URL)."""

    name: str | None = None
    description: str | None = None
    instructions: str | None = None
    access_method: AccessMethod | None = None
    rate_limit_per_minute: int | None = None


class ToolAttach(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attach a recipe; ``scope`` empty means ``mcp:tools:<tool name>``."""

    recipe_id: UUID
    scope: str = ""
    read_only: bool = False
    destructive: bool = False


class ToolUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scope: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """Where a token's user and client stand with a server now, read in one query on every request."""

    client_exists: bool
    is_active: bool
    email: str
    name: str
    groups: tuple[str, ...]  # the user's end-user groups, by name
    may_use: bool  # in one of the server's groups
    service_account: bool = False  # a client's own account (client credentials), not a person


class ServerToken(msgspec.Struct, frozen=True, kw_only=True):
    """A server API token (Token access method); the secret itself is shown once, at creation."""

    id: UUID
    server_id: UUID
    name: str
    prefix: str  # the first characters of the token, to tell tokens apart in lists
    created_at: datetime
    created_by: str = ""
    last_used_at: datetime | None = None


class NewServerToken(msgspec.Struct, frozen=True, kw_only=True):
    token: ServerToken
    secret: str  # shown once
