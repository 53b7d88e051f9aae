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
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.definitions import ConnectorDefinition, NoAuth
from switchboard.platform.core.errors import DomainError, PermissionDenied
from switchboard.recipes.conditions import as_text
from switchboard.recipes.gateway import ActionCall, ConnectorGateway
from switchboard.recipes.model import (
    ActionStep,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    ResultStep,
    Step,
)
from switchboard.recipes.outcomes import Outcome, RunCaller, RunReport, StepStatus, ToolResult
from switchboard.recipes.run_state import Plan, RunState, StepError, StepRecord, Stop
from switchboard.recipes.runs import RunStore
from switchboard.recipes.step_values import (
    SHOWN_PROBLEMS,
    check,
    coerced,
    describe,
    error_order,
    evaluate,
    input_problems,
    kind,
    lowered,
)

logger = logging.getLogger("switchboard.recipes")

RunKind = Literal["tool", "test"]


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
        self._plans: OrderedDict[int, tuple[RecipeDefinition, Plan]] = OrderedDict()

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
        run = RunState(uuid4(), plan, caller, loop.time() + self._deadline)
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
            where = f" at {lowered(run.label(run.current))}" if run.current is not None else ""
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

    def _plan(self, definition: RecipeDefinition) -> Plan:
        """The definition's plan, kept for the last definitions run (the cache holds the definition, so
        its id is not reused while the entry lives)."""
        key = id(definition)
        cached = self._plans.get(key)
        if cached is not None and cached[0] is definition:
            self._plans.move_to_end(key)
            return cached[1]
        plan = Plan(definition)
        self._plans[key] = (definition, plan)
        if len(self._plans) > 256:
            self._plans.popitem(last=False)
        return plan

    async def _outcome(
        self, run: RunState, definition: RecipeDefinition, inputs: dict[str, Any]
    ) -> tuple[Outcome, ToolResult, dict[str, Any]]:
        problems = input_problems(run.plan.inputs, inputs)
        if problems:
            more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
            message = "The input is not valid: " + "; ".join(problems[:SHOWN_PROBLEMS]) + more
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
        except Stop as stop:
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

    def _timed_out(self, run: RunState) -> str:
        where = f"; it was stopped at {lowered(run.label(run.current))}" if run.current else ""
        return f"The run took longer than its deadline of {self._deadline:g} s{where}."

    # --- steps ----------------------------------------------------------------------------------------

    async def _steps(
        self, run: RunState, steps: tuple[Step, ...], context: dict[str, Any]
    ) -> tuple[ToolResult | None, Any]:
        """Run ``steps`` in order; returns the tool result when a result step ended the run, and the
        output of the last step run."""
        output: Any = None
        for step in steps:
            result, output = await self._step(run, step, context)
            if result is not None:
                return result, output
        return None, output

    async def _step(
        self, run: RunState, step: Step, context: dict[str, Any]
    ) -> tuple[ToolResult | None, Any]:
        run.current = step
        slot = run.slot()
        started = time.perf_counter()
        record = StepRecord()
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
        except StepError as error:
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
            raise Stop(outcome, message, connection=error.connection) from None
        except Stop:
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
            raise Stop(Outcome.FAILED, message) from None
        run.record(slot, record.step_run(run, step, "succeeded", started, output=output))
        if not isinstance(step, ResultStep):
            context["steps"][step.id] = output
        return result, output

    async def _action(
        self, run: RunState, step: ActionStep, context: dict[str, Any], record: StepRecord
    ) -> Any:
        definition = await self._definition(run, step.connector)
        action = definition.action(step.action)
        if action is None:
            raise StepError(f"{definition.name} has no action {step.action!r}", field="action")
        if not step.title:
            run.titles[id(step)] = action.title
        properties: Mapping[str, Any] = action.input_schema.get("properties") or {}
        inputs: dict[str, Any] = {}
        record.input = inputs
        for name, text in step.inputs.items():
            if not text:
                continue
            value = evaluate(text, context, f"inputs.{name}")
            schema = properties.get(name)
            if isinstance(value, str) and isinstance(schema, dict):
                value = coerced(value, schema.get("type"), f"inputs.{name}")
            inputs[name] = value
        connection_id = step.connection.id if step.connection is not None else None
        account = str(evaluate(step.account, context, "account") or "").strip() if step.account else ""
        call = await self._open(run, definition, connection_id, account)
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
                raise StepError.needs_connecting(exc) from None
            except ActionFailed as exc:
                failure = exc.message
                # The runner judges by the action's method; a step marked idempotent widens that to 5xx
                # answers and broken-off calls.
                transient = exc.retryable or exc.http_status is None or exc.http_status >= 500
                may_retry = transient and retryable_step
            except DomainError as exc:
                raise StepError(exc.message) from None
            delay = next(delays, None) if may_retry else None
            if delay is None or run.remaining() <= delay:
                raise StepError(failure)
            await asyncio.sleep(delay)

    async def _definition(self, run: RunState, key: str) -> ConnectorDefinition:
        definition = run.definitions.get(key)
        if definition is None:
            try:
                definition = await self._gateway.definition(key)
            except DomainError as exc:
                raise StepError(exc.message, field="connector") from None
            run.definitions[key] = definition
        return definition

    async def _open(
        self, run: RunState, definition: ConnectorDefinition, connection_id: UUID | None, account: str
    ) -> ActionCall:
        """The caller's way to the app: their credentials for the step's connection (``account``: the
        caller's account of that name in an end user's connection; '': their default one)."""
        if connection_id is None and not (isinstance(definition.auth, NoAuth) and not definition.fields):
            raise StepError(f"choose a {definition.name} connection", field="connection")
        caller = Caller(run.caller.user_id, run.caller.email, account)
        try:
            return await self._gateway.open(definition, connection_id, caller)
        except ConnectionRequired as exc:
            raise StepError.needs_connecting(exc) from None
        except PermissionDenied as exc:
            raise StepError(exc.message) from None
        except DomainError as exc:
            raise StepError(exc.message, field="connection") from None

    async def _if(
        self, run: RunState, step: IfStep, context: dict[str, Any], record: StepRecord
    ) -> tuple[bool, ToolResult | None]:
        checks = []
        for index, condition in enumerate(step.conditions, start=1):
            left, right, holds = check(condition, context, f"conditions.{index}")
            checks.append({"left": left, "operator": condition.operator, "right": right, "holds": holds})
        record.input = checks
        test = any if step.match == "any" else all
        taken = test(check["holds"] for check in checks)
        result, _ = await self._steps(run, step.then if taken else step.otherwise, context)
        run.current = step
        return taken, result

    async def _for_each(
        self, run: RunState, step: ForEachStep, context: dict[str, Any], record: StepRecord
    ) -> tuple[list[Any], ToolResult | None]:
        items = evaluate(step.items, context, "items")
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            raise StepError(f"expected a list, got {kind(items)}", field="items")
        if len(items) > step.max_items:
            raise StepError(f"{len(items)} items, more than the limit of {step.max_items}", field="items")
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

    def _result(
        self, run: RunState, step: ResultStep, context: dict[str, Any], record: StepRecord
    ) -> ToolResult:
        text = evaluate(step.text, context, "text") if step.text else ""
        structured: Any = None
        if step.structured_from:
            structured = evaluate(step.structured_from, context, "structured_from")
        elif step.structured:
            structured = {
                key: evaluate(template, context, f"structured.{key}")
                for key, template in step.structured.items()
            }
        if run.plan.output_problem is not None:
            raise StepError(
                f"the tool's output schema cannot be used: {run.plan.output_problem}", field="structured"
            )
        validator = run.plan.output
        if validator is not None:
            error = next(iter(sorted(validator.iter_errors(structured), key=error_order)), None)
            if error is not None:
                raise StepError(
                    f"the result does not match the tool's output schema: {describe(error)}",
                    field="structured",
                )
        return ToolResult(text=text if isinstance(text, str) else as_text(text), structured=structured)
