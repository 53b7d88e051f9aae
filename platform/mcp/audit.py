"""The audit log of tool calls: who called which tool of which server, through which client, and how it went.

One row per ``tools/call`` that reached a tool (refusals before it are the identity layer's audit events),
written once when the call ends, with the run's id to open its job history. Admins read it with filters
and export it as CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from uuid import UUID

import msgspec
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.custom_types import Combinable
from piccolo.table import Table

PAGE_SIZE = 100
CSV_LIMIT = 100_000

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


class ToolCallFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Every field narrows the list; empty ones do not. ``user`` matches the e-mail exactly (any case)."""

    user: str = ""
    server: str = ""
    tool: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None


class ToolCallLog:
    async def record(self, call: ToolCall) -> None:
        await ToolCallRow.insert(ToolCallRow(**msgspec.structs.asdict(call)))

    async def search(
        self, where: ToolCallFilter, *, limit: int = PAGE_SIZE, before: datetime | None = None
    ) -> list[ToolCall]:
        """Newest first; ``before`` pages on from the ``at`` of the last one shown."""
        query = ToolCallRow.select()
        for condition in _conditions(where, before):
            query = query.where(condition)
        rows = await query.order_by(ToolCallRow.at, ascending=False).limit(limit)
        return [msgspec.convert(row, ToolCall) for row in rows]

    async def export_csv(self, where: ToolCallFilter) -> str:
        calls = await self.search(where, limit=CSV_LIMIT)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["time", "server", "tool", "user", "client", "outcome", "duration_ms", "run_id", "message"]
        )
        for call in calls:
            writer.writerow(
                [
                    call.at.isoformat(),
                    _cell(call.server_slug),
                    _cell(call.tool),
                    _cell(call.user_email),
                    _cell(call.client_id),
                    _cell(call.outcome),
                    call.duration_ms,
                    str(call.run_id or ""),
                    _cell(call.message),
                ]
            )
        return out.getvalue()


def _conditions(where: ToolCallFilter, before: datetime | None) -> list[Combinable]:
    conditions: list[Combinable] = []
    if where.user:
        conditions.append(ToolCallRow.user_email == where.user.strip().lower())
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


def _cell(text: str) -> str:
    """A spreadsheet must not run what a cell holds (CSV injection): formulas start with = + - @."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
