"""The database: one Piccolo engine (SQLite or PostgreSQL) built from the database URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.table import Table

from switchboard.platform.core import piccolo_conf
from switchboard.platform.core.settings import redact_url

if TYPE_CHECKING:
    import asyncpg

PICCOLO_CONF_MODULE = "switchboard.platform.core.piccolo_conf"


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message is one line, without credentials."""


def _sqlite_path(url: str) -> Path:
    # sqlite:///relative/path.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
    path = url.removeprefix("sqlite://")
    path = path[1:] if path.startswith("/") else path
    return Path(unquote(path))


class _PostgresEngine(PostgresEngine):
    """Piccolo's engine without its connect-at-construction version check.

    Piccolo checks the server version synchronously when an engine is built, which would block and
    connect before settings are even validated; ``Database.connect`` checks reachability instead.
    No extension is needed: UUID defaults use the built-in ``gen_random_uuid()`` (PostgreSQL 13+).
    """

    async def check_version(self) -> None:
        return None


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection goes through on its way back to the pool, beyond asyncpg's own clean-up: nothing.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    after every use, one more round trip for each query Piccolo runs outside a transaction. Switchboard
    leaves no such state on a session: it takes no advisory locks (grant refreshes lease a row), listens
    to nothing, changes no setting, and the only cursors (Piccolo's batches) live inside a transaction.
    Before calling this, the pool still rolls back a transaction left open (a task cancelled mid-way)
    and drops any listener callbacks (``Connection._reset``), so the next user never inherits one. A
    setting a query needs belongs in ``SET LOCAL`` inside its transaction, which ends with it.
    """


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine keeping a few connections open between queries.

    Piccolo opens a connection (and its worker thread) for every query outside a transaction, which costs
    more than most queries do. Here an idle connection is reused instead; connections are in autocommit
    mode, as Piccolo's are, so each statement still commits on its own and a refused one leaves nothing
    open. Transactions open their own connection as before. A connection whose query was interrupted
    (the task cancelled) is closed, never reused.
    """

    def __init__(self, *, keep: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep = keep
        self._idle: list[aiosqlite.Connection] = []

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # Its worker thread must not keep a process alive that forgot to close the database.
        connection._thread.daemon = True
        await connection
        # sqlite3 takes any callable here; aiosqlite's annotation says a type.
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        # With the write-ahead log, NORMAL syncs at checkpoints rather than on every commit: the database
        # cannot be corrupted, and only a power cut (not a crash of the process) can undo the last commits.
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: Piccolo's way
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = self._idle.pop() if self._idle else await self._open()
        try:
            # One trip to the connection's thread (a cursor, its fetch and its closing would be three).
            rows = await connection.execute_fetchall(query, args or [])
        except Exception:
            await self._put_back(connection)  # autocommit: a refused statement leaves nothing open
            raise
        except BaseException:
            connection.stop()  # interrupted: the statement may still be running
            raise
        await self._put_back(connection)
        return rows

    async def _put_back(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < self._keep:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


def build_engine(url: str, *, pool_size: int) -> Engine[Any]:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # The file's folder is created by ``Database.connect``, where a failure is reported properly.
        return _SQLiteEngine(path=str(_sqlite_path(url)), timeout=30, keep=pool_size)
    dsn = "postgresql" + url[url.index(":") :] if scheme == "postgres" else url
    return _PostgresEngine(config={"dsn": dsn}, extensions=(), log_queries=False)


class Database:
    """Owns the engine and binds every table to it.

    Piccolo tables look up their engine globally; ``connect`` points them (and Piccolo's migration
    runner, through ``piccolo_conf``) at this database.
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self.engine = build_engine(url, pool_size=pool_size)
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.engine, SQLiteEngine)

    def bind(self) -> None:
        os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE
        piccolo_conf.DB = self.engine
        for table in _all_tables():
            table._meta.db = self.engine

    async def connect(self) -> None:
        """Bind the tables, open the pool (PostgreSQL) and check the database answers."""
        self.bind()
        if self._connected:
            return
        try:
            if isinstance(self.engine, PostgresEngine):
                # A short connect timeout: an unreachable host fails the start in seconds, not a minute.
                await self.engine.start_connection_pool(
                    min_size=1, max_size=self.pool_size, timeout=10, reset=_keep_session
                )
            else:
                _sqlite_path(self.url).parent.mkdir(parents=True, exist_ok=True)
                await self.engine.run_ddl("PRAGMA journal_mode=WAL")
        except Exception as exc:  # any driver error means the same thing to the caller
            await self.close()
            raise self._unavailable(exc) from exc
        self._connected = True

    async def close(self) -> None:
        self._connected = False
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is not None:
            await self.engine.close_connection_pool()
        elif isinstance(self.engine, _SQLiteEngine):
            await self.engine.close_idle()

    async def ping(self) -> None:
        try:
            await self.engine.run_ddl("SELECT 1")
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        password = urlsplit(self.url).password
        if password:  # in case a driver quotes the URL it was given
            reason = reason.replace(password, "***").replace(unquote(password), "***")
        return DatabaseUnavailable(f"cannot reach the database at {redact_url(self.url)}: {reason}")


def _all_tables() -> Iterator[type[Table]]:
    """Every table of every registered app, and Piccolo's own migration table."""
    from piccolo.apps.migrations.tables import Migration

    yield Migration
    for app_config in piccolo_conf.APP_REGISTRY.app_configs.values():
        yield from app_config.table_classes


def is_unique_violation(exc: BaseException) -> bool:
    """Whether a driver error is a unique-constraint violation (SQLite or PostgreSQL)."""
    import sqlite3

    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


def is_foreign_key_violation(exc: BaseException) -> bool:
    """Whether a driver error is a refused delete of a row that others still reference."""
    import sqlite3

    import asyncpg

    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in str(exc)
