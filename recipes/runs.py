"""Run history: one row per finished run, written once, read by the editor's history and the recipes list.

A run is written as one row when it ends: a tool call must cost one database write besides the reads it
needs, so nothing else (no "last run" column on the recipe) is updated; the recipes list asks
``last_runs`` instead. The row goes through the app's group commit (``platform/core/group_commit.py``):
committed, with the rows arriving at the same moment, before ``save`` returns (a tool call's run and
audit row together). What is stored goes through ``mask``: secrets hidden, large values cut, connect
links kept without their token (and read back without it, whatever a row holds). The report the engine
hands back to its caller is not masked (the caller gets the real tool result and its connect link).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import msgspec

from switchboard.platform.core.errors import NotFound
from switchboard.platform.core.group_commit import GroupCommit
from switchboard.recipes.masking import mask, secrets_in, without_link_tokens
from switchboard.recipes.outcomes import Outcome, RunReport, StepRun, ToolResult
from switchboard.recipes.tables import RecipeRun


class RunSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A run as the history lists it (no inputs, outputs or steps)."""

    id: UUID
    version: int | None
    kind: Literal["tool", "test"]
    caller_email: str
    started_at: datetime
    duration_ms: int
    outcome: Outcome
    message: str


_SUMMARY_COLUMNS = (
    RecipeRun.id,
    RecipeRun.version,
    RecipeRun.kind,
    RecipeRun.caller_email,
    RecipeRun.started_at,
    RecipeRun.duration_ms,
    RecipeRun.outcome,
    RecipeRun.message,
)


class RunStore:
    # The app's shared writer (``Services.build``); one that is never started writes each row at once.
    writer: GroupCommit = GroupCommit()

    def __init__(
        self, *, retention: timedelta = timedelta(days=30), writer: GroupCommit | None = None
    ) -> None:
        self._retention = retention
        if writer is not None:
            self.writer = writer

    async def save(self, report: RunReport) -> None:
        """Store a finished run (one row, committed on return), its values masked."""
        secrets = secrets_in(report.input)
        for step in report.steps:
            secrets_in(step.input, secrets)
            secrets_in(step.output, secrets)
        # Within a tool call's held writes, a run that cannot be stored is logged as the engine logs it.
        await self.writer.write(
            RecipeRun(
                id=report.id,
                recipe=report.recipe_id,
                version=report.version,
                kind=report.kind,
                caller_id=report.caller_id,
                caller_email=report.caller_email,
                started_at=report.started_at,
                duration_ms=report.duration_ms,
                outcome=report.outcome.value,
                message=mask(report.message, secrets),
                input=_json(mask(report.input, secrets)),
                result=_json(_masked_result(report.result, secrets)),
                steps=_json([_masked_step(step, secrets) for step in report.steps]),
                steps_omitted=report.steps_omitted,
            ),
            failure_logged_as=f"Recipe run {report.id}: its record could not be saved",
        )

    async def get(self, run_id: UUID) -> RunReport:
        row = await RecipeRun.select().where(RecipeRun.id == run_id).first()
        if row is None:
            raise NotFound("There is no such run.", field="run_id")
        result = _loaded(row["result"])
        return RunReport(
            id=row["id"],
            recipe_id=row["recipe"],
            version=row["version"],
            kind=row["kind"],
            caller_id=row["caller_id"],
            caller_email=row["caller_email"],
            started_at=row["started_at"],
            duration_ms=row["duration_ms"],
            outcome=Outcome(row["outcome"]),
            message=without_link_tokens(row["message"]),
            input=_loaded(row["input"]),
            result=msgspec.convert(result, ToolResult) if isinstance(result, dict) else None,
            steps=msgspec.convert(_loaded(row["steps"]) or [], tuple[StepRun, ...]),
            steps_omitted=row["steps_omitted"],
        )

    async def list_for(
        self, recipe_id: UUID, *, limit: int = 50, before: datetime | None = None
    ) -> list[RunSummary]:
        """A recipe's runs, newest first; ``before`` pages on (the ``started_at`` of the last one shown)."""
        query = RecipeRun.select(*_SUMMARY_COLUMNS).where(RecipeRun.recipe == recipe_id)
        if before is not None:
            query = query.where(RecipeRun.started_at < before)
        rows = await query.order_by(RecipeRun.started_at, ascending=False).limit(limit)
        return [_summary(row) for row in rows]

    async def last_runs(self, recipe_ids: list[UUID] | tuple[UUID, ...]) -> dict[UUID, RunSummary]:
        """Each recipe's newest run, for the recipes list (recipes never run are left out).

        One indexed query per recipe: portable across SQLite and PostgreSQL, and the list is short.
        """
        found: dict[UUID, RunSummary] = {}
        for recipe_id in dict.fromkeys(recipe_ids):
            runs = await self.list_for(recipe_id, limit=1)
            if runs:
                found[recipe_id] = runs[0]
        return found

    async def remove_older_than(self, cutoff: datetime) -> int:
        """Retention: remove runs that started before ``cutoff``; returns how many went."""
        removed = await RecipeRun.delete().where(RecipeRun.started_at < cutoff).returning(RecipeRun.id)
        return len(removed)

    async def remove_expired(self) -> int:
        """Retention: the runs older than the configured number of days go (run by housekeeping)."""
        return await self.remove_older_than(datetime.now(UTC) - self._retention)


def _summary(row: dict[str, Any]) -> RunSummary:
    return RunSummary(
        id=row["id"],
        version=row["version"],
        kind=row["kind"],
        caller_email=row["caller_email"],
        started_at=row["started_at"],
        duration_ms=row["duration_ms"],
        outcome=Outcome(row["outcome"]),
        message=without_link_tokens(row["message"]),
    )


def _masked_result(result: ToolResult | None, secrets: set[str]) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "text": mask(result.text, secrets),
        "structured": mask(result.structured, secrets),
        "is_error": result.is_error,
    }


def _masked_step(step: StepRun, secrets: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.structs.asdict(step)
    data["input"] = mask(step.input, secrets)
    data["output"] = mask(step.output, secrets)
    data["error"] = mask(step.error, secrets)
    return data


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _loaded(value: Any) -> Any:
    """A JSON column's value, its strings without connect link tokens. JSON columns come back as text
    (both engines); tolerate an already decoded value."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        decoded = msgspec.json.decode(value)
        return _without_link_tokens(decoded) if "/connect/" in value else decoded
    return _without_link_tokens(value)


def _without_link_tokens(value: Any) -> Any:
    if isinstance(value, str):
        return without_link_tokens(value)
    if isinstance(value, list):
        return [_without_link_tokens(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_link_tokens(item) for key, item in value.items()}
    return value
