"""The database: engines from URLs, reachability errors without credentials, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.platform.core.database import Database, DatabaseUnavailable
from switchboard.platform.core.migrations import migrate, migration_statuses, pending_migrations
from switchboard.platform.core.piccolo_conf import APP_REGISTRY
from switchboard.platform.core.settings import redact_url
from tests.platform.conftest import on_database, running_cluster
from tests.support.postgres import PostgresCluster
from tests.support.runner import sqlite_url

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://sb:hunter2@db:5432/sb", "postgresql://sb:***@db:5432/sb"),
        ("postgresql://sb:p%40ss%3Aw0rd@db/sb?sslmode=require", "postgresql://sb:***@db/sb?sslmode=require"),
        ("postgresql://sb:p@ss@db/sb", "postgresql://sb:***@db/sb"),
        ("postgresql://sb:@db/sb", "postgresql://sb:***@db/sb"),
        ("postgresql://sb:hunter2@db:five/sb", "postgresql://sb:***@db:five/sb"),
        ("postgresql://sb@db/sb", "postgresql://sb@db/sb"),
        ("postgresql://db/sb?user=x@y", "postgresql://db/sb?user=x@y"),
        ("sqlite:///var/switchboard.db", "sqlite:///var/switchboard.db"),
    ],
)
def test_a_database_url_is_shown_with_its_password_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown


async def test_an_unreachable_postgres_server_is_reported_in_one_line_without_the_password(
    closed_port: int,
) -> None:
    database = Database(f"postgresql://sb:hunter2-secret@127.0.0.1:{closed_port}/switchboard")
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.connect()
    message = str(caught.value)
    assert message.startswith(
        f"cannot reach the database at postgresql://sb:***@127.0.0.1:{closed_port}/switchboard: "
    )
    assert "Connect call failed" in message
    assert "hunter2" not in message
    assert "\n" not in message


async def test_a_missing_postgres_database_is_reported_with_the_password_hidden(
    postgres_cluster: PostgresCluster | None,
) -> None:
    cluster = running_cluster(postgres_cluster)
    url = f"postgresql://{cluster.user}:hunter2-secret@127.0.0.1:{cluster.port}/no_such_db"
    with pytest.raises(DatabaseUnavailable) as caught:
        await Database(url).connect()
    assert str(caught.value) == (
        f"cannot reach the database at postgresql://{cluster.user}:***@127.0.0.1:"
        f'{cluster.port}/no_such_db: database "no_such_db" does not exist'
    )


async def test_a_failed_ping_is_reported_with_the_password_hidden(closed_port: int) -> None:
    database = Database(f"postgresql://sb:hunter2-secret@127.0.0.1:{closed_port}/switchboard")
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.ping()
    assert str(caught.value).startswith(
        f"cannot reach the database at postgresql://sb:***@127.0.0.1:{closed_port}"
    )
    assert "hunter2" not in str(caught.value)


async def test_a_sqlite_file_whose_folder_cannot_be_made_is_reported_as_unreachable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    url = sqlite_url(blocker / "sub" / "switchboard.db")
    database = Database(url)  # building the engine touches nothing on disk
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.connect()
    assert str(caught.value) == (
        f"cannot reach the database at {url}: [Errno 20] Not a directory: '{blocker / 'sub'}'"
    )


async def test_a_file_that_is_not_a_sqlite_database_is_reported_as_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough to have a header" * 20)
    with pytest.raises(DatabaseUnavailable) as caught:
        await Database(sqlite_url(path)).connect()
    assert str(caught.value) == f"cannot reach the database at {sqlite_url(path)}: file is not a database"


async def test_sqlite_makes_its_folder_and_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "switchboard.db"
    database = Database(sqlite_url(path))
    await database.connect()
    try:
        rows = await database.engine.run_ddl("PRAGMA journal_mode")
    finally:
        await database.close()
    assert path.exists()
    assert rows == [{"journal_mode": "wal"}]


async def test_the_postgres_scheme_alias_reaches_the_same_server(
    postgres_cluster: PostgresCluster | None,
) -> None:
    database = Database(running_cluster(postgres_cluster).url().replace("postgresql://", "postgres://", 1))
    await database.connect()
    try:
        await database.ping()
    finally:
        await database.close()


def _migration_ids() -> list[str]:
    """What every registered app ships, read from its migration files (``ID = "…"``): app by app in
    the registry's order (each app's migrations depend on the earlier apps'), each app's in order."""
    ids = []
    for name, config in APP_REGISTRY.app_configs.items():
        shipped = []
        for path in Path(config.migrations_folder_path).glob("*.py"):
            for line in path.read_text().splitlines():
                if line.startswith("ID = "):
                    shipped.append(f"{name}/" + line.split('"')[1])
        ids += sorted(shipped)
    return ids


def test_an_empty_database_has_every_shipped_migration_pending(empty_db_url: str) -> None:
    assert on_database(empty_db_url, pending_migrations) == _migration_ids()


def test_migrating_applies_every_migration_once(empty_db_url: str) -> None:
    async def twice(database: Database) -> tuple[list[str], list[str], list[bool]]:
        first, second = await migrate(database), await migrate(database)
        return first, second, [status.applied for status in await migration_statuses(database)]

    first, second, applied = on_database(empty_db_url, twice)
    assert first == _migration_ids()
    assert second == []
    assert applied == [True] * len(first)
