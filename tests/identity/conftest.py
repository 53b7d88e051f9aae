"""People and browsers for the identity tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from tests.identity.support import make_user, signed_in
from tests.support.web import Browserless

OpenBrowser = Callable[..., Awaitable[Browserless]]


@pytest.fixture
async def owner(services: IdentityServices) -> UserOut:
    return await make_user(services, "owner@example.com", Role.OWNER)


@pytest.fixture
async def admin(services: IdentityServices) -> UserOut:
    return await make_user(services, "admin@example.com", Role.ADMIN)


@pytest.fixture
async def member(services: IdentityServices) -> UserOut:
    return await make_user(services, "member@example.com")


@pytest.fixture
async def open_browser(app: Litestar) -> AsyncIterator[OpenBrowser]:
    """Opens another browser, with its own cookies, from ``ip_address`` (127.0.0.1 unless told)."""
    clients: list[httpx.AsyncClient] = []

    async def open_browser(ip_address: str = "127.0.0.1") -> Browserless:
        transport = httpx.ASGITransport(app=app, client=(ip_address, 51000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
        clients.append(client)
        return Browserless(client)

    yield open_browser
    for client in clients:
        await client.aclose()


@pytest.fixture
async def as_owner(open_browser: OpenBrowser, owner: UserOut) -> httpx.AsyncClient:
    return await signed_in(await open_browser(), owner.email)


@pytest.fixture
async def as_admin(open_browser: OpenBrowser, admin: UserOut) -> httpx.AsyncClient:
    return await signed_in(await open_browser(), admin.email)


@pytest.fixture
async def as_member(open_browser: OpenBrowser, member: UserOut) -> httpx.AsyncClient:
    return await signed_in(await open_browser(), member.email)
