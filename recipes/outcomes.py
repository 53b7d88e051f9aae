"""What running and checking a recipe gives: the caller, problems, the tool result and the run report."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec


class RunCaller(msgspec.Struct, frozen=True, kw_only=True):
    """Who a run is for. ``user_id`` None: an automation with no end user (end user's connections refuse).

    ``email``, ``name`` and ``groups`` are the ``user`` data pill.
    """

    user_id: UUID | None
    email: str = ""
    name: str = ""
    groups: tuple[str, ...] = ()


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with a recipe: where (step number such as ``2.1``, or ``trigger``) and which field."""

    step: str
    field: str
    message: str
    step_id: str = ""

    def __str__(self) -> str:
        where = "Trigger" if self.step == "trigger" else f"Step {self.step}" if self.step else "Recipe"
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CONNECTION_REQUIRED = "connection_required"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


StepStatus = Literal["succeeded", "failed", "skipped", "connection_required", "timed_out", "cancelled"]


class ToolResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the tool answers: text for people and models, and structured content when the recipe has it."""

    text: str = ""
    structured: Any = None
    is_error: bool = False


class StepRun(msgspec.Struct, frozen=True, kw_only=True):
    """One step's part of a run, as the job history shows it (values masked and truncated)."""

    number: str
    step_id: str
    title: str
    type: str
    status: StepStatus
    duration_ms: int = 0
    attempts: int = 1
    input: Any = None
    output: Any = None
    error: str = ""


class RunReport(msgspec.Struct, frozen=True, kw_only=True):
    """A finished run. ``message`` is what a person can act on when it did not succeed; ``connect_url`` is
    the caller's connect link when the outcome is ``connection_required``."""

    id: UUID
    recipe_id: UUID
    version: int | None
    kind: Literal["tool", "test"]
    caller_id: UUID | None
    caller_email: str
    started_at: datetime
    duration_ms: int
    outcome: Outcome
    message: str = ""
    connect_url: str = ""
    app_name: str = ""
    connection_name: str = ""
    input: Any = None
    result: ToolResult | None = None
    steps: tuple[StepRun, ...] = ()
    steps_omitted: int = 0  # step runs past the record's limit (a long for-each), run but not recorded

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED
