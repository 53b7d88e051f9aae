"""Tool calls through Switchboard against the MCP SDK's own low-level server, same load client, same run.

Switchboard answers ``tools/call whoami`` on the demo server: token check, group check, the recipe engine
(with its run record), the audit record and the rate-limit count. The baseline is the SDK's low-level
``Server`` (stateless streamable HTTP, JSON answers, as Switchboard serves it) answering a trivial tool.
Both run under uvicorn in their own process on loopback; one load client keeps the same number of calls
in flight against each, in turn, and the figures are the calls per second and the median latency.

Then ``tools/list`` on a server with 500 tools (median of sequential requests).

    .venv/bin/python bench/mcp_calls.py [--seconds 5] [--concurrency 4] [--database-url postgresql://…]

Targets: at least 0.7 of the bare server's rate, under 3 ms added median latency, and ``tools/list`` of
500 tools under 50 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

TARGET_RATIO = 0.7
TARGET_ADDED_MS = 3.0
TARGET_LIST_MS = 50.0
SECRET = "bench-secret-key-with-at-least-32-characters"
MCP_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}

BARE_SERVER = textwrap.dedent(
    """
    import sys

    import mcp_types as types
    import uvicorn
    from contextlib import asynccontextmanager
    from mcp.server.lowlevel import Server
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings


    async def list_tools(ctx, params):
        return types.ListToolsResult(tools=[types.Tool(name="whoami", input_schema={"type": "object"})])


    async def call_tool(ctx, params):
        return types.CallToolResult(content=[types.TextContent(text="ok")])


    server = Server("bare", on_list_tools=list_tools, on_call_tool=call_tool)
    manager = StreamableHTTPSessionManager(
        app=server,
        json_response=True,
        stateless=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            message = await receive()
            async with manager.run():
                await send({"type": "lifespan.startup.complete"})
                await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await manager.handle_request(scope, receive, send)


    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_ready(url: str, headers: dict[str, str] | None = None) -> None:
    """Wait until ``url`` answers a ping (any answer: a 401 also says the server is up)."""
    ping = {"jsonrpc": "2.0", "id": 0, "method": "ping"}
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(200):
            try:
                await client.post(url, json=ping, headers={**MCP_HEADERS, **(headers or {})})
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


async def _load(
    url: str, body: dict[str, Any], headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, float]:
    """Calls per second and median latency (ms) with ``concurrency`` calls in flight for ``seconds``."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        # Warm up (connections, caches) before measuring.
        for _ in range(20):
            response = await client.post(url, json=body, headers=headers)
            response.raise_for_status()
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.post(url, json=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or '"isError":true' in response.text:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


async def _seed(database_url: str, base_url: str) -> tuple[str, str]:
    """The demo (users, the whoami recipe, server ``demo``), a server ``big`` with 500 tools, and an access
    token of Alice's for each, from a client registered like any other."""
    from switchboard.connectors.deps import ConnectorServices
    from switchboard.identity.deps import IdentityServices
    from switchboard.identity.oauth.models import StaticClientCreate
    from switchboard.identity.principal import SystemActor
    from switchboard.platform.core.database import Database
    from switchboard.platform.core.migrations import migrate
    from switchboard.platform.core.settings import Settings
    from switchboard.platform.demo import DEMO_PROJECT, seed_demo, seed_demo_recipes, seed_demo_server
    from switchboard.platform.mcp.deps import McpServices
    from switchboard.platform.mcp.models import ServerCreate, ServerUpdate, ToolAttach
    from switchboard.recipes.deps import RecipeServices
    from switchboard.recipes.model import RecipeDefinition, ResultStep, ToolTrigger
    from switchboard.recipes.schemas import RecipeCreate

    set_up = SystemActor("bench set-up")
    settings = Settings(secret_key=SECRET, database_url=database_url, base_url=base_url)
    database = Database(database_url)
    await migrate(database)
    await database.connect()
    identity = IdentityServices.from_settings(settings)
    connectors = ConnectorServices.from_settings(
        settings, audit=identity.oauth.audit, sign=identity.oauth.keys.sign_assertion, users=identity.users
    )
    try:
        recipes = RecipeServices.from_settings(settings, connectors=connectors, users=identity.users)
        mcp = McpServices.create()
        await seed_demo(identity)
        await seed_demo_recipes(connectors, recipes)
        await seed_demo_server(mcp, recipes, identity)
        demo = await mcp.servers.get_by_slug("demo")
        big = await mcp.servers.create(
            ServerCreate(slug="big", name="Big", rate_limit_per_minute=0), actor=set_up
        )
        await mcp.groups.add(big.id, [group.id for group in demo.groups], actor=set_up)
        project = await connectors.projects.ensure(DEMO_PROJECT)
        for n in range(500):
            definition = RecipeDefinition(
                trigger=ToolTrigger(name=f"tool_{n:03}", title=f"Tool {n}", description="Answers ok."),
                steps=(ResultStep(id="result", text="ok"),),
            )
            created = await recipes.recipes.create(
                RecipeCreate(project_id=project.id, name=f"tool_{n:03}"), actor=set_up
            )
            await recipes.recipes.save_draft(created.id, definition, actor=set_up)
            await recipes.recipes.publish(created.id, actor=set_up)
            await mcp.tools.attach(big.id, ToolAttach(recipe_id=created.id), actor=set_up)
        # The demo server's limit far above the load: the count is kept (and costs) as in production.
        await mcp.servers.update(demo.id, ServerUpdate(rate_limit_per_minute=100_000), actor=set_up)
        client = await identity.oauth.clients.create_static(
            StaticClientCreate(name="Bench", redirect_uris=["http://127.0.0.1:9/callback"]), actor=set_up
        )
        alice = await identity.users.find_by_email("alice@example.com")
        assert alice is not None
        tokens = []
        for slug in ("demo", "big"):
            now = int(time.time())
            tokens.append(
                await identity.oauth.keys.sign(
                    {
                        "iss": base_url,
                        "sub": str(alice.id),
                        "aud": f"{base_url}/mcp/{slug}",
                        "client_id": client.client.client_id,
                        "scope": "mcp:tools:*",
                        "iat": now,
                        "exp": now + 3600,
                        "jti": f"bench-{slug}",
                        "gid": str(UUID(int=0)),
                    }
                )
            )
        return tokens[0], tokens[1]
    finally:
        await connectors.aclose()
        await database.close()


def main(seconds: float, concurrency: int, database_url: str | None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        bare_port, switchboard_port = _free_port(), _free_port()
        base_url = f"http://127.0.0.1:{switchboard_port}"
        database_url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        demo_token, big_token = asyncio.run(_seed(database_url, base_url))
        env = {
            **os.environ,
            "SWITCHBOARD_SECRET_KEY": SECRET,
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_BASE_URL": base_url,
            "SWITCHBOARD_DATA_DIR": folder,
        }
        switchboard_command = [str(Path(sys.executable).parent / "switchboard"), "serve"]
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(bare_port)])
        switchboard = subprocess.Popen(
            [*switchboard_command, "--port", str(switchboard_port)], env=env, stdout=subprocess.DEVNULL
        )
        try:
            figures = asyncio.run(
                _measure(
                    f"http://127.0.0.1:{bare_port}", base_url, demo_token, big_token, seconds, concurrency
                )
            )
        finally:
            for process in (bare, switchboard):
                process.terminate()
                process.wait(timeout=10)
    (bare_rate, bare_ms), (ours_rate, ours_ms), listing = figures
    ratio = ours_rate / bare_rate
    added = ours_ms - bare_ms
    print(f"bare SDK server, trivial tool: {bare_rate:.0f} calls/s, median {bare_ms:.2f} ms")
    print(f"Switchboard whoami:            {ours_rate:.0f} calls/s, median {ours_ms:.2f} ms")
    print(
        f"rate ratio: {ratio:.2f} (target at least {TARGET_RATIO}); "
        f"added median latency: {added:.2f} ms (target under {TARGET_ADDED_MS} ms)"
    )
    print(f"tools/list of 500 tools: median {listing:.1f} ms (target under {TARGET_LIST_MS} ms)")
    met = ratio >= TARGET_RATIO and added < TARGET_ADDED_MS and listing < TARGET_LIST_MS
    print("targets met" if met else "TARGETS NOT MET")
    return 0 if met else 1


async def _measure(
    bare_url: str, base_url: str, demo_token: str, big_token: str, seconds: float, concurrency: int
) -> tuple[tuple[float, float], tuple[float, float], float]:
    await _wait_ready(f"{bare_url}/")
    await _wait_ready(f"{base_url}/mcp/demo")
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    bare = await _load(f"{bare_url}/", call, MCP_HEADERS, seconds, concurrency)
    headers = {**MCP_HEADERS, "authorization": f"Bearer {demo_token}"}
    ours = await _load(f"{base_url}/mcp/demo", call, headers, seconds, concurrency)
    listing = await _list_times(f"{base_url}/mcp/big", big_token)
    return bare, ours, listing


async def _list_times(url: str, token: str, rounds: int = 30) -> float:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {**MCP_HEADERS, "authorization": f"Bearer {token}"}
    times = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(rounds + 3):
            started = time.perf_counter()
            response = await client.post(url, json=body, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or len(response.json()["result"]["tools"]) != 500:
                raise RuntimeError(f"tools/list answered {response.status_code}: {response.text[:300]}")
    return statistics.median(times[3:])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database to use instead of a new SQLite file"
    )
    args = parser.parse_args()
    sys.exit(main(args.seconds, args.concurrency, args.database_url))
