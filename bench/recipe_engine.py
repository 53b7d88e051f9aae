"""The recipe engine's own cost per step, and the database writes a run makes.

A tool call runs a recipe; what the engine adds around each action call (evaluating data pills, coercing
inputs, timing, retries bookkeeping, the step record) must stay small beside the app's own answer time.
The figure is the difference between a recipe of 20 pass-through action steps and one of 1 step, divided
by 19, so the per-run costs (input check, the report) cancel out: both are timed in the same process,
interleaved, and the medians of many runs are compared. A pass-through step calls a gateway that answers
at once with its inputs, and takes the previous step's output as a data pill (``{{ steps.step_1.value }}``).

A run must make one database write, its run record: the statements the engine issues against a migrated
temporary SQLite database are counted (INSERT, UPDATE, DELETE) for a run that succeeds and one that fails.

    .venv/bin/python bench/recipe_engine.py [--runs 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec

from switchboard.connectors.action_answers import ActionResult
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.projects import ProjectService
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.platform.core.database import Database
from switchboard.platform.core.migrations import migrate
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.model import ActionStep, Parameter, RecipeDefinition, ResultStep, ToolTrigger
from switchboard.recipes.outcomes import RunCaller
from switchboard.recipes.runs import RunStore
from switchboard.recipes.tables import Recipe

TARGET_STEP_US = 200.0
TARGET_WRITES = 1
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

ECHO = msgspec.convert(
    {
        "key": "echo",
        "name": "Echo",
        "base_url": "https://echo.example.com",
        "actions": [
            {
                "name": "echo",
                "title": "Echo",
                "method": "POST",
                "path": "/echo",
                "input_schema": {"type": "object", "properties": {"value": {"type": "string"}}},
            }
        ],
    },
    ConnectorDefinition,
)


class EchoCall:
    """Answers every action at once with its inputs: only the engine's own work is left to time."""

    async def run(self, action: str, inputs: dict[str, Any]) -> ActionResult:
        return ActionResult(status=200, output=inputs, duration_ms=0)


class EchoGateway:
    async def definition(self, key: str) -> ConnectorDefinition:
        return ECHO

    async def open(
        self, definition: ConnectorDefinition, connection_id: UUID | None, caller: Caller
    ) -> EchoCall:
        return EchoCall()


def pass_through(steps: int) -> RecipeDefinition:
    actions = [
        ActionStep(
            id=f"step_{n}",
            connector="echo",
            action="echo",
            inputs={"value": "{{ input.value }}" if n == 1 else f"{{{{ steps.step_{n - 1}.value }}}}"},
        )
        for n in range(1, steps + 1)
    ]
    return RecipeDefinition(
        trigger=ToolTrigger(name=f"echo_{steps}", parameters=(Parameter(name="value", required=True),)),
        steps=(*actions, ResultStep(id="finish", text=f"{{{{ steps.step_{steps}.value }}}}")),
    )


CALLER = RunCaller(user_id=uuid4(), email="bench@example.com", name="Bench", groups=("Sales",))


async def _timed(engine: RecipeEngine, recipe_id: UUID, definition: RecipeDefinition) -> float:
    started = time.perf_counter()
    report = await engine.run(
        recipe_id=recipe_id,
        version=1,
        definition=definition,
        inputs={"value": "hello"},
        caller=CALLER,
        kind="tool",
    )
    elapsed = time.perf_counter() - started
    if report.result is None or report.result.text != "hello":
        raise RuntimeError(f"the pass-through recipe did not pass its input through: {report.message}")
    return elapsed


async def step_overhead_us(runs: int) -> tuple[float, float, float]:
    """Median run times of the 1-step and 20-step recipes (µs), and the overhead per step (µs)."""
    engine = RecipeEngine(connectors=EchoGateway(), store=None)
    one, twenty = pass_through(1), pass_through(20)
    recipe_id = uuid4()
    for _ in range(50):  # warm-up: compiled templates, validators, plans
        await _timed(engine, recipe_id, one)
        await _timed(engine, recipe_id, twenty)
    short, long = [], []
    for _ in range(runs):
        short.append(await _timed(engine, recipe_id, one))
        long.append(await _timed(engine, recipe_id, twenty))
    short_us, long_us = statistics.median(short) * 1e6, statistics.median(long) * 1e6
    return short_us, long_us, (long_us - short_us) / 19


async def writes_per_run() -> dict[str, int]:
    """Database writes of a succeeding and of a failing run, against a migrated temporary database."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        await migrate(database)
        await database.connect()
        try:
            project = await ProjectService().ensure("Bench")
            recipe_id = uuid4()
            now = datetime.now(UTC)
            await Recipe.insert(
                Recipe(
                    id=recipe_id,
                    project=project.id,
                    tool_name="echo",
                    draft="{}",
                    created_at=now,
                    updated_at=now,
                )
            )
            writes = _count_writes(database)
            engine = RecipeEngine(connectors=EchoGateway(), store=RunStore())
            counts: dict[str, int] = {}
            for name, inputs in (("succeeded", {"value": "hello"}), ("failed", {})):
                writes.clear()
                report = await engine.run(
                    recipe_id=recipe_id,
                    version=1,
                    definition=pass_through(20),
                    inputs=inputs,
                    caller=CALLER,
                    kind="tool",
                )
                assert report.outcome.value == name, report.message
                counts[name] = len(writes)
        finally:
            await database.close()
    return counts


def _count_writes(database: Database) -> list[str]:
    """Wrap the SQLite engine's statement runners (on its class: the instance has slots) so every write
    statement is noted; this process uses no other engine."""
    engine_class: Any = type(database.engine)
    seen: list[str] = []
    for name in ("_run_in_new_connection", "_run_in_existing_connection"):
        original = getattr(engine_class, name)

        def counting(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            query = kwargs.get("query")
            if query is None:
                query = next(arg for arg in args if isinstance(arg, str))
            if query.lstrip().upper().startswith(WRITES):
                seen.append(query)
            return _original(self, *args, **kwargs)

        setattr(engine_class, name, counting)
    return seen


async def main(runs: int) -> int:
    short_us, long_us, per_step = await step_overhead_us(runs)
    writes = await writes_per_run()
    print(f"recipe of 1 pass-through step:   {short_us:,.0f} µs per run (median of {runs})")
    print(f"recipe of 20 pass-through steps: {long_us:,.0f} µs per run (median of {runs})")
    print(f"engine overhead per step: {per_step:,.1f} µs (target at most {TARGET_STEP_US:g} µs)")
    for outcome, count in writes.items():
        print(f"database writes of a {outcome} run: {count} (target {TARGET_WRITES}: its run record)")
    missed = per_step > TARGET_STEP_US or any(count != TARGET_WRITES for count in writes.values())
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1500)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.runs)))
