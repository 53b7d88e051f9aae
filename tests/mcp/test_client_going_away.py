"""A client that goes away before its request's body has arrived: nothing to answer, and no server fault
in the log (a client hanging up is not an error of Switchboard's)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Litestar

from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.services import Services
from tests.support.actors import SETUP

PARTIAL = b'{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "wh'


@pytest.fixture
async def token(running: Litestar, app_services: Services, demo: McpServer) -> str:
    mcp: McpServices = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    return (await mcp.tokens.create(server.id, "nightly job", actor=SETUP)).secret


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
async def test_a_client_hanging_up_mid_body_is_no_server_error(
    running: Litestar, token: str, revision: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [
        (b"host", b"testserver.local"),
        (b"accept", b"application/json, text/event-stream"),
        (b"content-type", b"application/json"),
        (b"mcp-protocol-version", revision.encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp/automation",
        "raw_path": b"/mcp/automation",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50123),
        "server": ("testserver.local", 80),
    }
    arriving = [
        {"type": "http.request", "body": PARTIAL, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO):
        await running(scope, receive, send)  # type: ignore[arg-type]

    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    # Nobody is left to read an answer; whatever was sent is no 5xx.
    statuses = [message["status"] for message in sent if message["type"] == "http.response.start"]
    assert all(status < 500 for status in statuses), statuses
