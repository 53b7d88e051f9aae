"""Browser tests: Debian's Chromium, driven by Playwright, against a real server on PostgreSQL.

One server serves the whole package (started with the demo data); tests create what they change under
names of their own, so they do not depend on each other's order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import require_component
from tests.e2e.live_server import LiveServer, ServerFailed
from tests.e2e.steps import ADMIN, sign_in
from tests.support.postgres import PostgresCluster

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


@pytest.fixture(scope="package")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Switchboard serving the demo data from a fresh PostgreSQL database, the engine production runs on
    (the other tests cover SQLite)."""
    cluster: PostgresCluster | None = request.getfixturevalue("postgres_cluster")
    if cluster is None:
        require_component("PostgreSQL", "the server could not be started (see the first notice)")
        raise AssertionError("unreachable")
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name}")
    server = LiveServer(cluster.url(name), tmp_path_factory.mktemp("e2e"))
    try:
        server.start()
    except ServerFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


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
