"""Every answered tool call is on record: a real ``switchboard serve`` killed (SIGKILL) in the middle of a
load of ``whoami`` calls keeps, for each call whose answer a client received, its run and its audit row.

The run and audit rows of a call are committed (with those of the calls beside it) before its answer is
sent; a writer that wrote behind the answer would lose the last calls here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import seed_demo, seed_demo_recipes, seed_demo_server
from switchboard.platform.mcp.audit import ToolCallRow
from switchboard.platform.mcp.models import ServerUpdate
from switchboard.platform.services import Services
from switchboard.recipes.tables import RecipeRun
from tests.conftest import TEST_SECRET
from tests.platform.conftest import clean_environment
from tests.support.actors import SETUP
from tests.support.postgres import free_port

pytestmark = [pytest.mark.slow, pytest.mark.both_engines]

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
IN_FLIGHT = 10
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}


async def alice_token(db_url: str, base_url: str) -> str:
    """The demo seeded (server ``demo`` without a rate limit) and an access token of Alice's for it."""
    settings = Settings(secret_key=TEST_SECRET, database_url=db_url, base_url=base_url)
    database = Database(db_url)
    services = Services.build(settings, database=database)
    await database.connect()
    try:
        identity = services.identity
        await seed_demo(identity)
        await seed_demo_recipes(services.connectors, services.recipes)
        await seed_demo_server(services.mcp, services.recipes, identity)
        demo = await services.mcp.servers.get_by_slug("demo")
        await services.mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=0), actor=SETUP)
        client = await identity.oauth.clients.create_static(
            StaticClientCreate(name="Load", redirect_uris=["http://127.0.0.1:9/callback"]), actor=SETUP
        )
        alice = await identity.users.find_by_email("alice@example.com")
        assert alice is not None
        now = int(time.time())
        return await identity.oauth.keys.sign(
            {
                "iss": base_url,
                "sub": str(alice.id),
                "aud": f"{base_url}/mcp/demo",
                "client_id": client.client.client_id,
                "scope": "mcp:tools:*",
                "iat": now,
                "exp": now + 600,
                "jti": "crash-load",
                "gid": str(UUID(int=0)),
            }
        )
    finally:
        await services.connectors.aclose()
        await database.close()


async def stored_counts(db_url: str) -> tuple[int, int]:
    database = Database(db_url)
    await database.connect()
    try:
        return await RecipeRun.count(), await ToolCallRow.count()
    finally:
        await database.close()


async def test_every_answered_call_is_on_record_after_the_server_is_killed(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    token = await alice_token(db_url, base_url)
    environment = {k: v for k, v in os.environ.items() if k not in clean_environment()} | {
        "SWITCHBOARD_SECRET_KEY": TEST_SECRET,
        "SWITCHBOARD_DATABASE_URL": db_url,
        "SWITCHBOARD_DATA_DIR": str(tmp_path),
        "SWITCHBOARD_BASE_URL": base_url,
    }
    server = await asyncio.create_subprocess_exec(
        str(SWITCHBOARD),
        *("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    answered = 0
    under_load = asyncio.Event()
    try:
        assert server.stdout is not None
        first = await asyncio.wait_for(server.stdout.readline(), timeout=30)
        assert first.startswith(b"Switchboard is serving")  # the port answers
        headers = HEADERS | {"authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as http:

            async def caller() -> None:
                nonlocal answered
                while True:
                    try:
                        response = await http.post("/mcp/demo", json=CALL, headers=headers)
                    except httpx.TransportError:
                        return  # the server is gone
                    assert response.status_code == 200, response.text
                    result = response.json()["result"]
                    assert not result.get("isError"), result
                    answered += 1
                    if answered == 200:
                        under_load.set()

            callers = [asyncio.create_task(caller()) for _ in range(IN_FLIGHT)]
            await asyncio.wait_for(under_load.wait(), timeout=30)
            server.send_signal(signal.SIGKILL)  # mid-load: calls in flight, rows being written
            await asyncio.wait_for(asyncio.gather(*callers), timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            server.kill()
        await server.wait()

    runs, audit_rows = await stored_counts(db_url)
    assert answered >= 200
    assert runs >= answered, f"{answered} calls answered, {runs} runs stored"
    assert audit_rows >= answered, f"{answered} calls answered, {audit_rows} audit rows stored"
