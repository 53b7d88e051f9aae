"""Liveness (/healthz) never touches the database; readiness (/readyz) says what is wrong."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.migrations import pending_migrations
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from tests.conftest import TEST_SECRET
from tests.platform.conftest import on_database
from tests.support.runner import sqlite_url

pytestmark = pytest.mark.both_engines


def app_on(url: str, tmp_path: Path) -> Litestar:
    """The app on a database it has not connected to, as when the database went away after start-up."""
    settings = Settings(secret_key=TEST_SECRET, database_url=url, data_dir=str(tmp_path))
    return create_app(settings, services=Services.build(settings, database=Database(url, pool_size=2)))


@pytest.fixture
async def unreachable_client(closed_port: int, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_on(f"postgresql://sb:hunter2-secret@127.0.0.1:{closed_port}/switchboard", tmp_path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as c:
        yield c


async def test_healthz_answers_while_the_postgres_server_is_unreachable(
    unreachable_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_names_the_unreachable_database_without_its_password(
    unreachable_client: httpx.AsyncClient, closed_port: int
) -> None:
    response = await unreachable_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith(
        f"cannot reach the database at postgresql://sb:***@127.0.0.1:{closed_port}/switchboard: "
    )
    assert "hunter2" not in response.text


async def test_healthz_does_not_open_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "never-opened.db"
    app = app_on(sqlite_url(path), tmp_path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as c:
        response = await c.get("/healthz")
    assert response.status_code == 200
    assert not path.exists()


async def test_healthz_answers_on_an_unmigrated_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    app = app_on(sqlite_url(path), tmp_path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as c:
        response = await c.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_names_the_pending_migrations_of_an_empty_database(empty_db_url: str, tmp_path: Path) -> None:
    pending = on_database(empty_db_url, pending_migrations)
    assert pending

    async def ask(database: Database) -> httpx.Response:
        settings = Settings(secret_key=TEST_SECRET, database_url=empty_db_url, data_dir=str(tmp_path))
        app = create_app(settings, services=Services.build(settings, database=database))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
            assert (await c.get("/healthz")).status_code == 200
            return await c.get("/readyz")

    response = on_database(empty_db_url, ask)
    assert response.status_code == 503
    reason = f"{len(pending)} migration(s) not applied: {', '.join(pending)}; run `switchboard db migrate`"
    assert response.json() == {"status": "unavailable", "reason": reason, "pending_migrations": pending}
