"""A tool call that fails unexpectedly reaches the server's output (as ``switchboard serve`` sets it up)
once, with its traceback and the request id the caller's error names, and without the caller's token."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.platform.core.logging import LIBRARY_LOGGERS, LOGGER, send_to_stderr
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.services import Services
from switchboard.recipes.masking import without_link_tokens
from tests.support.actors import SETUP

MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    loggers = [logging.getLogger(name) for name in (LOGGER, *LIBRARY_LOGGERS)]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    stream = io.StringIO()
    send_to_stderr(redact=without_link_tokens, stream=stream)
    yield stream
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)


async def test_a_tool_call_that_fails_unexpectedly_reaches_the_output_with_its_traceback(
    running: Litestar,
    app_services: Services,
    client: httpx.AsyncClient,
    demo: McpServer,
    output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mcp = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    secret = (await mcp.tokens.create(server.id, "nightly job", actor=SETUP)).secret

    async def failing(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the tool runner broke")

    monkeypatch.setattr(app_services.endpoint._tools, "call", failing)
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}

    answer = await client.post(
        "/mcp/automation", json=call, headers={**MCP_HEADERS, "authorization": f"Bearer {secret}"}
    )

    error = answer.json()["error"]
    assert error["code"] == -32603
    assert "the tool runner broke" not in answer.text
    request_id = error["message"].removesuffix(".").rsplit(" ", 1)[1]
    text = output.getvalue()
    lines = text.splitlines()
    [line] = [line for line in lines if " ERROR " in line]
    assert line.endswith(
        f" ERROR switchboard.mcp: unhandled error in tools/call on /mcp/automation (request id {request_id})"
    )
    assert lines[lines.index(line) + 1] == "Traceback (most recent call last):"
    assert "RuntimeError: the tool runner broke" in text
    assert secret not in text
