"""The recipe engine: runs a recipe definition for one caller and reports what happened.

A run checks the tool input against the trigger's schema, then runs the steps in order with a context of
data pills (``input``, ``user``, ``steps``, and ``item``/``loop`` inside a for-each). Action steps call
connector actions through a ``ConnectorGateway``; the engine itself touches the database only through
that gateway (reading connections and grants) and through one ``RunStore.save`` when the run ends.

Every run ends in a ``RunReport`` whose outcome is succeeded, failed, connection required, timed out or
cancelled, with a message a person can act on ("Step 2 (Create a task): Demo Tasks answered 403: the
connected account lacks tasks:write; reconnect with that scope"). Stack traces never reach callers: an
unexpected error is logged with the run's id and the message points there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from switchboard.connectors.actions import ActionFailed
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.definitions import ConnectorDefinition, NoAuth
from switchboard.platform.core.errors import DomainError, PermissionDenied
from switchboard.recipes.conditions import as_text, holds
from switchboard.recipes.gateway import ActionCall, ConnectorGateway
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    ResultStep,
    Step,
    step_title,
    step_type,
    walk_steps,
)
from switchboard.recipes.outcomes import Outcome, RunCaller, RunReport, StepRun, StepStatus, ToolResult
from switchboard.recipes.runs import RunStore
from switchboard.recipes.templates import TemplateError, compile_field

logger = logging.getLogger("switchboard.recipes")

RunKind = Literal["tool", "test"]
_MAX_MESSAGE = 300
_SHOWN_PROBLEMS = 5  # input problems a message lists; the count of the rest follows
MAX_STEP_RECORDS = 500  # step runs one run's record keeps; a for-each over many items goes past it
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "object": dict,
    "array": list,
}
_TYPE_NAMES = {"number": "a number", "integer": "an integer", "boolean": "true or false"}
_TYPE_NAMES |= {"object": "a JSON object", "array": "a JSON list"}


# --- how a run stops early -------------------------------------------------------------------------------


class _Stop(Exception):
    """Ends the run with ``outcome`` and ``message`` (and the caller's connect link, when there is one)."""

    def __init__(self, outcome: Outcome, message: str, *, connection: ConnectionRequired | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.connection = connection


class _StepError(Exception):
    """A step failed: ``field`` names the part of the step at fault (``inputs.title``), when known."""

    def __init__(self, message: str, *, field: str = "", status: StepStatus = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status: StepStatus = status
        self.connection: ConnectionRequired | None = None

    @classmethod
    def needs_connecting(cls, required: ConnectionRequired) -> _StepError:
        """The caller must (re)connect their account: the run ends with their connect link."""
        error = cls(required.message, status="connection_required")
        error.connection = required
        return error


# --- per definition, computed once ----------------------------------------------------------------------


class _Plan:
    """What the engine derives from a definition once: the input validator, step numbers and titles."""

    def __init__(self, definition: RecipeDefinition) -> None:
        trigger = definition.trigger
        self.inputs = Draft202012Validator(trigger.input_schema())
        self.output = Draft202012Validator(trigger.output_schema) if trigger.output_schema else None
        self.defaults = {p.name: p.default for p in trigger.parameters if p.default is not None}
        # Every parameter is a pill, also when the caller left an optional one out ("is empty" holds).
        self.unset: dict[str, Any] = dict.fromkeys(p.name for p in trigger.parameters)
        self.numbers: dict[int, str] = {}
        self.titles: dict[int, str] = {}
        for number, step in walk_steps(definition.steps):
            self.numbers[id(step)] = number
            self.titles[id(step)] = step_title(step)


class _Run:
    """The state of one run: its context of data pills, the steps done, its deadline."""

    def __init__(self, run_id: UUID, plan: _Plan, caller: RunCaller, deadline_at: float) -> None:
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


class RecipeEngine:
    def __init__(
        self,
        *,
        connectors: ConnectorGateway,
        store: RunStore | None,
        step_timeout: float = 30.0,
        deadline: float = 120.0,
        retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0),
    ) -> None:
        self._gateway = connectors
        self._store = store
        self._step_timeout = step_timeout
        self._deadline = deadline
        self._retry_delays = retry_delays
        self._plans: OrderedDict[int, tuple[RecipeDefinition, _Plan]] = OrderedDict()

    async def run(
        self,
        *,
        recipe_id: UUID,
        version: int | None,
        definition: RecipeDefinition,
        inputs: dict[str, Any],
        caller: RunCaller,
        kind: RunKind,
    ) -> RunReport:
        """Run ``definition`` for ``caller``; the report is saved once (also when the run is cancelled,
        in which case the cancellation goes on to the caller after the save)."""
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        plan = self._plan(definition)
        run = _Run(uuid4(), plan, caller, loop.time() + self._deadline)
        inputs = {**plan.defaults, **inputs} if plan.defaults else dict(inputs)

        def report(outcome: Outcome, result: ToolResult, **extra: Any) -> RunReport:
            return RunReport(
                id=run.id,
                recipe_id=recipe_id,
                version=version,
                kind=kind,
                caller_id=caller.user_id,
                caller_email=caller.email,
                started_at=started_at,
                duration_ms=round((time.perf_counter() - started) * 1000),
                outcome=outcome,
                input=inputs,
                result=result,
                steps=tuple(step for step in run.steps if step is not None),
                steps_omitted=run.steps_omitted,
                **extra,
            )

        try:
            outcome, result, extra = await self._outcome(run, definition, inputs)
        except asyncio.CancelledError:
            where = f" at {_lowered(run.label(run.current))}" if run.current is not None else ""
            message = f"The run was cancelled{where}."
            cancelled = report(Outcome.CANCELLED, ToolResult(text=message, is_error=True), message=message)
            await self._save(cancelled, shielded=True)
            raise
        finished = report(outcome, result, **extra)
        await self._save(finished)
        return finished

    async def _save(self, report: RunReport, *, shielded: bool = False) -> None:
        """Record the run. A record that cannot be written is logged, not turned into a failed tool call:
        the app may already have acted on the caller's behalf, and the caller must learn how it went."""
        if self._store is None:
            return
        try:
            if shielded:  # the caller's cancellation must not cut the record short
                await asyncio.shield(self._store.save(report))
            else:
                await self._store.save(report)
        except Exception:
            logger.exception("Recipe run %s: its record could not be saved", report.id)

    def _plan(self, definition: RecipeDefinition) -> _Plan:
        """The definition's plan, kept for the last definitions run (the cache holds the definition, so
        its id is not reused while the entry lives)."""
        key = id(definition)
        cached = self._plans.get(key)
        if cached is not None and cached[0] is definition:
            self._plans.move_to_end(key)
            return cached[1]
        plan = _Plan(definition)
        self._plans[key] = (definition, plan)
        if len(self._plans) > 256:
            self._plans.popitem(last=False)
        return plan

    async def _outcome(
        self, run: _Run, definition: RecipeDefinition, inputs: dict[str, Any]
    ) -> tuple[Outcome, ToolResult, dict[str, Any]]:
        problems = _input_problems(run.plan.inputs, inputs)
        if problems:
            more = f"; and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
            message = "The input is not valid: " + "; ".join(problems[:_SHOWN_PROBLEMS]) + more
            return Outcome.FAILED, ToolResult(text=message, is_error=True), {"message": message}
        caller = run.caller
        context: dict[str, Any] = {
            "input": {**run.plan.unset, **inputs},
            "user": {"email": caller.email, "name": caller.name, "groups": list(caller.groups)},
            "steps": {},
        }
        try:
            async with asyncio.timeout_at(run.deadline_at):
                result, _ = await self._steps(run, definition.steps, context)
        except _Stop as stop:
            extra: dict[str, Any] = {"message": stop.message}
            if stop.connection is not None:
                extra |= {
                    "connect_url": stop.connection.connect_url,
                    "app_name": stop.connection.app_name,
                    "connection_name": stop.connection.connection_name,
                }
            return stop.outcome, ToolResult(text=stop.message, is_error=True), extra
        except TimeoutError:
            message = self._timed_out(run)
            return Outcome.TIMED_OUT, ToolResult(text=message, is_error=True), {"message": message}
        return Outcome.SUCCEEDED, result or ToolResult(text="Done."), {}

    def _timed_out(self, run: _Run) -> str:
        where = f"; it was stopped at {_lowered(run.label(run.current))}" if run.current else ""
        return f"The run took longer than its deadline of {self._deadline:g} s{where}."

    # --- steps ----------------------------------------------------------------------------------------

    async def _steps(
        self, run: _Run, steps: tuple[Step, ...], context: dict[str, Any]
    ) -> tuple[ToolResult | None, Any]:
        """Run ``steps`` in order; returns the tool result when a result step ended the run, and the
        output of the last step run."""
        output: Any = None
        for step in steps:
            result, output = await self._step(run, step, context)
            if result is not None:
                return result, output
        return None, output

    async def _step(self, run: _Run, step: Step, context: dict[str, Any]) -> tuple[ToolResult | None, Any]:
        run.current = step
        slot = run.slot()
        started = time.perf_counter()
        record = _Record()
        result: ToolResult | None = None
        try:
            if isinstance(step, ActionStep):
                output = await self._action(run, step, context, record)
            elif isinstance(step, IfStep):
                output, result = await self._if(run, step, context, record)
            elif isinstance(step, ForEachStep):
                output, result = await self._for_each(run, step, context, record)
            else:
                result = self._result(run, step, context, record)
                output = msgspec.structs.asdict(result)
        except _StepError as error:
            message = (
                f"{run.label(step)}, {error.field}: {error.message}"
                if error.field
                else (f"{run.label(step)}: {error.message}")
            )
            run.record(
                slot, record.step_run(run, step, error.status, started, error=error.message), failed=True
            )
            outcome = Outcome.CONNECTION_REQUIRED if error.connection is not None else Outcome.FAILED
            if error.connection is not None:
                message = error.connection.message
            raise _Stop(outcome, message, connection=error.connection) from None
        except _Stop:
            # A step inside this one stopped the run.
            run.record(slot, record.step_run(run, step, "failed", started), failed=True)
            raise
        except asyncio.CancelledError:
            # The run's deadline cancels the step as a caller's cancellation does; the clock tells which.
            status: StepStatus = "timed_out" if run.remaining() <= 0 else "cancelled"
            run.record(slot, record.step_run(run, step, status, started), failed=True)
            raise
        except Exception:
            logger.exception("Recipe run %s: %s failed unexpectedly", run.id, run.label(step))
            message = f"{run.label(step)} failed unexpectedly; see the server log (run {run.id})"
            failure = record.step_run(run, step, "failed", started, error="failed unexpectedly")
            run.record(slot, failure, failed=True)
            raise _Stop(Outcome.FAILED, message) from None
        run.record(slot, record.step_run(run, step, "succeeded", started, output=output))
        if not isinstance(step, ResultStep):
            context["steps"][step.id] = output
        return result, output

    async def _action(self, run: _Run, step: ActionStep, context: dict[str, Any], record: _Record) -> Any:
        definition = await self._definition(run, step.connector)
        action = definition.action(step.action)
        if action is None:
            raise _StepError(f"{definition.name} has no action {step.action!r}", field="action")
        if not step.title:
            run.titles[id(step)] = action.title
        properties: Mapping[str, Any] = action.input_schema.get("properties") or {}
        inputs: dict[str, Any] = {}
        record.input = inputs
        for name, text in step.inputs.items():
            if not text:
                continue
            value = _evaluate(text, context, f"inputs.{name}")
            schema = properties.get(name)
            if isinstance(value, str) and isinstance(schema, dict):
                value = _coerced(value, schema.get("type"), f"inputs.{name}")
            inputs[name] = value
        connection_id = step.connection.id if step.connection is not None else None
        call = await self._open(run, definition, connection_id)
        retryable_step = action.is_idempotent or step.idempotent
        limit = step.timeout_seconds or self._step_timeout
        delays = iter(self._retry_delays)
        while True:
            record.attempts += 1
            # Within the last ``limit`` seconds of the run, its deadline (the caller's timeout_at) applies.
            own_limit = limit if limit < run.remaining() else None
            try:
                async with asyncio.timeout(own_limit):
                    return (await call.run(step.action, inputs)).output
            except TimeoutError:
                failure = f"{definition.name} did not answer within {limit:g} s"
                may_retry = retryable_step
            except ConnectionRequired as exc:  # the person must (re)connect, or allow more access
                raise _StepError.needs_connecting(exc) from None
            except ActionFailed as exc:
                failure = exc.message
                # The runner judges by the action's method; a step marked idempotent widens that to 5xx
                # answers and broken-off calls.
                transient = exc.retryable or exc.http_status is None or exc.http_status >= 500
                may_retry = transient and retryable_step
            except DomainError as exc:
                raise _StepError(exc.message) from None
            delay = next(delays, None) if may_retry else None
            if delay is None or run.remaining() <= delay:
                raise _StepError(failure)
            await asyncio.sleep(delay)

    async def _definition(self, run: _Run, key: str) -> ConnectorDefinition:
        definition = run.definitions.get(key)
        if definition is None:
            try:
                definition = await self._gateway.definition(key)
            except DomainError as exc:
                raise _StepError(exc.message, field="connector") from None
            run.definitions[key] = definition
        return definition

    async def _open(
        self, run: _Run, definition: ConnectorDefinition, connection_id: UUID | None
    ) -> ActionCall:
        """The caller's way to the app: their credentials for the step's connection."""
        if connection_id is None and not (isinstance(definition.auth, NoAuth) and not definition.fields):
            raise _StepError(f"choose a {definition.name} connection", field="connection")
        caller = Caller(run.caller.user_id, run.caller.email)
        try:
            return await self._gateway.open(definition, connection_id, caller)
        except ConnectionRequired as exc:
            raise _StepError.needs_connecting(exc) from None
        except PermissionDenied as exc:
            raise _StepError(exc.message) from None
        except DomainError as exc:
            raise _StepError(exc.message, field="connection") from None

    async def _if(
        self, run: _Run, step: IfStep, context: dict[str, Any], record: _Record
    ) -> tuple[bool, ToolResult | None]:
        checks = []
        for index, condition in enumerate(step.conditions, start=1):
            left, right, holds = _check(condition, context, f"conditions.{index}")
            checks.append({"left": left, "operator": condition.operator, "right": right, "holds": holds})
        record.input = checks
        test = any if step.match == "any" else all
        taken = test(check["holds"] for check in checks)
        result, _ = await self._steps(run, step.then if taken else step.otherwise, context)
        run.current = step
        return taken, result

    async def _for_each(
        self, run: _Run, step: ForEachStep, context: dict[str, Any], record: _Record
    ) -> tuple[list[Any], ToolResult | None]:
        items = _evaluate(step.items, context, "items")
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            raise _StepError(f"expected a list, got {_kind(items)}", field="items")
        if len(items) > step.max_items:
            raise _StepError(f"{len(items)} items, more than the limit of {step.max_items}", field="items")
        record.input = {"items": len(items)}
        outputs: list[Any] = []
        length = len(items)
        for index, item in enumerate(items, start=1):
            inner = {
                **context,
                step.as_name: item,
                "loop": {"index": index, "first": index == 1, "last": index == length, "length": length},
            }
            result, output = await self._steps(run, step.steps, inner)
            outputs.append(output)
            if result is not None:
                return outputs, result
        run.current = step
        return outputs, None

    def _result(self, run: _Run, step: ResultStep, context: dict[str, Any], record: _Record) -> ToolResult:
        text = _evaluate(step.text, context, "text") if step.text else ""
        structured: Any = None
        if step.structured_from:
            structured = _evaluate(step.structured_from, context, "structured_from")
        elif step.structured:
            structured = {
                key: _evaluate(template, context, f"structured.{key}")
                for key, template in step.structured.items()
            }
        validator = run.plan.output
        if validator is not None:
            error = next(iter(sorted(validator.iter_errors(structured), key=_error_order)), None)
            if error is not None:
                raise _StepError(
                    f"the result does not match the tool's output schema: {_describe(error)}",
                    field="structured",
                )
        return ToolResult(text=text if isinstance(text, str) else as_text(text), structured=structured)


class _Record:
    """What a step showed while it ran, for its StepRun."""

    __slots__ = ("attempts", "input")

    def __init__(self) -> None:
        self.attempts = 0
        self.input: Any = None

    def step_run(
        self,
        run: _Run,
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


# --- values ------------------------------------------------------------------------------------------------


def _evaluate(text: str, context: dict[str, Any], field: str) -> Any:
    try:
        return compile_field(text).evaluate(context)
    except TemplateError as exc:
        raise _StepError(str(exc), field=field) from None


def _coerced(value: str, json_type: Any, field: str) -> Any:
    """Text from a template given to an input the action wants as a number, boolean, object or list."""
    expected = _JSON_TYPES.get(json_type) if isinstance(json_type, str) else None
    if expected is None:
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = _NOT_JSON
    if isinstance(parsed, expected) and not (json_type != "boolean" and isinstance(parsed, bool)):
        return parsed
    raise _StepError(f"{_short(value)!r} is not {_TYPE_NAMES[json_type]}", field=field)


_NOT_JSON = object()


def _check(condition: Condition, context: dict[str, Any], field: str) -> tuple[Any, Any, bool]:
    left = _evaluate(condition.left, context, f"{field}.left") if condition.left else None
    right = _evaluate(condition.right, context, f"{field}.right") if condition.right else None
    return left, right, holds(condition.operator, left, right)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"text ({_short(value)!r})"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _lowered(label: str) -> str:
    """ "Step 2 (Create a task)" inside a sentence: "step 2 (Create a task)"."""
    return label[:1].lower() + label[1:]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _input_problems(validator: Draft202012Validator, inputs: dict[str, Any]) -> list[str]:
    return [_describe(error) for error in sorted(validator.iter_errors(inputs), key=_error_order)]


def _error_order(error: ValidationError) -> tuple[tuple[int, str], ...]:
    """Fields in order: list positions by number (2 before 10), names alphabetically."""
    return tuple((part, "") if isinstance(part, int) else (-1, part) for part in error.absolute_path)


def _describe(error: ValidationError) -> str:
    """``title: 'x' is too long``: the field at fault (dotted) and jsonschema's words, kept short."""
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path}: {message}" if path else message
