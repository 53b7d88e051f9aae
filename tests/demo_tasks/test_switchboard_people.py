"""Mounted in Switchboard, Demo Tasks has an account for every person Switchboard has: created with the
person, opened with their own Switchboard password, and following it when an admin resets it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.platform.demo_tasks.clients import DemoClient
from tests.demo_tasks.support import HOST, ISSUER, DemoTasksBrowser
from tests.identity.support import PASSWORD, SETUP, make_user


@pytest.fixture
async def demo(app: Litestar, seeded: list[str]) -> AsyncIterator[DemoTasksBrowser]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url=HOST) as client:
        yield DemoTasksBrowser(client)


async def test_a_person_created_after_the_demo_seed_signs_in_to_demo_tasks_and_allows_switchboard(
    demo: DemoTasksBrowser, services: IdentityServices, oauth_client: DemoClient
) -> None:
    await make_user(services, "carol@example.com")

    signed = await demo.sign_in("carol@example.com", PASSWORD)

    assert signed.status_code == 303
    assert signed.headers["location"] == f"{ISSUER}/"
    answer = await demo.exchange(oauth_client, await demo.authorized(oauth_client))
    assert answer.status_code == 200
    assert (await demo.tasks(answer.json()["access_token"])).json() == {"tasks": []}


async def test_demo_tasks_takes_the_password_an_admin_reset_and_no_longer_the_old_one(
    demo: DemoTasksBrowser, services: IdentityServices
) -> None:
    carol = await make_user(services, "carol@example.com")

    await services.users.reset_password(carol.id, "a-new-password-for-carol", actor=SETUP)

    assert (await demo.sign_in("carol@example.com", PASSWORD)).status_code == 400
    assert (await demo.sign_in("carol@example.com", "a-new-password-for-carol")).status_code == 303
