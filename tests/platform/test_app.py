"""The app as a server runs it: its start-up connects the database of the services it serves and starts
housekeeping and the MCP endpoint; its shut-down stops them."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from piccolo.apps.migrations.tables import Migration

from switchboard.identity.tables import User
from switchboard.platform.app import create_app
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.models import AccessMethod, ServerCreate
from switchboard.platform.services import services_of
from tests.support.actors import SETUP

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


async def test_the_start_up_connects_the_database_and_starts_housekeeping_and_the_shut_down_stops_them(
    settings: Settings,
) -> None:
    app = create_app(settings)
    services = services_of(app.state)
    assert not services.database.connected

    async with AsyncTestClient(app, base_url=settings.base_url) as client:  # the ASGI lifespan, as served
        assert services.database.connected
        assert User._meta.db is services.database.engine
        assert Migration._meta.db is services.database.engine
        assert services.housekeeper.running
        ready = await client.get("/readyz")
        mcp = services.mcp
        server = await mcp.servers.create(
            ServerCreate(slug="ping", name="Ping", access_method=AccessMethod.TOKEN), actor=SETUP
        )
        token = await mcp.tokens.create(server.id, "lifespan test", actor=SETUP)
        # Answered by the MCP SDK, whose task group only the lifespan starts.
        initialized = await client.post(
            "/mcp/ping", json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {token.secret}"}
        )

    assert ready.status_code == 200, ready.text
    assert initialized.status_code == 200, initialized.text
    assert initialized.json()["result"]["serverInfo"]["name"]
    assert not services.housekeeper.running
    assert not services.database.connected
