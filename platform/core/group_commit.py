"""Group commit: rows that must be stored before an answer leaves, written together in one transaction.

A tool call writes rows that must be durable before its answer is sent (its run and its audit row). Each
committed on its own, they cost a commit apiece; under load most of a call's database time is commits.
Callers hand their rows to ``GroupCommit.write`` and wait: one background task takes everything that has
arrived, writes it in one transaction (one multi-row INSERT per table) and then wakes every waiter. Nothing
is written behind the caller's back: ``write`` returns only once its rows are committed, and raises if the
transaction failed (every waiter of that batch gets the error; the next batch is written as usual).

An idle writer starts a batch at once: a lone call waits for its own commit only. Rows that arrive while a
batch is being written form the next one, so batches grow with the load by themselves; ``gather`` (seconds)
can hold a batch open a little longer, ``max_rows`` caps its size. A writer that is not running (a command,
a test without the app's lifespan) writes each caller's rows at once, still in one transaction.

Inside ``held()`` a task's writes are kept and handed over together when the block ends, before it
returns: the rows of one tool call land in one batch, one commit instead of one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

log = logging.getLogger("switchboard.group_commit")


@dataclass
class _Held:
    writer: GroupCommit
    writes: list[tuple[Sequence[Table], str]] = field(default_factory=list)  # rows, what a failure logs
    open: bool = True

    @property
    def rows(self) -> list[Table]:
        return [row for rows, _ in self.writes for row in rows]


_held: ContextVar[_Held | None] = ContextVar("group_commit_held", default=None)


@dataclass
class _Entry:
    rows: Sequence[Table]
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    """Writes the rows handed to ``write`` in shared transactions; ``start`` and ``stop`` it with the app."""

    def __init__(self, *, gather: float = 0.0, max_rows: int = 500) -> None:
        self.gather = gather
        self.max_rows = max_rows
        self.commits = 0  # transactions written (for tests and measurements)
        self._pending: list[_Entry] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._sqlite: tuple[dict[str, Any], _SQLiteWriter] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="group commit")

    async def stop(self) -> None:
        """Write what is pending, then stop; later writes are written at once, each on its own."""
        if self._task is None:
            return
        self._stopping = True
        assert self._wake is not None
        self._wake.set()
        await self._task
        self._task = None
        await self._close_connection()

    async def write(self, *rows: Table, failure_logged_as: str = "") -> None:
        """Store ``rows``; returns once they are committed, raises what the transaction raised.

        A cancelled caller does not take its rows out of the batch: they are written with the others.
        Inside a ``held()`` block the rows are kept for the block's end; ``failure_logged_as`` then says
        that a failure to store these rows is logged with that message rather than raised there (as a
        caller that catches and logs the failure of this write would do outside such a block).
        """
        if not rows:
            return
        held = _held.get()
        if held is not None and held.open and held.writer is self:
            held.writes.append((rows, failure_logged_as))  # written when the block ends
            return
        if not self.running or self._stopping:
            await self._commit(rows)
            return
        entry = _Entry(rows)
        entry.done.add_done_callback(_retrieved)
        self._pending.append(entry)
        assert self._wake is not None
        self._wake.set()
        await asyncio.shield(entry.done)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Keep the rows this task writes inside the block, and write them together when it ends: the
        block returns once they are committed, and raises if they could not be. A block left by an
        exception (a cancelled call) still writes them; a failure to is then logged, and the exception
        goes on."""
        held = _Held(self)
        token = _held.set(held)
        try:
            yield
        except BaseException:
            held.open = False
            _held.reset(token)
            if held.writes:
                try:
                    await asyncio.shield(self._write_held(held))
                except Exception:
                    log.exception("%d rows could not be stored", len(held.rows))
            raise
        held.open = False
        _held.reset(token)
        await asyncio.shield(self._write_held(held))  # a call cancelled now still stores (or logs) its rows

    async def _write_held(self, held: _Held) -> None:
        """A block's rows in one batch; if that fails, each write on its own, so that each fails (raised,
        or logged as its writer asked) as it would have alone."""
        try:
            await self.write(*held.rows)
            return
        except Exception:
            if len(held.writes) == 1 and not held.writes[0][1]:
                raise
        raised: Exception | None = None
        for rows, failure_logged_as in held.writes:
            try:
                await self.write(*rows)
            except Exception as exc:
                if failure_logged_as:
                    log.exception(failure_logged_as)
                elif raised is None:
                    raised = exc
        if raised is not None:
            raise raised

    async def _run(self) -> None:
        assert self._wake is not None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self.gather > 0 and not self._stopping:
                    await asyncio.sleep(self.gather)
                while self._pending:
                    await self._write_batch(self._take())
                if self._stopping:
                    return
        finally:  # cancelled (the event loop closing): no waiter is left hanging, none told "stored"
            pending, self._pending = self._pending, []
            for entry in pending:
                entry.done.cancel()

    def _take(self) -> list[_Entry]:
        """The next batch: pending entries in order, up to ``max_rows`` rows (at least one entry)."""
        count, taken = 0, 0
        for entry in self._pending:
            if taken and count + len(entry.rows) > self.max_rows:
                break
            count += len(entry.rows)
            taken += 1
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch

    async def _write_batch(self, batch: list[_Entry]) -> None:
        try:
            await self._commit([row for entry in batch for row in entry.rows], own_connection=True)
        except Exception as exc:
            if len(batch) == 1:  # the waiter's write failed, as a lone INSERT's would have
                if not batch[0].done.done():
                    batch[0].done.set_exception(exc)
                return
            # One caller's bad row must not fail the others': each entry again, on its own.
            for entry in batch:
                await self._write_batch([entry])
            return
        except BaseException:
            for entry in batch:
                entry.done.cancel()
            raise
        for entry in batch:
            if not entry.done.done():
                entry.done.set_result(None)

    async def _commit(self, rows: Sequence[Table], *, own_connection: bool = False) -> None:
        """``own_connection``: on SQLite, write on the writer's connection (its task alone uses it)."""
        by_table: dict[type[Table], list[Table]] = {}
        for row in rows:
            by_table.setdefault(type(row), []).append(row)
        self.commits += 1
        engine = rows[0]._meta.db
        if own_connection and isinstance(engine, SQLiteEngine):
            await self._commit_on_own_connection(engine, by_table)
            return
        if len(by_table) == 1:  # one statement: atomic by itself, no transaction to open
            ((table, same),) = by_table.items()
            await table.insert(*same)
            return
        # SQLite: take the write lock at BEGIN, so that two writers never deadlock upgrading theirs.
        transaction = (
            engine.transaction(TransactionType.immediate)
            if isinstance(engine, SQLiteEngine)
            else engine.transaction()
        )
        async with transaction:
            for table, same in by_table.items():
                await table.insert(*same)

    async def _commit_on_own_connection(
        self, engine: SQLiteEngine, by_table: dict[type[Table], list[Table]]
    ) -> None:
        """SQLite: the batch in one trip to the writer's own connection and thread, kept while it runs
        (a Piccolo transaction opens a connection, and a thread, for every batch, and goes to that
        thread once per statement)."""
        statements = [
            table.insert(*same).querystrings[0].compile_string(engine_type="sqlite")
            for table, same in by_table.items()
        ]
        if self._sqlite is None or self._sqlite[0] != engine.connection_kwargs:
            await self._close_connection()
            self._sqlite = (engine.connection_kwargs, _SQLiteWriter(engine.connection_kwargs))
        await self._sqlite[1].write(statements)

    async def _close_connection(self) -> None:
        sqlite, self._sqlite = self._sqlite, None
        if sqlite is not None:
            await sqlite[1].close()


class _SQLiteWriter:
    """One SQLite connection and the one thread that uses it."""

    def __init__(self, connection_kwargs: dict[str, Any]) -> None:
        self._kwargs = connection_kwargs
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        self._connection: sqlite3.Connection | None = None

    async def write(self, statements: list[tuple[str, list[Any]]]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, statements)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _write(self, statements: list[tuple[str, list[Any]]]) -> None:
        if self._connection is None:
            connection = sqlite3.connect(**{**self._kwargs, "check_same_thread": False})
            connection.execute("PRAGMA foreign_keys = 1")
            # As the app's other connections (``database.py``): with the write-ahead log, a commit is
            # durable once written, whatever happens to the process; only a power cut can undo it.
            connection.execute("PRAGMA synchronous = NORMAL")
            self._connection = connection
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")  # the write lock at once: no deadlock upgrading it later
        try:
            for sql, args in statements:
                connection.execute(sql, args).fetchall()
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _retrieved(done: asyncio.Future[None]) -> None:
    """Mark a batch's error as seen even when its waiter was cancelled (no "never retrieved" warning)."""
    if not done.cancelled():
        with contextlib.suppress(BaseException):
            done.exception()
