"""What the remote-server service takes and gives (API bodies, CLI and console forms)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from switchboard.connectors.connections.models import Name, Secret
from switchboard.connectors.definitions.model import Key
from switchboard.connectors.remote.discovery import AuthMode, DiscoveryResult

Url = Annotated[str, msgspec.Meta(max_length=1000)]
Scopes = Annotated[
    tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=200)], ...], msgspec.Meta(max_length=50)
]


class AuthInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How Switchboard authenticates to the server. Anything left empty is filled in from discovery.

    ``mode`` empty: what discovery recommends. ``token`` with ``header`` (empty: ``Authorization: Bearer``)
    for the token mode; ``client_id``/``client_secret`` for a client registered by hand (else Switchboard
    registers itself); the URLs and scopes override what the server publishes.
    """

    mode: AuthMode | None = None
    token: Secret = ""
    header: Annotated[str, msgspec.Meta(max_length=100, pattern=r"^[A-Za-z0-9-]*$")] = ""
    client_id: Annotated[str, msgspec.Meta(max_length=500)] = ""
    client_secret: Secret = ""
    scopes: Scopes | None = None
    auth_url: Url = ""
    token_url: Url = ""
    register_url: Url = ""
    resource: Url = ""


class RemoteServerInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: Key
    name: Name
    endpoint: Url
    auth: AuthInput = AuthInput()
    allow_private: bool = False


class RemoteServerPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A change; omitted fields keep their value, and within ``auth`` empty ones keep theirs too."""

    name: Name | None = None
    endpoint: Url | None = None
    auth: AuthInput | None = None
    allow_private: bool | None = None


class DiscoverInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    endpoint: Url
    allow_private: bool = False


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The auth configuration in effect (no secrets: only whether they are set)."""

    mode: AuthMode
    header: str = ""
    client_id: str = ""
    scopes: tuple[str, ...] = ()
    auth_url: str = ""
    token_url: str = ""
    register_url: str = ""
    revocation_url: str = ""
    resource: str = ""
    issuer: str = ""
    token_endpoint_auth_method: str = "none"
    iss_parameter_supported: bool = False
    token_set: bool = False
    client_secret_set: bool = False
    registered: Literal["", "given", "metadata_document", "dynamic"] = ""


class RemoteTool(msgspec.Struct, frozen=True, kw_only=True):
    """One of the server's tools, as the action it is in recipes (``action``) and on the server (``name``)."""

    action: str
    name: str
    title: str = ""
    description: str = ""
    input_schema: dict[str, Any] = {}
    read_only: bool = False
    destructive: bool = False


class RemoteServer(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str
    endpoint: str
    auth: AuthSettings
    allow_private: bool
    discovery_result: DiscoveryResult | None = None
    tools: tuple[RemoteTool, ...] = ()
    tools_refreshed_at: datetime | None = None
    warnings: tuple[str, ...] = ()
    created_by: str = ""
    created_at: datetime
    updated_at: datetime
