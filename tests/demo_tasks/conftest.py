"""Demo Tasks mounted under /demo-tasks in a small host app that has its own CSRF protection, as
Switchboard does; its demo accounts seeded and one OAuth client registered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from litestar import Litestar
from litestar.config.csrf import CSRFConfig

from switchboard.platform.core.database import Database
from switchboard.platform.demo_tasks import accounts
from switchboard.platform.demo_tasks.app import create_demo_tasks_app, mount_handler
from switchboard.platform.demo_tasks.clients import ClientRegistry, DemoClient
from tests.conftest import TEST_SECRET
from tests.demo_tasks.support import HOST, ISSUER, REDIRECT_URI, DemoTasksBrowser


@pytest.fixture(autouse=True)
def cheap_demo_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with argon2-cffi's test profile: the same code paths without seconds of hashing."""
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("demo-tasks-timing-equaliser"))


@pytest.fixture(scope="session")
def demo_app() -> Litestar:
    """One app for every test: it keeps no state of its own (the tests' databases hold it all)."""
    return create_demo_tasks_app(issuer=ISSUER, secret_key=TEST_SECRET)


@pytest.fixture(scope="session")
def host_app(demo_app: Litestar) -> Litestar:
    host_csrf = CSRFConfig(secret=TEST_SECRET, cookie_name="host_csrf")
    # No logging set-up of its own: Litestar's default would raise the root logger to INFO for every
    # test that runs after this one in the worker.
    return Litestar(
        route_handlers=[mount_handler(demo_app, "/demo-tasks")], csrf_config=host_csrf, logging_config=None
    )


@pytest.fixture
async def seeded(database: Database) -> list[str]:
    return await accounts.seed_accounts()


@pytest.fixture
def registry() -> ClientRegistry:
    return ClientRegistry(TEST_SECRET)


@pytest.fixture
async def oauth_client(registry: ClientRegistry, database: Database) -> DemoClient:
    return await registry.ensure_client("Switchboard", [REDIRECT_URI])


@pytest.fixture
async def http(host_app: Litestar, seeded: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=host_app, client=("127.0.0.1", 52000))
    async with httpx.AsyncClient(transport=transport, base_url=HOST) as client:
        yield client


@pytest.fixture
def browser(http: httpx.AsyncClient) -> DemoTasksBrowser:
    return DemoTasksBrowser(http)
