"""A tool call's run and its audit row are committed together, before the answer leaves: one commit per
call when it is alone, shared commits when calls run side by side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.platform.mcp.audit import ToolCallRow
from switchboard.platform.mcp.models import McpServer
from switchboard.platform.services import Services
from switchboard.recipes.tables import RecipeRun
from tests.support.actors import SETUP

BASE = "http://testserver.local"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture
async def http(
    running: Litestar, app_services: Services, demo: McpServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the demo server with a token of Alice's, the app's group commit running."""
    identity = app_services.identity
    client = await identity.oauth.clients.create_static(
        StaticClientCreate(name="Caller", redirect_uris=["http://127.0.0.1:9/callback"]), actor=SETUP
    )
    alice = await identity.users.find_by_email("alice@example.com")
    assert alice is not None
    now = int(time.time())
    token = await identity.oauth.keys.sign(
        {
            "iss": BASE,
            "sub": str(alice.id),
            "aud": f"{BASE}/mcp/demo",
            "client_id": client.client.client_id,
            "scope": "mcp:tools:*",
            "iat": now,
            "exp": now + 600,
            "jti": "commits",
            "gid": str(uuid4()),
        }
    )
    await app_services.writer.start()
    headers = MCP_HEADERS | {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=running), base_url=BASE, headers=headers
    ) as http:
        yield http
    await app_services.writer.stop()


async def test_a_lone_calls_run_and_audit_row_are_stored_in_one_commit_before_it_is_answered(
    http: httpx.AsyncClient, app_services: Services
) -> None:
    before = app_services.writer.commits

    answer = await http.post("/mcp/demo", json=CALL)

    assert answer.status_code == 200
    assert "alice@example.com" in answer.json()["result"]["content"][0]["text"]
    assert app_services.writer.commits == before + 1
    audit = await ToolCallRow.select().first()
    assert audit is not None
    assert audit["tool"] == "whoami"
    assert audit["user_email"] == "alice@example.com"
    run = await RecipeRun.select().where(RecipeRun.id == UUID(str(audit["run_id"]))).first()
    assert run is not None
    assert run["kind"] == "tool"


async def test_calls_side_by_side_share_commits_and_each_is_on_record(
    http: httpx.AsyncClient, app_services: Services
) -> None:
    before = app_services.writer.commits

    answers = await asyncio.gather(*(http.post("/mcp/demo", json=CALL) for _ in range(10)))

    assert [answer.status_code for answer in answers] == [200] * 10
    assert await RecipeRun.count() == 10
    assert await ToolCallRow.count() == 10
    assert app_services.writer.commits - before < 10
