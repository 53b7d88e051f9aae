"""Housekeeping runs every area's clean-up; one that fails is logged and does not keep the others from
running."""

from __future__ import annotations

import logging

import msgspec
import pytest

from switchboard.platform.housekeeping import Housekeeper


class _Removed(msgspec.Struct):
    codes: int
    grants: int


async def test_every_task_runs_and_what_it_removed_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def links() -> int:
        ran.append("links")
        return 3

    async def oauth() -> _Removed:
        ran.append("oauth")
        return _Removed(codes=2, grants=1)

    with caplog.at_level(logging.INFO, logger="switchboard.housekeeping"):
        await Housekeeper({"connect links": links, "OAuth": oauth}).run_once()

    assert ran == ["links", "oauth"]
    assert [record.getMessage() for record in caplog.records] == [
        "Housekeeping of connect links: 3 removed",
        "Housekeeping of OAuth: {'codes': 2, 'grants': 1} removed",
    ]


async def test_a_failing_task_is_logged_with_its_traceback_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def broken() -> int:
        raise RuntimeError("the database went away")

    async def runs() -> int:
        ran.append("runs")
        return 0

    with caplog.at_level(logging.INFO, logger="switchboard.housekeeping"):
        await Housekeeper({"run history": broken, "connect links": runs}).run_once()

    assert ran == ["runs"]
    failure = caplog.records[0]
    assert failure.levelno == logging.ERROR
    assert failure.getMessage() == "Housekeeping of run history failed"
    assert failure.exc_info is not None
    assert str(failure.exc_info[1]) == "the database went away"
    assert caplog.records[1].getMessage() == "Housekeeping of connect links: 0 removed"


async def test_stopping_ends_the_background_loop_before_its_first_round() -> None:
    ran: list[str] = []

    async def task() -> int:
        ran.append("task")
        return 0

    keeper = Housekeeper({"task": task})
    await keeper.start()
    await keeper.stop()

    assert ran == []  # the first round waits a minute after start
