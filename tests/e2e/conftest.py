"""Browser tests: Debian's Chromium, driven by Playwright, against a real server on each database engine.

One server per engine serves the whole package (started with the demo data); tests create what they
change under names of their own, so they do not depend on each other's order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import require_component
from tests.e2e.live_server import LiveServer, ServerFailed
from tests.e2e.steps import ADMIN, sign_in
from tests.support.postgres import PostgresCluster
from tests.support.runner import sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Pages answer in milliseconds; a step that waits longer than this has failed.
STEP_TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        require_component("Chromium", f"{CHROMIUM} is not installed (`make system-deps` installs it)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


ENGINES = ("sqlite", "postgres")


def _start(engine: str, data_dir: Path, cluster: PostgresCluster | None) -> LiveServer | str:
    """A running server on a fresh database of ``engine``, or why there is none."""
    if engine == "sqlite":
        database_url = sqlite_url(data_dir / "switchboard.db")
    elif cluster is None:
        return "PostgreSQL could not be started (see the first notice)"
    else:
        name = f"e2e_{uuid.uuid4().hex[:12]}"
        cluster.execute(f"CREATE DATABASE {name}")
        database_url = cluster.url(name)
    server = LiveServer(database_url, data_dir)
    try:
        server.start()
    except ServerFailed as exc:
        return f"FAILED: {exc}"
    return server


@pytest.fixture(scope="package")
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, LiveServer | str]]:
    """Both engines' servers, started side by side (each start is mostly waiting on subprocesses)."""
    cluster: PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    with ThreadPoolExecutor(max_workers=len(ENGINES)) as pool:
        futures = {
            engine: pool.submit(_start, engine, tmp_path_factory.mktemp(f"e2e-{engine}"), cluster)
            for engine in ENGINES
        }
        started = {engine: future.result() for engine, future in futures.items()}
    yield started
    for server in started.values():
        if isinstance(server, LiveServer):
            server.stop()


@pytest.fixture(scope="package", params=ENGINES)
def live_server(request: pytest.FixtureRequest, servers: dict[str, LiveServer | str]) -> LiveServer:
    """Switchboard serving the demo data from a fresh database of each engine."""
    server = servers[request.param]
    if isinstance(server, str):
        if server.startswith("FAILED: "):
            pytest.fail(server, pytrace=False)
        require_component("PostgreSQL", server)
        raise AssertionError("unreachable")
    return server


@pytest.fixture(scope="package")
def admin_state(browser: Browser, live_server: LiveServer) -> Any:
    """Cookies of one sign-in as the demo owner, reused by the tests that only need an admin."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(context.new_page(), ADMIN)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) pointed at the server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def another_browser(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """Opens pages in further browser profiles: other people at other computers."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def admin_page(browser: Browser, live_server: LiveServer, admin_state: Any) -> Iterator[Page]:
    """A page in a browser where the demo owner is already signed in."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, storage_state=admin_state
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    yield context.new_page()
    context.close()
