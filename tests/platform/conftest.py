"""Fixtures for the platform tests: the CLI as a user runs it, unmigrated and unreachable databases."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click.testing
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.platform.cli import main
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import ENV_PREFIX, Settings, env_name
from tests.conftest import TEST_SECRET, require_component
from tests.support.postgres import PostgresCluster, free_port
from tests.support.runner import run_async, sqlite_url

T = TypeVar("T")

# Every variable the product reads, so that the developer's own environment never leaks into a test.
SETTINGS_VARIABLES = (*(env_name(field) for field in Settings.__struct_fields__), f"{ENV_PREFIX}CONFIG")


def clean_environment(**variables: str) -> dict[str, str | None]:
    """Environment overrides for CliRunner or subprocesses: the given variables, every other one unset."""
    return {name: None for name in SETTINGS_VARIABLES} | variables


class Cli:
    """Runs ``switchboard`` in-process, as a user types it, with a fixed environment."""

    def __init__(self, environment: dict[str, str | None]) -> None:
        self.environment = environment
        self.runner = click.testing.CliRunner()

    def __call__(self, *args: str, input: str | None = None, **variables: str) -> click.testing.Result:
        return self.runner.invoke(
            main,
            list(args),
            input=input,
            env={**self.environment, **variables},
            prog_name="switchboard",
            catch_exceptions=False,
        )


def _cli_environment(database_url: str, data_dir: Path) -> dict[str, str | None]:
    return clean_environment(
        SWITCHBOARD_DATABASE_URL=database_url,
        SWITCHBOARD_DATA_DIR=str(data_dir),
        SWITCHBOARD_SECRET_KEY=TEST_SECRET,
    )


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    """The CLI on a fresh, migrated database."""
    return Cli(_cli_environment(db_url, tmp_path))


@pytest.fixture
def bare_cli(tmp_path: Path) -> Cli:
    """The CLI with only a data folder, for what fails before any database is used."""
    return Cli(clean_environment(SWITCHBOARD_DATA_DIR=str(tmp_path), SWITCHBOARD_SECRET_KEY=TEST_SECRET))


@pytest.fixture
def empty_cli(empty_db_url: str, tmp_path: Path) -> Cli:
    """The CLI on an empty database that has never been migrated."""
    return Cli(_cli_environment(empty_db_url, tmp_path))


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no tables at all (SQLite, or each engine for ``both_engines``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield sqlite_url(path)
        return
    cluster = running_cluster(request.getfixturevalue("postgres_cluster"))
    name = f"empty_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name}")
    yield cluster.url(name)
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    return free_port()


def on_database(db_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Connect to ``db_url``, run ``work`` with the database, close (from a synchronous test)."""

    async def run() -> T:
        database = Database(db_url, pool_size=2)
        await database.connect()
        try:
            return await work(database)
        finally:
            await database.close()

    return run_async(run())


def read_back(db_url: str, work: Callable[[IdentityServices], Awaitable[T]]) -> T:
    """Run ``work`` with the identity services on ``db_url``, to check what a command stored."""
    settings = Settings(secret_key=TEST_SECRET, database_url=db_url, data_dir="unused")
    return on_database(db_url, lambda _: work(IdentityServices.from_settings(settings)))


def running_cluster(cluster: PostgresCluster | None) -> PostgresCluster:
    """The throwaway PostgreSQL cluster, or a loud skip (a failure in CI) when it could not start."""
    if cluster is None:
        require_component("PostgreSQL", "the server could not be started (see the first notice)")
        raise AssertionError("unreachable")
    return cluster


def stderr_lines(result: click.testing.Result) -> list[str]:
    return result.stderr.splitlines()
