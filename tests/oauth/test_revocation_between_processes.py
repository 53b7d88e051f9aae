"""What revoking guarantees when Switchboard runs as several processes on one database.

Each process keeps its own revocation list and signing keys in memory. Here a second ``Services``, served
by an app of its own, stands for a second server process: it shares nothing with the first but the
database (one connection pool in this test process, which caches nothing) and this test process's modules.
The one piece of module state revoking reads, the count of revocations a process wrote, is made its own
for the second process's services; so what one process knows only from memory the other must learn from
the database, as two ``switchboard serve`` processes do. Two real server processes would test the same
code at the cost of starting them for each test, with the signed-in browser and the admin acting over
HTTP.

The guarantee (docs/decisions/0003-authorization-server.md): a revocation takes effect at the next
request in the process that made it, and in every other process for each request that starts half a
second after it; a reactivated user's new tokens are accepted at once everywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.oauth import revocation_list
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.resources import ProtectedResource
from switchboard.identity.schemas import UserUpdate
from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from tests.identity.support import signed_in
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, error_of
from tests.support.oauth_server import TEST_PATH, with_test_endpoint
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines

# Every request that starts this long after a revocation was made, in any process, refuses what it revoked.
BOUND = 0.5


@dataclass
class Process:
    """One Switchboard process as its clients see it: its services, its OAuth endpoints, and the
    protected MCP resource it serves."""

    services: Services
    oauth: OAuthClient
    resource: httpx.AsyncClient

    async def accepts(self, access_token: str) -> bool:
        answer = await self.resource.get(TEST_PATH, headers={"authorization": f"Bearer {access_token}"})
        assert answer.status_code in (200, 401), answer.text
        return answer.status_code == 200

    async def introspects_active(self, token: str, gateway: tuple[str, str]) -> bool:
        answer = await self.oauth.introspect(token, auth=gateway)
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])


async def _served(app: Litestar, services: Services, port: int) -> AsyncIterator[Process]:
    protected = with_test_endpoint(app, ProtectedResource(url=RESOURCE, name="Test server"))
    address = ("127.0.0.1", port)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=address), base_url="http://testserver.local"
        ) as http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=protected, client=address), base_url="http://testserver.local"
        ) as resource,
    ):
        yield Process(services=services, oauth=OAuthClient(http), resource=resource)


@pytest.fixture
async def here(app: Litestar, app_services: Services) -> AsyncIterator[Process]:
    """The process the revocations are made through (the one the signed-in browsers talk to)."""
    async for process in _served(app, app_services, 51010):
        yield process


@pytest.fixture
async def elsewhere(
    settings: Settings, database: Database, build_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Process]:
    """Another process on the same database, with a revocation list and signing keys of its own, which
    does not hear of the revocations ``here`` writes but through the database."""
    with monkeypatch.context() as its_own_modules:
        its_own_modules.setattr(revocation_list, "written_here", revocation_list.WriteCount())
        services = Services.build(settings, database=database, **build_options)
    try:
        async for process in _served(create_app(settings, services=services), services, 51011):
            yield process
    finally:
        await services.connectors.aclose()


@pytest.fixture
async def gateway(app_services: Services) -> tuple[str, str]:
    """Credentials of a resource server that may introspect any token."""
    created = await app_services.identity.oauth.clients.create_static(
        StaticClientCreate(name="MCP gateway", grant_types=["client_credentials"], may_introspect_any=True),
        actor=SETUP,
    )
    assert created.client_secret is not None
    return created.client.client_id, created.client_secret


async def _alice_id(services: Services) -> Any:
    user = await services.identity.users.find_by_email("alice@example.com")
    assert user is not None
    return user.id


Revoke = Callable[[Process, dict[str, Any], dict[str, Any]], Awaitable[None]]


async def _revoke_token(process: Process, client: dict[str, Any], tokens: dict[str, Any]) -> None:
    answer = await process.oauth.revoke(tokens["access_token"], client["client_id"])  # RFC 7009
    assert answer.status_code == 200, answer.text


async def _revoke_grant(process: Process, client: dict[str, Any], tokens: dict[str, Any]) -> None:
    """The person revokes the app under My apps."""
    await process.services.identity.oauth.consents.revoke_app(
        await _alice_id(process.services), "alice@example.com", client["client_id"]
    )


async def _delete_client(process: Process, client: dict[str, Any], tokens: dict[str, Any]) -> None:
    await process.services.identity.oauth.clients.delete(client["client_id"], actor=SETUP)


async def _deactivate_user(process: Process, client: dict[str, Any], tokens: dict[str, Any]) -> None:
    users = process.services.identity.users
    await users.update(await _alice_id(process.services), UserUpdate(is_active=False), actor=SETUP)


@pytest.mark.parametrize(
    ("revoke", "ends_refresh"),
    [(_revoke_token, False), (_revoke_grant, True), (_delete_client, True), (_deactivate_user, True)],
    ids=["access token", "grant", "client", "user"],
)
async def test_a_revocation_holds_at_once_where_it_was_made_and_within_the_bound_elsewhere(
    here: Process,
    elsewhere: Process,
    alice: Browserless,
    public_client: dict[str, Any],
    gateway: tuple[str, str],
    revoke: Revoke,
    ends_refresh: bool,
) -> None:
    tokens = await here.oauth.tokens(alice, public_client["client_id"])
    access_token = tokens["access_token"]
    assert await here.accepts(access_token)
    assert await elsewhere.accepts(access_token)

    await revoke(here, public_client, tokens)
    revoked_at = time.monotonic()
    assert not await here.accepts(access_token), "the process that revoked still accepts the token"
    assert not await here.introspects_active(access_token, gateway)

    await asyncio.sleep(max(0.0, revoked_at + BOUND - time.monotonic()))
    assert not await elsewhere.accepts(access_token), f"another process still accepts after {BOUND} s"
    assert not await elsewhere.introspects_active(access_token, gateway)
    refreshed = await elsewhere.oauth.refresh(tokens["refresh_token"], public_client["client_id"])
    if ends_refresh:
        assert error_of(refreshed) in ((400, "invalid_grant"), (401, "invalid_client"))
    else:  # RFC 7009 §2.1: revoking an access token leaves its refresh token alone
        assert refreshed.status_code == 200, refreshed.text


async def test_a_user_reactivated_within_the_second_of_the_deactivation_is_accepted_again_at_once(
    here: Process, elsewhere: Process, alice: Browserless, public_client: dict[str, Any]
) -> None:
    client_id = public_client["client_id"]
    tokens = await here.oauth.tokens(alice, client_id)
    assert await elsewhere.accepts(tokens["access_token"])
    users, alice_id = here.services.identity.users, await _alice_id(here.services)
    # Start just after a whole second, so that all of this happens within one second (``iat`` counts
    # whole seconds).
    await asyncio.sleep(1.02 - time.time() % 1)
    second = int(time.time())
    await users.update(alice_id, UserUpdate(is_active=False), actor=SETUP)
    await users.update(alice_id, UserUpdate(is_active=True), actor=SETUP)
    assert int(time.time()) == second, "too slow to test the same second: run again"
    renewed = await elsewhere.oauth.refresh(tokens["refresh_token"], client_id)
    assert renewed.status_code == 200, renewed.text
    new_token = renewed.json()["access_token"]

    refused_new = "a token issued after the reactivation is refused"
    assert await here.accepts(new_token), refused_new
    assert await elsewhere.accepts(new_token), refused_new
    assert not await here.accepts(tokens["access_token"])
    await asyncio.sleep(BOUND)
    assert not await elsewhere.accepts(tokens["access_token"])
    assert await elsewhere.accepts(new_token), refused_new
    assert await here.accepts(new_token), refused_new


async def test_a_reactivated_user_signs_in_again_and_gets_tokens_every_process_accepts(
    here: Process, elsewhere: Process, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await here.oauth.tokens(alice, public_client["client_id"])
    users, alice_id = here.services.identity.users, await _alice_id(here.services)
    await users.update(alice_id, UserUpdate(is_active=False), actor=SETUP)
    await asyncio.sleep(BOUND)
    assert not await elsewhere.accepts(tokens["access_token"])

    await users.update(alice_id, UserUpdate(is_active=True), actor=SETUP)
    await signed_in(alice, "alice@example.com")
    again = await elsewhere.oauth.tokens(alice, public_client["client_id"])
    assert await elsewhere.accepts(again["access_token"])
    assert await here.accepts(again["access_token"])
    # What was revoked stays revoked.
    assert not await here.accepts(tokens["access_token"])
    assert not await elsewhere.accepts(tokens["access_token"])
