"""What an MCP client says of itself is recorded per client, person and server, at both protocol revisions:
its protocol version, URL-mode elicitation, name and version; with the person's refresh token and the
client's last error, for "why does my client not show the connect link?"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
from litestar import Litestar
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.offline_access import OfflineAccess
from switchboard.identity.schemas import UserCreate
from switchboard.identity.tables import User
from switchboard.platform.mcp.access import McpCaller
from switchboard.platform.mcp.client_diagnostics import ClientDiagnosis, ClientDiagnostics
from switchboard.platform.mcp.client_sightings import ClientSightings
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services
from tests.mcp.test_endpoint import DEMO_URL, signed_in_client
from tests.mcp.test_initialize import alice_token
from tests.support.actors import SETUP
from tests.support.web import Browserless


def diagnostics_of(app_services: Services) -> ClientDiagnostics:
    return ClientDiagnostics(offline=OfflineAccess(), refusals=app_services.identity.oauth.audit)


async def _decline(context: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="decline")


@asynccontextmanager
async def session_of(
    http: httpx2.AsyncClient, *, url_elicitation: bool, name: str, version: str
) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(DEMO_URL, http_client=http) as (read, write),
        ClientSession(
            read,
            write,
            elicitation_callback=_decline if url_elicitation else None,
            client_info=types.Implementation(name=name, version=version),
        ) as session,
    ):
        yield session


def bearer_client(app: Litestar, token: str) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 51007))
    return httpx2.AsyncClient(transport=transport, headers={"authorization": f"Bearer {token}"}, timeout=30)


async def only_row(app_services: Services, client_id: str) -> ClientDiagnosis:
    [row] = await diagnostics_of(app_services).of_client(client_id)
    return row


async def test_a_client_declaring_url_elicitation_with_a_refresh_token_is_recorded_with_its_last_error(
    running: Litestar, web: Browserless, demo: McpServer, app_services: Services
) -> None:
    async with (
        signed_in_client(running, web, "alice@example.com") as signed,
        session_of(signed.http, url_elicitation=True, name="Claude Desktop", version="1.4.2") as session,
    ):
        await session.initialize()
        with pytest.raises(MCPError):  # Alice has not connected Demo Tasks: the link comes as -32042
            await session.call_tool("create_task", {"title": "Call Bob"})
    assert signed.storage.client_info is not None

    row = await only_row(app_services, signed.storage.client_info.client_id)

    assert (row.server_slug, row.user_email, row.protocol_version) == (
        "demo",
        "alice@example.com",
        "2025-11-25",
    )
    assert (row.url_elicitation, row.client_name, row.client_version) == (True, "Claude Desktop", "1.4.2")
    assert row.refresh_token is True  # it asked for offline_access, as the challenge advertises
    assert row.last_error is not None
    assert row.last_error.text.startswith("create_task: Connection required"), row.last_error.text
    assert datetime.now(UTC) - row.last_seen_at < timedelta(minutes=1)


async def test_a_client_without_url_elicitation_nor_refresh_token_is_recorded_as_such(
    running: Litestar, services: IdentityServices, demo: McpServer, app_services: Services
) -> None:
    token = await alice_token(services)  # as issued without offline_access: no refresh token
    async with (
        bearer_client(running, token) as http,
        session_of(http, url_elicitation=False, name="Plain Client", version="0.1") as session,
    ):
        await session.initialize()
        await session.call_tool("whoami", {})
    [claude] = [c for c in await services.oauth.clients.list_all() if c.name == "Claude"]

    row = await only_row(app_services, claude.client_id)

    assert (row.protocol_version, row.url_elicitation, row.refresh_token) == ("2025-11-25", False, False)
    assert (row.client_name, row.client_version, row.last_error) == ("Plain Client", "0.1", None)


async def test_a_2026_client_is_recorded_from_each_request_s_meta(
    running: Litestar, services: IdentityServices, demo: McpServer, app_services: Services
) -> None:
    token = await alice_token(services)
    async with (
        bearer_client(running, token) as http,
        session_of(http, url_elicitation=True, name="Next Client", version="2.0") as session,
    ):
        await session.discover()
        await session.call_tool("whoami", {})
    [claude] = [c for c in await services.oauth.clients.list_all() if c.name == "Claude"]

    row = await only_row(app_services, claude.client_id)

    assert (row.protocol_version, row.url_elicitation) == ("2026-07-28", True)
    assert (row.client_name, row.client_version) == ("Next Client", "2.0")


def _caller(server: McpServer, **fields: Any) -> McpCaller:
    return McpCaller(server=server, scopes=(), **{"user_id": None, "email": "", "client_id": "c"} | fields)


def _initialize(version: str, *, url: bool, name: str = "Client") -> dict[str, Any]:
    capabilities = {"elicitation": {"form": {}, "url": {}}} if url else {}
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": capabilities, "clientInfo": {"name": name}},
    }


TOOL_CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}


@pytest.mark.both_engines
async def test_calls_write_only_when_the_client_says_something_new_or_a_minute_has_passed(
    db_url: str, app_services: Services
) -> None:
    server = await app_services.mcp.servers.create(
        ServerCreate(slug="nightly", name="Nightly", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    now = [1000.0]
    sightings = ClientSightings(clock=lambda: now[0])
    job = _caller(server, client_id="token:job")  # an API token's caller, recorded under its name
    diagnostics = diagnostics_of(app_services)

    await sightings.seen(job, _initialize("2025-06-18", url=False), "")
    [first] = await diagnostics.of_client("token:job")
    now[0] += 30
    await sightings.seen(job, TOOL_CALL, "2025-06-18")
    await sightings.seen(job, _initialize("2025-06-18", url=False), "")
    [unchanged] = await diagnostics.of_client("token:job")
    now[0] += 31
    await sightings.seen(job, TOOL_CALL, "2025-06-18")
    [a_minute_on] = await diagnostics.of_client("token:job")
    await sightings.seen(job, _initialize("2025-11-25", url=True, name="Upgraded"), "")
    [changed] = await diagnostics.of_client("token:job")

    assert (first.protocol_version, first.url_elicitation, first.client_name) == (
        "2025-06-18",
        False,
        "Client",
    )
    assert (first.user_email, first.refresh_token) == ("", None)
    assert unchanged.last_seen_at == first.last_seen_at
    assert a_minute_on.last_seen_at > first.last_seen_at
    assert (a_minute_on.protocol_version, a_minute_on.client_name) == ("2025-06-18", "Client")
    assert (changed.protocol_version, changed.url_elicitation, changed.client_name) == (
        "2025-11-25",
        True,
        "Upgraded",
    )


@pytest.mark.both_engines
async def test_a_person_has_one_record_per_server_and_client_which_goes_with_their_account(
    db_url: str, app_services: Services
) -> None:
    server = await app_services.mcp.servers.create(ServerCreate(slug="desk", name="Desk"), actor=SETUP)
    identity = app_services.identity
    carol = await identity.users.create(
        UserCreate(email="carol@example.com", password="a long enough password"), actor=SETUP
    )
    now = [1000.0]
    sightings = ClientSightings(clock=lambda: now[0])
    caller = _caller(server, user_id=carol.id, email=carol.email)
    diagnostics = diagnostics_of(app_services)

    await sightings.seen(caller, _initialize("2025-06-18", url=False), "")
    now[0] += 61
    await sightings.seen(caller, TOOL_CALL, "2025-06-18")
    await sightings.seen(caller, _initialize("2025-11-25", url=True, name="Upgraded"), "")
    [kept] = await diagnostics.of_person(carol.id)
    await User.delete().where(User.id == carol.id)

    assert (kept.user_email, kept.protocol_version, kept.client_name) == (
        carol.email,
        "2025-11-25",
        "Upgraded",
    )
    assert (kept.service_account, kept.refresh_token) == (False, False)
    assert await diagnostics.of_person(carol.id) == []
    assert await diagnostics.of_client("c") == []


async def test_a_service_account_needs_no_refresh_token_and_its_records_go_with_its_client(
    running: Litestar,
    client: httpx.AsyncClient,
    services: IdentityServices,
    demo: McpServer,
    app_services: Services,
) -> None:
    created = await services.oauth.clients.create_static(
        StaticClientCreate(name="Nightly report", grant_types=["client_credentials"]), actor=SETUP
    )
    account = created.client.service_account_email
    assert account is not None
    await services.groups.add_member((await services.groups.get_by_name("Sales")).id, account, actor=SETUP)
    grant = {
        "grant_type": "client_credentials",
        "client_id": created.client.client_id,
        "client_secret": created.client_secret,
        "resource": DEMO_URL,
        "scope": "mcp:tools:*",
    }
    issued = await client.post("/oauth/token", data=grant)
    assert issued.status_code == 200, issued.text
    async with (
        bearer_client(running, issued.json()["access_token"]) as http,
        session_of(http, url_elicitation=False, name="Nightly", version="3") as session,
    ):
        await session.initialize()
        await session.call_tool("whoami", {})

    row = await only_row(app_services, created.client.client_id)
    await services.oauth.clients.delete(created.client.client_id, actor=SETUP)

    assert (row.user_email, row.client_name, row.service_account, row.refresh_token) == (
        account,
        "Nightly",
        True,
        None,
    )
    assert await diagnostics_of(app_services).of_client(created.client.client_id) == []
