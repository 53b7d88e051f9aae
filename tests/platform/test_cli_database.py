"""``switchboard db …`` and ``switchboard serve``: migrations, unreachable databases, bad settings.

CLI tests are synchronous: the CLI runs its own event loop with ``asyncio.run``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from switchboard.platform.core.migrations import pending_migrations
from tests.conftest import TEST_SECRET
from tests.platform.conftest import Cli, clean_environment, on_database, stderr_lines
from tests.support.postgres import free_port

pytestmark = pytest.mark.both_engines

SWITCHBOARD = Path(sys.executable).parent / "switchboard"


def test_db_migrate_applies_every_migration_then_says_the_database_is_up_to_date(
    empty_cli: Cli, empty_db_url: str
) -> None:
    pending = on_database(empty_db_url, pending_migrations)
    first = empty_cli("db", "migrate")
    assert first.exit_code == 0
    assert first.stdout.splitlines() == [
        f"Applied {len(pending)} migration(s).",
        *(f"  {m}" for m in pending),
    ]
    second = empty_cli("db", "migrate")
    assert second.exit_code == 0
    assert second.stdout == "The database is up to date.\n"
    assert on_database(empty_db_url, pending_migrations) == []


def test_db_status_lists_pending_migrations_and_exits_1(empty_cli: Cli, empty_db_url: str) -> None:
    pending = on_database(empty_db_url, pending_migrations)
    result = empty_cli("db", "status")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{len(pending)} migration(s) not applied:",
        *(f"  {m}" for m in pending),
    ]


def test_db_status_on_a_migrated_database_says_it_is_up_to_date(cli: Cli) -> None:
    result = cli("db", "status")
    assert result.exit_code == 0
    assert result.stdout == "The database is up to date.\n"
    assert result.stderr == ""


def test_db_new_migration_refuses_an_unknown_app_naming_the_known_ones(cli: Cli) -> None:
    result = cli("db", "new-migration", "billing")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: unknown app 'billing': expected one of identity, connectors, recipes, mcp, demo_tasks\n"
    )


def test_db_new_migration_writes_nothing_when_the_tables_match_the_migrations(cli: Cli) -> None:
    folder = Path(__file__).parents[2] / "identity" / "piccolo_migrations"
    before = sorted(folder.glob("*.py"))
    result = cli("db", "new-migration", "identity", "-d", "no change")
    assert result.exit_code == 0
    assert sorted(folder.glob("*.py")) == before


@pytest.mark.parametrize(
    "command", [("users", "list"), ("groups", "list"), ("demo",), ("groups", "create", "Sales")]
)
def test_a_command_on_an_unmigrated_database_says_to_migrate_first(
    empty_cli: Cli, empty_db_url: str, command: tuple[str, ...]
) -> None:
    pending = on_database(empty_db_url, pending_migrations)
    result = empty_cli(*command)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: the database is not migrated ({len(pending)} migration(s) not applied); "
        "run `switchboard db migrate`"
    ]
    assert result.stdout == ""


def test_db_migrate_on_an_unreachable_postgres_server_fails_with_one_line(
    bare_cli: Cli, closed_port: int
) -> None:
    url = f"postgresql://sb:hunter2-secret@127.0.0.1:{closed_port}/switchboard"
    result = bare_cli("db", "migrate", SWITCHBOARD_DATABASE_URL=url)
    assert result.exit_code == 1
    [line] = stderr_lines(result)
    assert line.startswith(
        f"error: cannot reach the database at postgresql://sb:***@127.0.0.1:{closed_port}/switchboard: "
    )
    assert "hunter2" not in result.stderr
    assert result.stdout == ""


def test_db_migrate_on_a_sqlite_path_that_cannot_be_made_fails_with_one_line(
    bare_cli: Cli, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    url = f"sqlite:///{blocker}/sub/switchboard.db"
    result = bare_cli("db", "migrate", SWITCHBOARD_DATABASE_URL=url)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"error: cannot reach the database at {url}: [Errno 20] Not a directory: '{blocker / 'sub'}'"
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "SWITCHBOARD_PORT",
            "abc",
            "error: SWITCHBOARD_PORT='abc' is invalid: expected an integer from 1 to 65535",
        ),
        (
            "SWITCHBOARD_DATABASE_URL",
            "mysql://sb:hunter2@db/sb",
            "error: SWITCHBOARD_DATABASE_URL='mysql://sb:***@db/sb' is invalid: "
            "expected sqlite:///path/to/file.db or postgresql://user:password@host:5432/name",
        ),
        (
            "SWITCHBOARD_ENV",
            "staging",
            'error: SWITCHBOARD_ENV=\'staging\' is invalid: expected "development" or "production"',
        ),
    ],
)
def test_bad_settings_stop_any_command_with_exit_2_and_one_line(
    bare_cli: Cli, variable: str, value: str, message: str
) -> None:
    result = bare_cli("db", "status", **{variable: value})
    assert result.exit_code == 2
    assert stderr_lines(result) == [message]


def test_the_config_option_reads_a_toml_file_and_the_environment_still_wins(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text('[switchboard]\nport = "abc"\n')
    refused = cli("--config", str(config), "db", "status")
    assert refused.exit_code == 2
    assert stderr_lines(refused) == [
        "error: SWITCHBOARD_PORT='abc' is invalid: expected an integer from 1 to 65535"
    ]
    overridden = cli("--config", str(config), "db", "status", SWITCHBOARD_PORT="8001")
    assert overridden.exit_code == 0


def test_a_missing_config_file_stops_with_exit_2(bare_cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = bare_cli("--config", str(missing), "db", "status")
    assert result.exit_code == 2
    assert stderr_lines(result) == [
        f"error: SWITCHBOARD_CONFIG={str(missing)!r} cannot be read: No such file or directory"
    ]


# -- serve, as a real process -------------------------------------------------------------------------


def serve_environment(**variables: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in clean_environment()}
    return environment | {"SWITCHBOARD_SECRET_KEY": TEST_SECRET} | variables


def test_serve_refuses_an_unreachable_database_quickly_with_one_line(
    closed_port: int, tmp_path: Path
) -> None:
    url = f"postgresql://sb:hunter2-secret@127.0.0.1:{closed_port}/switchboard"
    started = time.monotonic()
    result = subprocess.run(
        [str(SWITCHBOARD), "serve", "--port", str(free_port())],
        env=serve_environment(SWITCHBOARD_DATABASE_URL=url, SWITCHBOARD_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"error: cannot reach the database at postgresql://sb:***@127.0.0.1:{closed_port}/switchboard: "
    )
    assert "hunter2" not in result.stderr
    assert result.stdout == ""


def test_serve_refuses_a_port_out_of_range_with_exit_2(bare_cli: Cli) -> None:
    result = bare_cli("serve", "--port", "70000")
    assert result.exit_code == 2
    assert stderr_lines(result) == ["error: --port 70000 is invalid: expected an integer from 1 to 65535"]


@pytest.mark.slow
@pytest.mark.one_engine
def test_serve_answers_health_checks_on_the_chosen_port(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=serve_environment(SWITCHBOARD_DATABASE_URL=db_url, SWITCHBOARD_DATA_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", server)
        assert ready == (200, b'{"status":"ready"}')
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, b'{"status":"ok"}')
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=20)
    assert stdout.startswith(
        f"Switchboard is serving on http://127.0.0.1:{port} (public URL http://127.0.0.1:{port})\n"
    )
    assert "Traceback" not in stderr


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def _wait_for(url: str, server: subprocess.Popen[str]) -> tuple[int, bytes]:
    deadline = time.monotonic() + 30
    while True:
        try:
            return _get(url)
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
