"""What an MCP client learns of a server when it connects: the server's instructions for the model, and
Switchboard's name and version, at both protocol revisions the SDK speaks (the ``initialize`` handshake
of 2025-11-25, ``server/discover`` of 2026-07-28)."""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import httpx2
import mcp_types as types
from litestar import Litestar
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from switchboard.identity.deps import IdentityServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.mcp_client import REDIRECT_URI

BASE = "http://testserver.local"
DEMO_URL = f"{BASE}/mcp/demo"
DEMO_INSTRUCTIONS = "Use whoami to learn who the user is; list_tasks and create_task for their tasks."
VERSION = importlib.metadata.version("switchboard")


async def alice_token(services: IdentityServices) -> str:
    """A token of Alice's for the demo server, as the authorization server issues it."""
    client, _, _ = await services.oauth.clients.register(
        {"client_name": "Claude", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    )
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    now = int(time.time())
    return await services.oauth.keys.sign(
        {
            "iss": BASE,
            "sub": str(alice.id),
            "aud": DEMO_URL,
            "client_id": client.client_id,
            "scope": "mcp:tools:*",
            "iat": now - 10,
            "exp": now + 600,
            "jti": str(uuid4()),
            "gid": str(uuid4()),
        }
    )


@asynccontextmanager
async def connected(app: Litestar, url: str, token: str) -> AsyncIterator[ClientSession]:
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 51005))
    headers = {"authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(transport=transport, headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        yield session


async def test_initialize_carries_the_server_s_instructions_and_switchboard_s_version(
    running: Litestar, services: IdentityServices, demo: McpServer
) -> None:
    async with connected(running, DEMO_URL, await alice_token(services)) as session:
        result = await session.initialize()

    assert result.protocol_version == "2025-11-25"
    assert result.instructions == DEMO_INSTRUCTIONS
    assert result.server_info.name == "switchboard"
    assert result.server_info.version == VERSION


async def test_discover_carries_the_server_s_instructions_and_switchboard_s_version(
    running: Litestar, services: IdentityServices, demo: McpServer
) -> None:
    async with connected(running, DEMO_URL, await alice_token(services)) as session:
        result = await session.discover()
        server_info = session.server_info

    assert isinstance(result, types.DiscoverResult)
    assert result.instructions == DEMO_INSTRUCTIONS
    assert server_info is not None
    assert server_info.version == VERSION


async def test_each_server_sends_its_own_instructions_and_none_when_it_has_none(
    running: Litestar, app_services: Services, services: IdentityServices, demo: McpServer
) -> None:
    mcp = app_services.mcp
    nightly = await mcp.servers.create(
        ServerCreate(
            slug="nightly",
            name="Nightly",
            access_method=AccessMethod.TOKEN,
            instructions="Run the nightly report once a day.",
        ),
        actor=SETUP,
    )
    quiet = await mcp.servers.create(
        ServerCreate(slug="quiet", name="Quiet", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    nightly_token = (await mcp.tokens.create(nightly.id, "job", actor=SETUP)).secret
    quiet_token = (await mcp.tokens.create(quiet.id, "job", actor=SETUP)).secret

    async with connected(running, f"{BASE}/mcp/nightly", nightly_token) as session:
        nightly_initialized = await session.initialize()
    async with connected(running, f"{BASE}/mcp/quiet", quiet_token) as session:
        quiet_initialized = await session.initialize()
    async with connected(running, f"{BASE}/mcp/nightly", nightly_token) as session:
        nightly_discovered = await session.discover()
    async with connected(running, DEMO_URL, await alice_token(services)) as session:
        demo_initialized = await session.initialize()

    assert nightly_initialized.instructions == "Run the nightly report once a day."
    assert nightly_discovered.instructions == "Run the nightly report once a day."
    assert quiet_initialized.instructions is None
    assert demo_initialized.instructions == DEMO_INSTRUCTIONS
