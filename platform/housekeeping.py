"""Housekeeping: every area's clean-up, run in the background while the app runs.

Each process runs every task once an hour (and once shortly after start); the tasks are idempotent, so
processes running them at the same time do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

import msgspec

log = logging.getLogger("switchboard.housekeeping")
_INTERVAL = 3600.0
_FIRST_DELAY = 60.0

Task = Callable[[], Awaitable[object]]
"""A clean-up; it returns what it removed (a count, or a struct of counts) for the log."""


class Housekeeper:
    """Runs named clean-up tasks in the background; a failed task is logged and tried again next time."""

    def __init__(self, tasks: Mapping[str, Task]) -> None:
        self._tasks = dict(tasks)
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> None:
        for name, task in self._tasks.items():
            try:
                removed = await task()
            except Exception:  # one failed task must not keep the others from running
                log.exception("Housekeeping of %s failed", name)
                continue
            if isinstance(removed, msgspec.Struct):
                removed = msgspec.structs.asdict(removed)
            log.info("Housekeeping of %s: %s removed", name, removed)

    async def _run(self) -> None:
        await asyncio.sleep(_FIRST_DELAY)
        while True:
            await self.run_once()
            await asyncio.sleep(_INTERVAL)
