"""The database: one Piccolo engine (SQLite or PostgreSQL) built from the database URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from switchboard.platform.core import piccolo_conf
from switchboard.platform.core.settings import redact_url

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


def build_engine(url: str, *, pool_size: int) -> Engine[Any]:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        # The file's folder is created by ``Database.connect``, where a failure is reported properly.
        return SQLiteEngine(path=str(_sqlite_path(url)), timeout=30)
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
                await self.engine.start_connection_pool(min_size=1, max_size=self.pool_size, timeout=10)
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
