"""What the MCP call benchmark runs against: the MCP SDK's bare low-level server, and Switchboard seeded
with the demo (users, the ``whoami`` recipe, server ``demo``), a server ``big`` with 500 tools and
access tokens of Alice's, each server in its own process under uvicorn on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-with-at-least-32-characters"

# The baseline: stateless streamable HTTP with JSON answers, as Switchboard serves MCP, and a trivial tool.
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL cluster started as the tests start theirs: its URL and its postmaster's process id."""
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield cluster.url(), postmaster
    finally:
        cluster.stop()


@contextmanager
def running_servers(database_url: str, base_url: str, folder: str) -> Iterator[tuple[str, int, int]]:
    """The bare server and Switchboard (at ``base_url``), started and ready: the bare server's URL and
    each one's process id."""
    bare_port, switchboard_port = free_port(), int(base_url.rsplit(":", 1)[1])
    env = {
        **os.environ,
        "SWITCHBOARD_SECRET_KEY": SECRET,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_BASE_URL": base_url,
        "SWITCHBOARD_DATA_DIR": folder,
    }
    switchboard_command = [str(Path(sys.executable).parent / "switchboard"), "serve"]
    # The servers' logs (housekeeping, the disconnects of a load client stopping mid-call) go to files.
    bare_log, switchboard_log = Path(folder) / "bare.log", Path(folder) / "switchboard.log"
    with bare_log.open("w") as bare_out, switchboard_log.open("w") as switchboard_out:
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_SERVER, str(bare_port)], stdout=bare_out, stderr=subprocess.STDOUT
        )
        switchboard = subprocess.Popen(
            [*switchboard_command, "--port", str(switchboard_port)],
            env=env,
            stdout=switchboard_out,
            stderr=subprocess.STDOUT,
        )
    try:
        bare_url = f"http://127.0.0.1:{bare_port}/"
        _wait_ready(bare_url, bare_log)
        _wait_ready(f"{base_url}/mcp/demo", switchboard_log)
        yield bare_url, bare.pid, switchboard.pid
    finally:
        for process in (bare, switchboard):
            process.terminate()
            process.wait(timeout=10)


def _wait_ready(url: str, log: Path) -> None:
    """Wait until ``url`` answers a ping (any answer: a 401 also says the server is up)."""
    ping = {"jsonrpc": "2.0", "id": 0, "method": "ping"}
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}
    for _ in range(400):
        try:
            httpx.post(url, json=ping, headers=headers, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not start:\n{log.read_text()[-3000:]}")


def seed(database_url: str, base_url: str) -> tuple[str, str]:
    """Seed the database; Alice's access tokens for servers ``demo`` and ``big``."""
    return asyncio.run(_seed(database_url, base_url))


async def _seed(database_url: str, base_url: str) -> tuple[str, str]:
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
                        "exp": now + 3 * 3600,
                        "jti": f"bench-{slug}",
                        "gid": str(UUID(int=0)),
                    }
                )
            )
        return tokens[0], tokens[1]
    finally:
        await connectors.aclose()
        await database.close()
