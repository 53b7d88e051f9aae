"""Run history: runs stored once with their values masked, listed newest first, and removed by retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from switchboard.connectors.connections.models import Project
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.masking import MASK
from switchboard.recipes.outcomes import Outcome, RunReport, StepRun, ToolResult
from switchboard.recipes.runs import RunStore
from switchboard.recipes.tables import RecipeRun
from tests.recipes.engine_support import recipe_row

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def report(recipe_id: UUID, *, minutes_ago: int = 0, **changes: Any) -> RunReport:
    values: dict[str, Any] = {
        "id": uuid4(),
        "recipe_id": recipe_id,
        "version": 2,
        "kind": "tool",
        "caller_id": uuid4(),
        "caller_email": "ann@example.com",
        "started_at": NOW - timedelta(minutes=minutes_ago),
        "duration_ms": 12,
        "outcome": Outcome.SUCCEEDED,
        "input": {"title": "Call Bob"},
        "result": ToolResult(text="Created.", structured={"id": 7}),
        "steps": (
            StepRun(
                number="1",
                step_id="step_1",
                title="Create a task",
                type="action",
                status="succeeded",
                duration_ms=10,
                input={"title": "Call Bob"},
                output={"id": 7},
            ),
        ),
    }
    return RunReport(**(values | changes))


@pytest.fixture
async def recipe_id(project: Project) -> UUID:
    return await recipe_row(project)


async def test_a_run_is_stored_and_read_back_whole(recipe_id: UUID) -> None:
    store = RunStore()
    saved = report(recipe_id)
    await store.save(saved)
    assert await store.get(saved.id) == saved


async def test_secrets_are_masked_and_large_values_cut_in_what_is_stored(recipe_id: UUID) -> None:
    store = RunStore()
    token = "gho_0123456789abcdefghij"
    saved = report(
        recipe_id,
        input={"access_token": token, "body": "z" * 3000},
        result=ToolResult(text=f"used {token}", structured={"items": list(range(80))}),
        steps=(
            StepRun(
                number="1",
                step_id="step_1",
                title="Call",
                type="action",
                status="failed",
                input={"headers": {"Authorization": f"Bearer {token}"}, "note": token},
                output={"refresh_token": "r-0123456789"},
                error=f"refused {token}",
            ),
        ),
    )
    await store.save(saved)

    stored = await store.get(saved.id)

    assert stored.input == {"access_token": MASK, "body": "z" * 2000 + "… (1000 more characters)"}
    assert stored.result == ToolResult(
        text=f"used {MASK}", structured={"items": [*range(50), "… (30 more items)"]}
    )
    assert stored.steps[0].input == {"headers": {"Authorization": MASK}, "note": MASK}
    assert stored.steps[0].output == {"refresh_token": MASK}
    assert stored.steps[0].error == f"refused {MASK}"
    assert token not in str(await RecipeRun.select())


async def test_an_unknown_run_is_not_found(recipe_id: UUID) -> None:
    with pytest.raises(NotFound) as missing:
        await RunStore().get(uuid4())
    assert missing.value.message == "There is no such run."


async def test_runs_are_listed_newest_first_and_page_on(project: Project, recipe_id: UUID) -> None:
    store = RunStore()
    other = await recipe_row(project, "other_tool")
    runs = [report(recipe_id, minutes_ago=minutes) for minutes in (30, 10, 20)]
    for run in runs:
        await store.save(run)
    await store.save(report(other, minutes_ago=1, outcome=Outcome.FAILED, message="Step 1 (X): no"))

    listed = await store.list_for(recipe_id)
    first = await store.list_for(recipe_id, limit=2)
    rest = await store.list_for(recipe_id, before=first[-1].started_at)

    assert [summary.id for summary in listed] == [runs[1].id, runs[2].id, runs[0].id]
    assert listed[0].started_at == NOW - timedelta(minutes=10)
    assert (listed[0].version, listed[0].kind, listed[0].caller_email, listed[0].duration_ms) == (
        2,
        "tool",
        "ann@example.com",
        12,
    )
    assert [summary.id for summary in first + rest] == [summary.id for summary in listed]
    last = await store.last_runs([recipe_id, other, uuid4()])
    assert set(last) == {recipe_id, other}
    assert last[recipe_id].id == runs[1].id
    assert (last[other].outcome, last[other].message) == (Outcome.FAILED, "Step 1 (X): no")


async def test_retention_removes_only_runs_older_than_the_cutoff(recipe_id: UUID) -> None:
    store = RunStore()
    old = [report(recipe_id, minutes_ago=60 * 24 * days) for days in (31, 40)]
    recent = report(recipe_id, minutes_ago=60 * 24 * 29)
    for run in [*old, recent]:
        await store.save(run)

    removed = await store.remove_older_than(NOW - timedelta(days=30))

    assert removed == 2
    assert [summary.id for summary in await store.list_for(recipe_id)] == [recent.id]
    assert await store.remove_older_than(NOW - timedelta(days=30)) == 0


CONNECT_LINK = "http://testserver.local/connect/Vq3-x_7Jk2LmN0pQrStUvWxYz0123456789abcdEFGH"
ASKED = (
    f"This tool needs your Test App account. Open {CONNECT_LINK} to connect it "
    "(the link works once, for 10 minutes), then try again."
)
ASKED_REDACTED = ASKED.replace(CONNECT_LINK, "http://testserver.local/connect/…")


async def test_a_connect_link_is_stored_without_its_token(recipe_id: UUID) -> None:
    store = RunStore()
    saved = report(
        recipe_id,
        outcome=Outcome.CONNECTION_REQUIRED,
        message=ASKED,
        connect_url=CONNECT_LINK,
        result=ToolResult(text=ASKED, is_error=True),
        steps=(
            StepRun(
                number="1",
                step_id="step_1",
                title="Create a task",
                type="action",
                status="connection_required",
                input={"title": "Call Bob", "link": CONNECT_LINK},
                error=ASKED,
            ),
        ),
    )
    await store.save(saved)

    stored = await store.get(saved.id)
    (summary,) = await store.list_for(recipe_id)

    assert (stored.message, summary.message, stored.connect_url) == (ASKED_REDACTED, ASKED_REDACTED, "")
    assert stored.result == ToolResult(text=ASKED_REDACTED, is_error=True)
    assert stored.steps[0].error == ASKED_REDACTED
    assert stored.steps[0].input == {"title": "Call Bob", "link": "http://testserver.local/connect/…"}
    assert CONNECT_LINK.rsplit("/", 1)[1] not in str(await RecipeRun.select())


async def test_a_run_kept_with_a_whole_connect_link_is_read_without_its_token(recipe_id: UUID) -> None:
    run_id = uuid4()
    await RecipeRun.insert(
        RecipeRun(
            id=run_id,
            recipe=recipe_id,
            version=2,
            kind="tool",
            caller_email="ann@example.com",
            started_at=NOW,
            outcome=Outcome.CONNECTION_REQUIRED.value,
            message=ASKED,
            input="{}",
            result=f'{{"text": "{ASKED}", "structured": null, "is_error": true}}',
            steps=(
                '[{"number": "1", "step_id": "step_1", "title": "Create a task", "type": "action", '
                f'"status": "connection_required", "error": "{ASKED}"}}]'
            ),
        )
    )

    stored = await RunStore().get(run_id)
    (summary,) = await RunStore().list_for(recipe_id)

    assert (stored.message, summary.message) == (ASKED_REDACTED, ASKED_REDACTED)
    assert stored.result == ToolResult(text=ASKED_REDACTED, is_error=True)
    assert stored.steps[0].error == ASKED_REDACTED
