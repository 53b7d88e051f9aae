"""Group commit: rows handed over at the same moment are committed in one transaction, each caller told
only once its rows are stored (or that they could not be)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from switchboard.identity.tables import Group
from switchboard.platform.core.database import Database, is_unique_violation
from switchboard.platform.core.group_commit import GroupCommit
from switchboard.platform.mcp.audit import ToolCallRow

pytestmark = pytest.mark.both_engines


def call_row(row_id: UUID | None = None) -> ToolCallRow:
    return ToolCallRow(
        id=row_id or uuid4(), at=datetime.now(UTC), server_slug="demo", tool="whoami", outcome="succeeded"
    )


def group_row() -> Group:
    key = uuid4().hex
    return Group(id=uuid4(), name=key, name_key=key, created_at=datetime.now(UTC))


async def stored(*rows: ToolCallRow | Group) -> int:
    found = 0
    for row in rows:
        table = type(row)
        found += await table.count().where(table._meta.primary_key == row.id)
    return found


@pytest.fixture
async def writer(database: Database) -> AsyncIterator[GroupCommit]:
    writer = GroupCommit()
    await writer.start()
    yield writer
    await writer.stop()


async def test_rows_handed_over_at_the_same_moment_are_committed_in_one_transaction(
    writer: GroupCommit,
) -> None:
    rows = [(call_row(), group_row()) for _ in range(10)]

    await asyncio.gather(*(writer.write(*pair) for pair in rows))

    assert writer.commits == 1
    assert await stored(*(row for pair in rows for row in pair)) == 20


async def test_a_lone_write_is_committed_at_once_and_later_ones_in_batches_of_their_own(
    writer: GroupCommit,
) -> None:
    first = call_row()
    await asyncio.wait_for(writer.write(first), timeout=5)
    assert await stored(first) == 1

    await asyncio.gather(*(writer.write(call_row()) for _ in range(5)))

    assert writer.commits == 2


async def test_one_callers_bad_row_fails_that_caller_alone_and_the_next_batch_is_stored(
    writer: GroupCommit,
) -> None:
    taken = call_row()
    await writer.write(taken)
    innocent, duplicate = group_row(), call_row(taken.id)

    outcomes = await asyncio.gather(writer.write(innocent), writer.write(duplicate), return_exceptions=True)

    # The shared transaction failed; each caller's rows were then written on their own.
    assert [is_unique_violation(outcome) for outcome in outcomes] == [False, True]
    assert await stored(innocent) == 1
    later = group_row()
    await writer.write(later)
    assert await stored(later) == 1


async def test_a_cancelled_caller_does_not_take_its_rows_out_of_the_batch(writer: GroupCommit) -> None:
    cancelled_rows, other_rows = (call_row(), group_row()), (call_row(), group_row())
    cancelled = asyncio.create_task(writer.write(*cancelled_rows))
    other = asyncio.create_task(writer.write(*other_rows))
    await asyncio.sleep(0)  # both handed over

    cancelled.cancel()
    await other

    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await stored(*cancelled_rows, *other_rows) == 4


async def test_stopping_writes_what_is_pending_and_later_writes_are_stored_at_once(
    database: Database,
) -> None:
    writer = GroupCommit(gather=0.05)  # a batch still gathering when the stop comes
    await writer.start()
    rows = [call_row() for _ in range(3)]
    waiting = [asyncio.create_task(writer.write(row)) for row in rows]
    await asyncio.sleep(0)

    await writer.stop()

    await asyncio.gather(*waiting)
    assert await stored(*rows) == 3
    assert not writer.running
    after = call_row()
    await writer.write(after)
    assert await stored(after) == 1


async def test_the_rows_of_a_held_block_are_one_commit_stored_before_the_block_returns(
    writer: GroupCommit,
) -> None:
    run, audit = group_row(), call_row()
    async with writer.held():
        await writer.write(run)
        await writer.write(audit)
        assert await stored(run, audit) == 0  # kept until the block ends

    assert await stored(run, audit) == 2
    assert writer.commits == 1


async def test_a_held_write_whose_failure_its_writer_logs_does_not_fail_the_block_or_the_other_rows(
    writer: GroupCommit, caplog: pytest.LogCaptureFixture
) -> None:
    taken = call_row()
    await writer.write(taken)
    audit = group_row()

    async with writer.held():
        await writer.write(call_row(taken.id), failure_logged_as="Run 7: its record could not be saved")
        await writer.write(audit)

    assert await stored(audit) == 1
    assert [record.getMessage() for record in caplog.records] == ["Run 7: its record could not be saved"]


async def test_a_held_write_that_cannot_be_stored_fails_the_block(writer: GroupCommit) -> None:
    taken = call_row()
    await writer.write(taken)
    run = group_row()

    async def call() -> None:
        async with writer.held():
            await writer.write(run, failure_logged_as="Run 7: its record could not be saved")
            await writer.write(call_row(taken.id))

    with pytest.raises(Exception, match=r"(?i)unique"):
        await call()

    assert await stored(run) == 1


async def test_a_held_block_left_by_cancellation_still_stores_its_rows(writer: GroupCommit) -> None:
    run = group_row()
    entered = asyncio.Event()

    async def call() -> None:
        async with writer.held():
            await writer.write(run)
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(call())
    await entered.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert await stored(run) == 1


async def test_a_writer_that_is_not_running_stores_each_callers_rows_in_one_transaction(
    database: Database,
) -> None:
    writer = GroupCommit()
    taken = call_row()
    await writer.write(taken)
    innocent = group_row()

    with pytest.raises(Exception, match=r"(?i)unique") as refused:
        await writer.write(innocent, call_row(taken.id))

    assert is_unique_violation(refused.value)
    assert await stored(taken) == 1
    assert await stored(innocent) == 0
