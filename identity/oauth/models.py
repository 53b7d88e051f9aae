"""The shapes the authorization server's services hand to pages, controllers and the CLI."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from switchboard.identity.oauth.redirects import is_web_url


class ClientKind(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"
    METADATA_DOCUMENT = "metadata_document"

    @property
    def label(self) -> str:
        return {
            "static": "created by an admin",
            "dynamic": "registered dynamically",
            "metadata_document": "client ID metadata document",
        }[self.value]


class ClientStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class RegistrationPolicy(StrEnum):
    OPEN = "open"
    ADMIN_APPROVAL = "admin_approval"
    CLOSED = "closed"


class Client(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    client_id: str
    kind: ClientKind
    name: str
    redirect_uris: list[str]
    grant_types: list[str]
    token_endpoint_auth_method: str
    scope: str
    client_uri: str
    status: ClientStatus
    approved_by: str | None
    approved_at: datetime | None
    service_account_id: UUID | None
    service_account_email: str | None
    may_introspect_any: bool
    fingerprint: str
    created_at: datetime
    last_used_at: datetime | None
    has_secret: bool
    scope_cap: tuple[str, ...] = ()
    """The scopes an admin allows the client at most (``offline_access`` aside); empty: no cap."""

    @property
    def is_confidential(self) -> bool:
        return self.token_endpoint_auth_method != "none"

    @property
    def website(self) -> str:
        """The client's web page, when it is safe to link to (http or https), else ''."""
        return self.client_uri if is_web_url(self.client_uri) else ""

    @property
    def redirect_hosts(self) -> list[str]:
        return sorted({urlsplit(uri).netloc or urlsplit(uri).scheme + ":" for uri in self.redirect_uris})


class ClientWithSecret(msgspec.Struct, frozen=True):
    client: Client
    client_secret: str | None


class ClientGroup(msgspec.Struct, frozen=True):
    """Registrations of the same client (same name and redirect URIs), newest first."""

    name: str
    clients: list[Client]


class StaticClientCreate(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    redirect_uris: list[str] = []
    grant_types: list[str] = msgspec.field(default_factory=lambda: ["authorization_code", "refresh_token"])
    confidential: bool = True
    may_introspect_any: bool = False


class AppGrant(msgspec.Struct, frozen=True, kw_only=True):
    """A client a user has authorized (My apps)."""

    client_id: str
    client_name: str
    client_kind: ClientKind
    resources: list[str]
    scopes: list[str]
    authorized_at: datetime
    last_used_at: datetime | None
