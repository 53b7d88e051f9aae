"""What one recipe run keeps while it runs: its plan, its state, its step records, and how it stops early.

``Plan`` is derived once per definition (the input validator, step numbers and titles); ``RunState`` is
one run's (its steps so far, its deadline); ``StepError`` ends a step and ``Stop`` the whole run.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from jsonschema import Draft202012Validator

from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.definitions.limits import schema_problem
from switchboard.recipes.model import RecipeDefinition, Step, step_title, step_type, walk_steps
from switchboard.recipes.outcomes import Outcome, RunCaller, StepRun, StepStatus

MAX_STEP_RECORDS = 500  # step runs one run's record keeps; a for-each over many items goes past it


class Stop(Exception):
    """Ends the run with ``outcome`` and ``message`` (and the caller's connect link, when there is one)."""

    def __init__(self, outcome: Outcome, message: str, *, connection: ConnectionRequired | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.connection = connection


class StepError(Exception):
    """A step failed: ``field`` names the part of the step at fault (``inputs.title``), when known."""

    def __init__(self, message: str, *, field: str = "", status: StepStatus = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status: StepStatus = status
        self.connection: ConnectionRequired | None = None

    @classmethod
    def needs_connecting(cls, required: ConnectionRequired) -> StepError:
        """The caller must (re)connect their account: the run ends with their connect link."""
        error = cls(required.message, status="connection_required")
        error.connection = required
        return error


class Plan:
    """What the engine derives from a definition once: the input validator, step numbers and titles."""

    def __init__(self, definition: RecipeDefinition) -> None:
        trigger = definition.trigger
        self.inputs = Draft202012Validator(trigger.input_schema())
        # A schema too costly to validate against is never used: a result then fails with the problem
        # (publishing refuses such a schema; a draft's test run meets it here).
        schema = trigger.output_schema
        self.output_problem = schema_problem(schema, what="the output schema") if schema else None
        self.output = Draft202012Validator(schema) if schema and self.output_problem is None else None
        self.defaults = {p.name: p.default for p in trigger.parameters if p.default is not None}
        # Every parameter is a pill, also when the caller left an optional one out ("is empty" holds).
        self.unset: dict[str, Any] = dict.fromkeys(p.name for p in trigger.parameters)
        self.numbers: dict[int, str] = {}
        self.titles: dict[int, str] = {}
        for number, step in walk_steps(definition.steps):
            self.numbers[id(step)] = number
            self.titles[id(step)] = step_title(step)


class RunState:
    """The state of one run: its context of data pills, the steps done, its deadline."""

    def __init__(self, run_id: UUID, plan: Plan, caller: RunCaller, deadline_at: float) -> None:
        self.id = run_id
        self.plan = plan
        self.caller = caller
        self.deadline_at = deadline_at
        self.steps: list[StepRun | None] = []
        self.steps_omitted = 0
        self.definitions: dict[str, ConnectorDefinition] = {}
        self.current: Step | None = None
        # An action step without a title of its own is called by its action's title ("Create a task").
        self.titles: dict[int, str] = {}

    def label(self, step: Step) -> str:
        title = self.titles.get(id(step)) or self.plan.titles[id(step)]
        return f"Step {self.plan.numbers[id(step)]} ({title})"

    def slot(self) -> int | None:
        """A place for the next step's record, or None past the limit (a for-each over many items)."""
        if len(self.steps) < MAX_STEP_RECORDS:
            self.steps.append(None)
            return len(self.steps) - 1
        self.steps_omitted += 1
        return None

    def record(self, slot: int | None, step_run: StepRun, *, failed: bool = False) -> None:
        """Keep a step's record in its place; a failed step is kept also past the limit, with the
        steps it sits in, so the record shows where the run stopped."""
        if slot is not None:
            self.steps[slot] = step_run
        elif failed:
            self.steps_omitted -= 1
            self.steps.append(step_run)

    def remaining(self) -> float:
        return self.deadline_at - asyncio.get_running_loop().time()


class StepRecord:
    """What a step showed while it ran, for its StepRun."""

    __slots__ = ("attempts", "input")

    def __init__(self) -> None:
        self.attempts = 0
        self.input: Any = None

    def step_run(
        self,
        run: RunState,
        step: Step,
        status: StepStatus,
        started: float,
        *,
        output: Any = None,
        error: str = "",
    ) -> StepRun:
        return StepRun(
            number=run.plan.numbers[id(step)],
            step_id=step.id,
            title=run.titles.get(id(step)) or run.plan.titles[id(step)],
            type=step_type(step),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000),
            attempts=max(self.attempts, 1),
            input=self.input,
            output=output,
            error=error,
        )
