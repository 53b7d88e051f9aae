"""The audit trail: every administrative change, sign-in, token and refusal, who did it and to what.

Append-only: the product has no path that updates or deletes a record, and the database refuses both
(triggers made by the migration that gave records their object). Records are kept until the operator
removes them by hand.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from switchboard.identity.tables import AuditEvent

if TYPE_CHECKING:
    from switchboard.identity.principal import Actor

OUTCOMES = ("ok", "refused")
CSV_LIMIT = 100_000
"""The most records one CSV export holds; a capped file says so in its last line."""
_CSV_BATCH = 1000


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
    user_agent: str = ""
    object_type: str = ""
    object_id: str = ""
    object_name: str = ""


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
    user_agent: str
    object_type: str
    object_id: str
    object_name: str


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which records to read; every field set narrows them, the empty ones do not.

    ``action`` is one action, or a whole area when it ends with a dot (``user.``); ``actor`` is part of
    the actor's e-mail and ``object`` part of the object's id or name, in any case; ``since`` is
    included, ``until`` is not.
    """

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AuditLog:
    async def record(self, entry: AuditEntry) -> None:
        await AuditEvent(
            at=datetime.now(UTC),
            # PostgreSQL cannot store NUL, which a refused sign-in's e-mail may hold: it is dropped.
            **{
                field: getattr(entry, field).replace("\x00", "")[: _LIMITS.get(field, 500)]
                for field in entry.__struct_fields__
            },
        ).save()

    async def change(
        self,
        actor: Actor,
        action: str,
        *,
        object_type: str,
        object_id: object,
        object_name: str = "",
        subject: str = "",
        reason: str = "",
        outcome: str = "ok",
        client_id: str = "",
        client_name: str = "",
        grant_type: str = "",
        scope: str = "",
    ) -> None:
        """Record what ``actor`` did (always the person acting, never the owner of what they acted on),
        from the address and user agent of their request."""
        await self.record(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor=actor.email,
                subject=subject,
                client_id=client_id,
                client_name=client_name,
                grant_type=grant_type,
                scope=scope,
                reason=reason,
                ip_address=actor.ip_address,
                user_agent=actor.user_agent,
                object_type=object_type,
                object_id=str(object_id),
                object_name=object_name,
            )
        )

    async def search(
        self,
        where: AuditFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        before: int | None = None,
    ) -> list[AuditRecord]:
        """Newest first; ``before`` (a record's id) reads only the records older than that one."""
        query = AuditEvent.select().order_by(AuditEvent.id, ascending=False).limit(limit).offset(offset)
        conditions = _conditions(where or AuditFilter())
        if before is not None:
            conditions.append(AuditEvent.id < before)
        for condition in conditions:
            query = query.where(condition)
        return [msgspec.convert(row, AuditRecord) for row in await query]

    async def recent(self, *, limit: int = 100, offset: int = 0, action: str = "") -> list[AuditRecord]:
        return await self.search(AuditFilter(action=action), limit=limit, offset=offset)

    async def export_csv(self, where: AuditFilter) -> AsyncIterator[str]:
        """The matching records as CSV, newest first, read and written a batch at a time; at most
        ``CSV_LIMIT`` of them, and then a last line saying the file stops there."""
        limit = CSV_LIMIT
        yield csv_text([CSV_COLUMNS])
        written, before = 0, None
        while written < limit:
            batch = await self.search(where, limit=min(_CSV_BATCH, limit - written), before=before)
            if not batch:
                return
            yield csv_text(_csv_row(record) for record in batch)
            written += len(batch)
            before = batch[-1].id
        if await self.search(where, limit=1, before=before):
            yield csv_text(
                [[f"Only the newest {limit} matching events are in this file: narrow the filters."]]
            )


CSV_COLUMNS = [
    "time",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object_name",
    "outcome",
    "reason",
    "subject",
    "client_id",
    "client_name",
    "grant_type",
    "scope",
    "ip_address",
    "user_agent",
]


def _csv_row(record: AuditRecord) -> list[str]:
    return [record.at.astimezone(UTC).isoformat()] + [getattr(record, name) for name in CSV_COLUMNS[1:]]


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV lines, each cell as text a spreadsheet shows rather than runs (``safe_cell``): what
    every CSV export of the audit (its events, the tool calls) is written with."""
    out = io.StringIO()
    csv.writer(out).writerows([safe_cell(str(cell)) for cell in row] for row in rows)
    return out.getvalue()


def rationed(hits: int) -> bool:
    """Whether the ``hits``-th refusal of one kind in a window is recorded: the 1st, 10th, 100th, 1000th…,
    so that however many are sent, a handful of records a minute stand for them."""
    while hits > 1 and hits % 10 == 0:
        hits //= 10
    return hits == 1


def safe_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows rather than runs: one that could start a formula (``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return) starts with ``'`` instead."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _conditions(where: AuditFilter) -> list[Combinable]:
    conditions: list[Combinable] = []
    if where.action.endswith("."):
        conditions.append(_starts_with("action", where.action))
    elif where.action:
        conditions.append(AuditEvent.action == where.action)
    if where.actor.strip():
        conditions.append(_contains("actor", where.actor))
    if where.object_type:
        conditions.append(AuditEvent.object_type == where.object_type)
    if where.object.strip():
        conditions.append(_contains("object_id", where.object) | _contains("object_name", where.object))
    if where.outcome:
        conditions.append(AuditEvent.outcome == where.outcome)
    if where.since is not None:
        conditions.append(AuditEvent.at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.at < where.until)
    return conditions


# LIKE with its wildcards escaped, so that what an admin types matches only itself; lower() on both sides
# makes it blind to case on both engines.
_LIKE = "lower({column}) LIKE lower({{}}) ESCAPE '\\'"


def _contains(column: str, text: str) -> Combinable:
    return WhereRaw(_LIKE.format(column=f'"{column}"'), f"%{_escape(text.strip())}%")


def _starts_with(column: str, text: str) -> Combinable:
    return WhereRaw(_LIKE.format(column=f'"{column}"'), f"{_escape(text)}%")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The columns' lengths (500 for the others).
_LIMITS: dict[str, int] = {
    "action": 48,
    "outcome": 16,
    "actor": 254,
    "subject": 254,
    "client_name": 200,
    "grant_type": 40,
    "scope": 2000,
    "ip_address": 64,
    "user_agent": 300,
    "object_type": 32,
    "object_id": 200,
    "object_name": 254,
}
