"""OAuth clients as stored: looking them up (by client ID, by database id, all of them), the row every
kind of client is saved as, and the identifiers and secrets the server makes for them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.oauth.models import Client, ClientGroup, ClientKind, ClientStatus
from switchboard.identity.principal import Actor
from switchboard.identity.tables import OAuthClient
from switchboard.platform.core.errors import NotFound
from switchboard.platform.core.tokens import new_token, token_hash

CLIENT_ID_PREFIX = "sbc_"
SECRET_PREFIX = "sbs_"
_TOUCH_INTERVAL = timedelta(minutes=1)


def now() -> datetime:
    return datetime.now(UTC)


def new_client_id() -> str:
    return new_token(CLIENT_ID_PREFIX)[:40]


def new_secret() -> str:
    return new_token(SECRET_PREFIX)


def fingerprint(name: str, redirect_uris: list[str]) -> str:
    """What repeated registrations of one client share: its name and redirect URIs."""
    return hashlib.sha256(json.dumps([name.strip().lower(), sorted(redirect_uris)]).encode()).hexdigest()


def json_value(value: Any) -> Any:
    """A JSON column's value: Piccolo hands some back still encoded."""
    return json.loads(value) if isinstance(value, str) else value


def registered_row(
    client_id: str,
    kind: ClientKind,
    name: str,
    cleaned: dict[str, Any],
    status: ClientStatus,
    secret: str | None,
) -> OAuthClient:
    """The row of a client that described itself (registration or metadata document)."""
    return OAuthClient(
        client_id=client_id,
        kind=kind.value,
        name=name[:200],
        redirect_uris=cleaned["redirect_uris"],
        grant_types=cleaned["grant_types"],
        token_endpoint_auth_method=cleaned["token_endpoint_auth_method"],
        secret_hash=token_hash(secret) if secret else None,
        scope=cleaned.get("scope", ""),
        client_uri=str(cleaned.get("client_uri", "")),
        logo_uri=str(cleaned.get("logo_uri", "")),
        status=status.value,
        fingerprint=fingerprint(name, cleaned["redirect_uris"]),
        metadata=cleaned,
        created_at=now(),
    )


CLIENT = "client"
"""The audit trail's object type of a client: its client ID is the object's id, its name the object's name."""


async def record_admin_event(
    audit: AuditLog,
    action: str,
    client: Client,
    actor: Actor,
    reason: str = "",
    *,
    grant_type: str = "",
    scope: str = "",
) -> None:
    """Record what an admin (or the command line) did to ``client``, from where the admin acted."""
    await audit.change(
        actor,
        action,
        object_type=CLIENT,
        object_id=client.client_id,
        object_name=client.name,
        client_id=client.client_id,
        client_name=client.name,
        grant_type=grant_type,
        scope=scope,
        reason=reason,
    )


def client_entry(action: str, client_id: str, client_name: str, **fields: str) -> AuditEntry:
    """A record about a client that no admin made (a registration, a consent, a sweep of unused
    clients): the client is its object all the same."""
    return AuditEntry(
        action=action,
        client_id=client_id,
        client_name=client_name,
        object_type=CLIENT,
        object_id=client_id,
        object_name=client_name,
        **fields,
    )


class ClientStore:
    async def get(self, client_id: str) -> Client:
        client = await self.find(client_id)
        if client is None:
            raise NotFound("There is no such client.", field="client_id")
        return client

    async def find(self, client_id: str) -> Client | None:
        if not client_id or len(client_id) > 500:
            return None
        rows = await _select().where(OAuthClient.client_id == client_id)
        return _client(rows[0]) if rows else None

    async def find_with_secret_hash(self, client_id: str | None) -> tuple[Client, str | None] | None:
        """The client and the hash of its secret, for client authentication."""
        if not client_id or len(client_id) > 500:
            return None
        rows = await _select().where(OAuthClient.client_id == client_id)
        return (_client(rows[0]), rows[0]["secret_hash"]) if rows else None

    async def get_by_pk(self, client_pk: UUID) -> Client:
        """The client with this database id (pages use it: client IDs can be URLs)."""
        rows = await _select().where(OAuthClient.id == client_pk)
        if not rows:
            raise NotFound("There is no such client.", field="client_id")
        return _client(rows[0])

    async def list_all(self) -> list[Client]:
        rows = await _select().order_by(OAuthClient.created_at, ascending=False)
        return [_client(row) for row in rows]

    async def list_grouped(self) -> list[ClientGroup]:
        """Clients with repeated registrations (same name and redirect URIs) shown together."""
        groups: dict[str, list[Client]] = {}
        for client in await self.list_all():
            groups.setdefault(client.fingerprint, []).append(client)
        return [ClientGroup(name=clients[0].name, clients=clients) for clients in groups.values()]

    async def touch(self, client: Client) -> None:
        """Note that the client was used (at most once a minute): unused clients are removed."""
        current = now()
        if client.last_used_at is None or current - client.last_used_at > _TOUCH_INTERVAL:
            await OAuthClient.update({OAuthClient.last_used_at: current}).where(OAuthClient.id == client.id)


def _select() -> Any:
    return OAuthClient.select(
        *OAuthClient.all_columns(exclude=[OAuthClient.metadata]),
        OAuthClient.approved_by.email.as_alias("approved_by_email"),
        OAuthClient.service_account.email.as_alias("service_account_email"),
    )


def _list(value: Any) -> list[Any]:
    return list(json_value(value) or [])


def _client(row: Mapping[str, Any]) -> Client:
    return Client(
        id=row["id"],
        client_id=row["client_id"],
        kind=ClientKind(row["kind"]),
        name=row["name"],
        redirect_uris=[str(uri) for uri in _list(row["redirect_uris"])],
        grant_types=[str(grant) for grant in _list(row["grant_types"])],
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        scope=row["scope"],
        client_uri=row["client_uri"],
        status=ClientStatus(row["status"]),
        approved_by=row.get("approved_by_email"),
        approved_at=row["approved_at"],
        service_account_id=row["service_account"],
        service_account_email=row.get("service_account_email"),
        may_introspect_any=row["may_introspect_any"],
        fingerprint=row["fingerprint"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        has_secret=bool(row.get("secret_hash")),
        scope_cap=tuple(str(row.get("scope_cap", "")).split()),
    )
