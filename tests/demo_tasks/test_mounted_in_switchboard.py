"""Demo Tasks as Switchboard's composition root mounts it under /demo-tasks (in development): Switchboard's
middleware (sign-in sessions, CSRF on every form) lets it answer exactly as it would alone, and the two
never share a session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.platform.demo_tasks.clients import DemoClient
from tests.demo_tasks.support import HOST, ISSUER, DemoTasksBrowser
from tests.identity.support import make_user
from tests.support.web import Browserless


@pytest.fixture
async def switchboard(app: Litestar, seeded: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url=HOST) as client:
        yield client


async def test_the_whole_flow_works_through_switchboards_middleware(
    switchboard: httpx.AsyncClient, services: IdentityServices, oauth_client: DemoClient
) -> None:
    await make_user(services, "carol@example.com")
    assert (
        await Browserless(switchboard).sign_in("carol@example.com", "correct-horse-battery")
    ).status_code == 303
    demo = DemoTasksBrowser(switchboard)

    # Signed in to Switchboard is not signed in to Demo Tasks.
    assert (await switchboard.get(f"{ISSUER}/")).headers["location"].startswith(f"{ISSUER}/login")
    signed = await demo.sign_in("alice@example.com")
    assert signed.status_code == 303
    answer = await demo.exchange(oauth_client, await demo.authorized(oauth_client))
    assert answer.status_code == 200
    access_token = answer.json()["access_token"]
    created = await demo.add_task(access_token, {"title": "Through the mount"})
    assert created.status_code == 201
    assert [task["title"] for task in (await demo.tasks(access_token)).json()["tasks"]] == [
        "Through the mount"
    ]
    assert (await demo.revoke(oauth_client, access_token)).status_code == 200
    assert (await demo.tasks(access_token)).status_code == 401
    # Switchboard's own pages still answer, and its session cookie stays Switchboard's.
    assert (await switchboard.get("/me")).status_code == 200
    assert "demo_tasks_session" not in [
        cookie.name for cookie in switchboard.cookies.jar if cookie.path == "/"
    ]


async def test_the_mount_root_without_a_slash_reaches_the_app(switchboard: httpx.AsyncClient) -> None:
    response = await switchboard.get("/demo-tasks")

    assert response.status_code == 303
    assert response.headers["location"] == f"{ISSUER}/login?next=%2F"
