"""The audit trail: every token issued or refused, every registration, approval, deletion and consent."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from switchboard.identity.tables import AuditEvent


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    outcome: str = "ok"
    actor: str = ""
    subject: str = ""
    client_id: str = ""
    client_name: str = ""
    grant_type: str = ""
    scope: str = ""
    reason: str = ""
    ip_address: str = ""


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    action: str
    outcome: str
    actor: str
    subject: str
    client_id: str
    client_name: str
    grant_type: str
    scope: str
    reason: str
    ip_address: str


class AuditLog:
    async def record(self, entry: AuditEntry) -> None:
        await AuditEvent(
            at=datetime.now(UTC),
            **{field: getattr(entry, field)[: _LIMITS.get(field, 500)] for field in entry.__struct_fields__},
        ).save()

    async def recent(self, *, limit: int = 100, offset: int = 0, action: str = "") -> list[AuditRecord]:
        query = AuditEvent.select().order_by(AuditEvent.id, ascending=False).limit(limit).offset(offset)
        if action:
            query = query.where(AuditEvent.action.like(f"{action}%"))
        return [msgspec.convert(row, AuditRecord) for row in await query]


_LIMITS = {
    "action": 48,
    "outcome": 16,
    "actor": 254,
    "subject": 254,
    "client_name": 200,
    "scope": 2000,
    "ip_address": 64,
}
