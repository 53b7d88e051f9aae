"""The audit log of tool calls: who called which tool of which server, through which client, and how it went.

One row per ``tools/call`` that reached a tool, or that the server's rate limit refused (other refusals
are the audit trail's ``mcp.refused`` records), written once when the call ends, with the run's id to
open its job history. A row keeps where the call came from: the client's name as the registry had it
then, the caller's address and user agent, and the scopes of the token. Admins read it with filters and
export it as CSV. A message keeps a connect link without its token, which is its caller's alone. Rows go
through the app's group commit (``platform/core/group_commit.py``): ``record`` returns once its row is
committed, so a call is on record before its answer leaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.table import Table

from switchboard.identity.audit import csv_text
from switchboard.platform.core.group_commit import GroupCommit
from switchboard.recipes.masking import without_link_tokens

PAGE_SIZE = 100
CSV_LIMIT = 100_000
CSV_BATCH = 1000  # rows read, and written out, at a time
CSV_COLUMNS = [
    "time",
    "server",
    "tool",
    "user",
    "client",
    "outcome",
    "duration_ms",
    "run_id",
    "message",
    "client_name",
    "scope",
    "ip_address",
    "user_agent",
]

# How a call ended: the run's outcome, or refused before the run by the server's rate limit.
OUTCOMES: dict[str, str] = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "connection_required": "Connection required",
    "timed_out": "Timed out",
    "cancelled": "Cancelled",
    "rate_limited": "Rate limited",
}


class ToolCallRow(Table, tablename="mcp_tool_call"):
    id = UUIDColumn(primary_key=True)
    at = Timestamptz(index=True)
    server_slug = Varchar(length=64, index=True)
    tool = Varchar(length=64, index=True)
    user_email = Varchar(length=254, index=True, default="")
    client_id = Varchar(length=600, default="")
    outcome = Varchar(length=24, index=True)
    duration_ms = Integer(default=0)
    run_id = UUIDColumn(null=True, default=None)
    message = Text(default="")
    client_name = Varchar(length=200, default="", help_text="The client's name in the registry at the time.")
    scope = Text(default="", help_text="The scopes of the token the call was made with, space-separated.")
    ip_address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    at: datetime
    server_slug: str
    tool: str
    user_email: str
    client_id: str
    outcome: str
    duration_ms: int
    run_id: UUID | None = None
    message: str = ""
    client_name: str = ""  # "" when the registry did not know the client
    scope: str = ""  # the token's scopes, space-separated ("" for a server API token)
    ip_address: str = ""
    user_agent: str = ""


class ToolCallFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Every field narrows the list; empty ones do not. ``user`` matches the e-mail exactly (any case);
    ``client`` the client's id exactly, or its name in any case."""

    user: str = ""
    client: str = ""
    server: str = ""
    tool: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None


class ToolCallLog:
    # The app's shared writer (``Services.build``); one that is never started writes each row at once.
    writer: GroupCommit = GroupCommit()

    def __init__(self, *, writer: GroupCommit | None = None) -> None:
        if writer is not None:
            self.writer = writer

    async def record(self, call: ToolCall) -> None:
        kept = msgspec.structs.replace(
            call,
            message=without_link_tokens(call.message),
            client_name=call.client_name[:200],
            ip_address=call.ip_address[:64],
            user_agent=call.user_agent[:300],
        )
        await self.writer.write(ToolCallRow(**msgspec.structs.asdict(kept)))

    async def search(
        self, where: ToolCallFilter, *, limit: int = PAGE_SIZE, before: datetime | None = None
    ) -> list[ToolCall]:
        """Newest first; ``before`` pages on from the ``at`` of the last one shown."""
        query = ToolCallRow.select()
        for condition in _conditions(where, before):
            query = query.where(condition)
        rows = await query.order_by(ToolCallRow.at, ascending=False).limit(limit)
        return [_call(row) for row in rows]

    async def export(self, where: ToolCallFilter) -> AsyncIterator[str]:
        """The calls matching ``where`` as CSV, newest first, in pieces of up to ``CSV_BATCH`` rows (read a
        batch at a time, so that neither the database nor this process holds them all at once). Past
        ``CSV_LIMIT`` rows a last line says the export was cut short."""
        yield csv_text([CSV_COLUMNS])
        written = 0
        last: dict[str, Any] | None = None
        while True:
            query = ToolCallRow.select()
            for condition in _conditions(where, None):
                query = query.where(condition)
            if last is not None:  # on from the last row written: (at, id) orders every row
                query = query.where(
                    (ToolCallRow.at < last["at"])
                    | ((ToolCallRow.at == last["at"]) & (ToolCallRow.id < last["id"]))
                )
            rows = await query.order_by(ToolCallRow.at, ToolCallRow.id, ascending=False).limit(CSV_BATCH)
            kept = rows[: CSV_LIMIT - written]
            if kept:
                yield csv_text(_csv_row(_call(row)) for row in kept)
            if len(kept) < len(rows):
                yield csv_text(
                    [[f"Only the newest {CSV_LIMIT} matching calls are in this file: narrow the filters."]]
                )
                return
            if len(rows) < CSV_BATCH:
                return
            written += len(rows)
            last = rows[-1]

    async def export_csv(self, where: ToolCallFilter) -> str:
        return "".join([piece async for piece in self.export(where)])


def _call(row: dict[str, Any]) -> ToolCall:
    return msgspec.convert(row | {"message": without_link_tokens(row["message"])}, ToolCall)


def _csv_row(call: ToolCall) -> list[object]:
    """A call's cells (``csv_text`` makes each one safe to open in a spreadsheet)."""
    return [
        call.at.isoformat(),
        call.server_slug,
        call.tool,
        call.user_email,
        call.client_id,
        call.outcome,
        call.duration_ms,
        call.run_id or "",
        call.message,
        call.client_name,
        call.scope,
        call.ip_address,
        call.user_agent,
    ]


def _conditions(where: ToolCallFilter, before: datetime | None) -> list[Combinable]:
    conditions: list[Combinable] = []
    if where.user:
        conditions.append(ToolCallRow.user_email == where.user.strip().lower())
    if client := where.client.strip():
        # lower() on both sides: blind to case on both engines.
        same_name = WhereRaw('lower("client_name") = lower({})', client)
        conditions.append((ToolCallRow.client_id == client) | same_name)
    if where.server:
        conditions.append(ToolCallRow.server_slug == where.server.strip())
    if where.tool:
        conditions.append(ToolCallRow.tool == where.tool.strip())
    if where.outcome:
        conditions.append(ToolCallRow.outcome == where.outcome.strip())
    if where.since is not None:
        conditions.append(ToolCallRow.at >= where.since)
    if where.until is not None:
        conditions.append(ToolCallRow.at < where.until)
    if before is not None:
        conditions.append(ToolCallRow.at < before)
    return conditions
