"""A server's rate limit counts every request a caller sends it (``initialize``, ``ping``, ``tools/list``,
``tools/call``…), per person and client, in the database; past it, the refusal names the limit and when
to retry. An admin may give one client a limit of its own on a server.

The callers are the official MCP SDK client (with a token as the authorization server issues it) and
plain HTTP, as an MCP client sends it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from litestar import Litestar
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ServerUpdate, ToolAttach
from switchboard.platform.services import Services
from tests.identity.support import ADMINS_ONLY, answer, make_user, signed_in
from tests.mcp.test_refusal_records import (
    BASE,
    DEMO_URL,
    HEADERS,
    PING,
    access_token,
    bearer,
    registered_client,
    tool_call,
)
from tests.support.actors import SETUP
from tests.support.web import Browserless

RATE_LIMITED = -32019
RETRY = re.compile(
    r"Rate limit of (\d+) requests per minute for this server reached; retry in (\d+) seconds\."
)


@asynccontextmanager
async def sdk_session(app: Litestar, token: str, url: str = DEMO_URL) -> AsyncIterator[ClientSession]:
    """The official SDK client, initialized, sending ``token``."""
    transport = httpx2.ASGITransport(app=app, client=("203.0.113.9", 40300))
    async with (
        httpx2.AsyncClient(transport=transport, headers=bearer(token), timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def retry_in(error: MCPError, limit: int) -> int:
    """The seconds a rate-limit error tells to wait, after checking what else it says."""
    assert error.code == RATE_LIMITED
    found = RETRY.fullmatch(error.message)
    assert found is not None, error.message
    assert int(found.group(1)) == limit
    seconds = int(found.group(2))
    assert 1 <= seconds <= 60
    assert error.data == {"limit": limit, "window_seconds": 60, "retry_after": seconds}
    return seconds


@pytest.fixture
async def alice_through_claude(services: IdentityServices, demo: McpServer) -> tuple[str, str]:
    client_id = await registered_client(services, "Claude")
    return client_id, await access_token(services, "alice@example.com", client_id)


async def test_the_call_past_the_limit_is_refused_naming_the_limit_and_when_to_retry(
    running: Litestar,
    app_services: Services,
    demo: McpServer,
    alice_through_claude: tuple[str, str],
) -> None:
    await app_services.mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=3), actor=SETUP)
    _, token = alice_through_claude
    async with sdk_session(running, token) as session:  # initialize: 1
        listed = await session.list_tools()  # 2
        whoami = await session.call_tool("whoami", {})  # 3
        with pytest.raises(MCPError) as refused:
            await session.call_tool("whoami", {})
        with pytest.raises(MCPError) as listing_refused:
            await session.list_tools()

    assert [tool.name for tool in listed.tools] == ["create_task", "list_tasks", "whoami"]
    assert not whoami.is_error
    retry_in(refused.value, 3)
    retry_in(listing_refused.value, 3)
    # The refused call is in the tool-call log, the tool never ran.
    calls = await app_services.mcp.calls.search(ToolCallFilter(server="demo"))
    assert [(call.tool, call.outcome, call.run_id is None) for call in calls] == [
        ("whoami", "rate_limited", True),
        ("whoami", "succeeded", False),
    ]
    assert RETRY.fullmatch(calls[0].message)


async def test_over_http_the_refusal_is_429_with_retry_after_and_the_json_rpc_error(
    running: Litestar, app_services: Services, demo: McpServer, alice_through_claude: tuple[str, str]
) -> None:
    await app_services.mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=2), actor=SETUP)
    _, token = alice_through_claude
    transport = httpx.ASGITransport(app=running, client=("203.0.113.9", 40301))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        # Notifications ask for no answer and are not counted.
        notified = [await http.post("/mcp/demo", json=initialized, headers=bearer(token)) for _ in range(3)]
        allowed = [
            await http.post("/mcp/demo", json=message, headers=bearer(token))
            for message in (PING, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        ]
        limited = await http.post("/mcp/demo", json=tool_call("whoami", id=7), headers=bearer(token))
        still_notified = await http.post("/mcp/demo", json=initialized, headers=bearer(token))

    assert [response.status_code for response in notified] == [202, 202, 202]
    assert [response.status_code for response in allowed] == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["cache-control"] == "no-store"
    body = limited.json()
    seconds = int(limited.headers["retry-after"])
    assert body == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {
            "code": RATE_LIMITED,
            "message": (
                f"Rate limit of 2 requests per minute for this server reached; retry in {seconds} seconds."
            ),
            "data": {"limit": 2, "window_seconds": 60, "retry_after": seconds},
        },
    }
    assert still_notified.status_code == 202


async def test_a_client_given_its_own_limit_gets_it_and_other_clients_keep_the_server_s(
    running: Litestar,
    app_services: Services,
    services: IdentityServices,
    demo: McpServer,
    alice_through_claude: tuple[str, str],
) -> None:
    mcp = app_services.mcp
    claude, claude_token = alice_through_claude
    cursor = await registered_client(services, "Cursor")
    cursor_token = await access_token(services, "alice@example.com", cursor)
    await mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=2), actor=SETUP)
    await mcp.limits.set_for_client(demo.id, claude, 4, actor=SETUP)

    async with sdk_session(running, claude_token) as session:  # initialize: 1
        for _ in range(3):
            await session.list_tools()
        with pytest.raises(MCPError) as claude_refused:
            await session.list_tools()
    async with sdk_session(running, cursor_token) as session:
        await session.list_tools()
        with pytest.raises(MCPError) as cursor_refused:
            await session.list_tools()

    retry_in(claude_refused.value, 4)
    retry_in(cursor_refused.value, 2)


async def test_without_a_limit_nothing_is_refused_and_a_client_may_be_limited_alone(
    running: Litestar,
    app_services: Services,
    services: IdentityServices,
    demo: McpServer,
    alice_through_claude: tuple[str, str],
) -> None:
    mcp = app_services.mcp
    claude, claude_token = alice_through_claude
    await mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=0), actor=SETUP)
    await mcp.limits.set_for_client(demo.id, claude, 1, actor=SETUP)
    cursor_token = await access_token(
        services, "alice@example.com", await registered_client(services, "Cursor")
    )

    async with sdk_session(running, cursor_token) as session:
        for _ in range(5):
            await session.send_ping()
    async with sdk_session(running, claude_token) as session:
        with pytest.raises(MCPError) as refused:
            await session.send_ping()
    retry_in(refused.value, 1)


@pytest.mark.both_engines
async def test_two_processes_on_one_database_share_one_count(
    running: Litestar,
    app_services: Services,
    settings: Settings,
    database: Database,
    demo: McpServer,
) -> None:
    mcp = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(
            slug="automation", name="Automation", access_method=AccessMethod.TOKEN, rate_limit_per_minute=3
        ),
        actor=SETUP,
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    secret = (await mcp.tokens.create(server.id, "nightly job", actor=SETUP)).secret
    other_services = Services.build(settings, database=database)
    other_app = create_app(settings, services=other_services)

    try:
        async with other_services.endpoint.running():
            answers = []
            for n, app in enumerate((running, other_app, running, other_app)):
                transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40400 + n))
                async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
                    message = tool_call("whoami", id=n) if n % 2 else PING | {"id": n}
                    answers.append(await http.post("/mcp/automation", json=message, headers=bearer(secret)))
    finally:
        await other_services.connectors.aclose()

    assert [response.status_code for response in answers] == [200, 200, 200, 429], answers[-1].text
    assert answers[3].json()["error"]["data"]["limit"] == 3


# --- who may give a client its own limit --------------------------------------------------------------


async def test_an_admin_gives_a_client_its_own_limit_over_the_api_and_takes_it_away(
    services: IdentityServices, web: Browserless, app_services: Services, demo: McpServer
) -> None:
    claude = await registered_client(services, "Claude")
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")
    path = f"/api/v1/servers/{demo.id}/client-rate-limits"

    set_limit = await client.post(path, json={"client_id": claude, "rate_limit_per_minute": 600})
    changed = await client.post(path, json={"client_id": claude, "rate_limit_per_minute": 300})
    read = await client.get(f"/api/v1/servers/{demo.id}")
    bad = await client.post(path, json={"client_id": claude, "rate_limit_per_minute": -1})
    empty = await client.post(path, json={"client_id": " ", "rate_limit_per_minute": 5})

    assert set_limit.status_code == 200, set_limit.text
    assert set_limit.json()["client_rate_limits"] == [{"client_id": claude, "rate_limit_per_minute": 600}]
    assert changed.json()["client_rate_limits"] == [{"client_id": claude, "rate_limit_per_minute": 300}]
    assert read.json()["client_rate_limits"] == [{"client_id": claude, "rate_limit_per_minute": 300}]
    assert (bad.status_code, bad.json()["field"]) == (422, "rate_limit_per_minute")
    assert (empty.status_code, empty.json()["field"]) == (422, "client_id")

    removed = await client.delete(path, params={"client_id": claude})
    assert removed.status_code == 200, removed.text
    assert removed.json()["client_rate_limits"] == []
    assert (await app_services.mcp.servers.get(demo.id)).client_rate_limits == ()


@pytest.mark.parametrize("role", [Role.BUILDER, Role.MEMBER])
async def test_builders_and_members_cannot_give_a_client_its_own_limit(
    services: IdentityServices, web: Browserless, app_services: Services, demo: McpServer, role: Role
) -> None:
    claude = await registered_client(services, "Claude")
    await app_services.mcp.limits.set_for_client(demo.id, claude, 5, actor=SETUP)
    await make_user(services, "someone@example.com", role)
    client = await signed_in(web, "someone@example.com")
    path = f"/api/v1/servers/{demo.id}/client-rate-limits"

    set_limit = await client.post(path, json={"client_id": claude, "rate_limit_per_minute": 100_000})
    removed = await client.delete(path, params={"client_id": claude})

    for response in (set_limit, removed):
        assert response.status_code == 403, response.text
        if role is Role.BUILDER:
            assert answer(response) == (403, ADMINS_ONLY)
    limits = (await app_services.mcp.servers.get(demo.id)).client_rate_limits
    assert [(limit.client_id, limit.rate_limit_per_minute) for limit in limits] == [(claude, 5)]
