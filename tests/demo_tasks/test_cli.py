"""The ``demo-tasks`` commands, and Demo Tasks served on its own as ``demo-tasks serve`` runs it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks.accounts import DEMO_ACCOUNTS
from switchboard.platform.demo_tasks.cli import demo_tasks_cli
from switchboard.platform.demo_tasks.clients import ClientRegistry
from switchboard.platform.demo_tasks.runner import standalone_app
from tests.conftest import TEST_SECRET
from tests.demo_tasks.support import csrf_from
from tests.support.runner import run_async, sqlite_url


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_SECRET_KEY": TEST_SECRET,
        "SWITCHBOARD_DATA_DIR": str(tmp_path),
    }


async def _authenticates(settings: Settings, client_id: str, client_secret: str) -> str:
    database = Database(settings.database_url, pool_size=1)
    await database.connect()
    try:
        client = await ClientRegistry(TEST_SECRET).authenticate(client_id, client_secret, basic=False)
        return client.name
    finally:
        await database.close()


def test_clients_create_prints_credentials_that_work(settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        demo_tasks_cli,
        ["clients", "create", "--name", "My app", "--redirect-uri", "http://127.0.0.1:9000/callback"],
        env=_env(settings, tmp_path),
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Client ID: dtc_")
    assert lines[1].startswith("Client secret: dts_")
    client_id, secret = lines[0].removeprefix("Client ID: "), lines[1].removeprefix("Client secret: ")
    assert run_async(_authenticates(settings, client_id, secret)) == "My app"


def test_clients_create_refuses_a_bad_redirect_uri_in_one_line(settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        demo_tasks_cli,
        ["clients", "create", "--name", "My app", "--redirect-uri", "not-a-url"],
        env=_env(settings, tmp_path),
    )

    assert result.exit_code == 1
    assert result.output == (
        "error: The redirect URI 'not-a-url' must be an absolute http(s) URL without a fragment.\n"
    )


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (["--help"], ["serve", "--help"], ["clients", "--help"], ["clients", "create", "--help"]):
        result = runner.invoke(demo_tasks_cli, args)
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    assert "--port" in runner.invoke(demo_tasks_cli, ["serve", "--help"]).output


async def test_served_on_its_own_it_migrates_an_empty_database_and_seeds_it_on_start(tmp_path: Path) -> None:
    empty = Settings(
        secret_key=TEST_SECRET, database_url=sqlite_url(tmp_path / "empty.db"), data_dir=str(tmp_path)
    )
    app = standalone_app(empty, host="127.0.0.1", port=8100)

    # The app runs in the test client's own event loop thread: it is reached over HTTP only.
    async with AsyncTestClient(app, base_url="http://127.0.0.1:8100") as client:
        metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
        signed = []
        for email, _ in DEMO_ACCOUNTS:
            client.cookies.clear()
            login = await client.get("/login")
            answer = await client.post(
                "/login",
                data={"_csrf_token": csrf_from(login.text), "email": email, "password": "switchboard-demo"},
                follow_redirects=False,
            )
            signed.append((answer.status_code, answer.headers.get("location")))

    assert metadata["issuer"] == "http://127.0.0.1:8100"
    assert signed == [(303, "http://127.0.0.1:8100/")] * 3
