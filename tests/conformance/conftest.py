"""A live Switchboard on PostgreSQL (with the protected test endpoint), Chromium, and the Node suite."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conformance.suite import ROOT, missing_suite
from tests.conftest import require_component
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.live_server import LiveServer, ServerFailed
from tests.support.postgres import PostgresCluster

SERVE = [sys.executable, "-m", "tests.support.oauth_server"]


@pytest.fixture(scope="session")
def conformance_suite() -> None:
    problem = missing_suite()
    if problem:
        require_component("Node 22 and the MCP conformance suite", problem)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        require_component("Chromium", f"{CHROMIUM} is not installed (`make system-deps` installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Switchboard with the demo data and ``/mcp/test``, serving a fresh PostgreSQL database."""
    data_dir: Path = tmp_path_factory.mktemp("conformance")
    cluster: PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    if cluster is None:
        require_component("PostgreSQL", "the server could not be started (see the first notice)")
        raise AssertionError("unreachable")
    name = f"conformance_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name}")
    database_url = cluster.url(name)
    server = LiveServer(database_url, data_dir, serve=SERVE)
    server.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    try:
        server.start()
    except ServerFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()
