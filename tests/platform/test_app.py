"""The app as a server runs it: its start-up connects the database of the services it serves and starts
housekeeping and the MCP endpoint; its shut-down stops them."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from piccolo.apps.migrations.tables import Migration

from switchboard.identity.tables import User
from switchboard.platform.app import create_app
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import services_of


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
        tools = await client.post(
            "/mcp/nope",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream"},
        )

    assert ready.status_code == 200, ready.text
    assert tools.status_code == 404  # answered by the endpoint the lifespan started
    assert tools.json()["error_description"] == "There is no MCP server nope."
    assert not services.housekeeper.running
    assert not services.database.connected
