"""Client compatibility diagnostics: for each client, person and server, what the client said of itself
(``client_sightings``), whether the person holds a refresh token for it, and its last error.

They answer "why does my client not show the connect link?" (it did not declare URL-mode elicitation,
so the person gets the link as text) and "why must I sign in again every hour?" (it holds no refresh
token: it did not ask for ``offline_access``). The last error is the newer of the person's last tool call
through the client that did not succeed (the tool-call log) and the last refusal of their requests
through it (the audit trail's ``mcp.refused`` records, as rationed as they are).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec
from piccolo.custom_types import Combinable

from switchboard.identity.audit import AuditFilter, AuditRecord
from switchboard.platform.mcp.audit import OUTCOMES, ToolCallRow
from switchboard.platform.mcp.refusals import ACTION as REFUSED
from switchboard.platform.mcp.tables import ClientSighting
from switchboard.recipes.masking import without_link_tokens

SHOWN = 200
"""The most (server, person) rows shown for one client, the most recently seen first."""
_REFUSALS_READ = 25


class OfflineAccessLookup(Protocol):
    """Who holds a live refresh token (the identity layer's ``OfflineAccess``)."""

    async def holders(self, client_id: str) -> set[UUID]: ...

    async def clients_of(self, user_id: UUID) -> set[str]: ...


class RefusalRecords(Protocol):
    """Where refusals are read (the identity layer's ``AuditLog``)."""

    async def search(self, where: AuditFilter | None = None, *, limit: int = 100) -> list[AuditRecord]: ...


class LastError(msgspec.Struct, frozen=True):
    at: datetime
    text: str


class ClientDiagnosis(msgspec.Struct, frozen=True, kw_only=True):
    """``url_elicitation`` None: the client has not said since it was last seen; ``refresh_token`` None:
    none needed, the caller being no person (an API token's caller, or a ``service_account``: a client
    calling as itself with client credentials, which gets a new access token on its own)."""

    server_slug: str
    server_name: str
    client_id: str
    user_email: str
    protocol_version: str
    url_elicitation: bool | None
    client_name: str
    client_version: str
    service_account: bool
    refresh_token: bool | None
    last_seen_at: datetime
    last_error: LastError | None = None


class ClientDiagnostics:
    def __init__(self, *, offline: OfflineAccessLookup, refusals: RefusalRecords) -> None:
        self._offline = offline
        self._refusals = refusals

    async def of_client(self, client_id: str) -> list[ClientDiagnosis]:
        """Everyone's use of the client, per server, the most recently seen first (for admins)."""
        rows = await _sightings(ClientSighting.client_id == client_id)
        holders = await self._offline.holders(client_id)
        return [await self._diagnosis(row, row["user"] in holders) for row in rows]

    async def of_person(self, user_id: UUID) -> list[ClientDiagnosis]:
        """The person's own clients, per server, the most recently seen first."""
        rows = await _sightings(ClientSighting.user == user_id)
        held = await self._offline.clients_of(user_id)
        return [await self._diagnosis(row, row["client_id"] in held) for row in rows]

    async def _diagnosis(self, row: dict[str, Any], holds_refresh_token: bool) -> ClientDiagnosis:
        diagnosis = ClientDiagnosis(
            server_slug=row["server_slug"],
            server_name=row["server_name"],
            client_id=row["client_id"],
            user_email=row["user_email"],
            protocol_version=row["protocol_version"],
            url_elicitation=row["url_elicitation"],
            client_name=row["client_name"],
            client_version=row["client_version"],
            service_account=row["service_account"],
            refresh_token=None if row["user"] is None or row["service_account"] else holds_refresh_token,
            last_seen_at=row["last_seen_at"],
        )
        errors = [
            error for error in (await self._failed_call(diagnosis), await self._refusal(diagnosis)) if error
        ]
        return msgspec.structs.replace(
            diagnosis, last_error=max(errors, key=lambda error: error.at, default=None)
        )

    async def _failed_call(self, diagnosis: ClientDiagnosis) -> LastError | None:
        row = (
            await ToolCallRow.select(
                ToolCallRow.at, ToolCallRow.tool, ToolCallRow.outcome, ToolCallRow.message
            )
            .where(
                (ToolCallRow.user_email == diagnosis.user_email)
                & (ToolCallRow.client_id == diagnosis.client_id)
                & (ToolCallRow.server_slug == diagnosis.server_slug)
                & (ToolCallRow.outcome != "succeeded")
            )
            .order_by(ToolCallRow.at, ascending=False)
            .first()
        )
        if row is None:
            return None
        outcome = OUTCOMES.get(row["outcome"], row["outcome"])
        message = without_link_tokens(row["message"])
        return LastError(row["at"], f"{row['tool']}: {outcome}" + (f": {message}" if message else ""))

    async def _refusal(self, diagnosis: ClientDiagnosis) -> LastError | None:
        where = AuditFilter(action=REFUSED, actor=diagnosis.user_email, object=diagnosis.server_slug)
        for record in await self._refusals.search(where, limit=_REFUSALS_READ):
            if (
                record.client_id == diagnosis.client_id
                and record.actor == diagnosis.user_email
                and record.object_id == diagnosis.server_slug
            ):
                return LastError(record.at, f"Refused: {record.reason}")
        return None


async def _sightings(where: Combinable) -> list[dict[str, Any]]:
    server = ClientSighting.server
    return (
        await ClientSighting.select(
            *ClientSighting.all_columns(exclude=[ClientSighting.server]),
            server.slug.as_alias("server_slug"),
            server.name.as_alias("server_name"),
        )
        .where(where)
        .order_by(ClientSighting.last_seen_at, ascending=False)
        .limit(SHOWN)
    )
