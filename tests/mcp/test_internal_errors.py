"""A fault of ours while answering an MCP request reaches the caller as a generic ``-32603`` naming a
request id, and the log as one record with the traceback and the same id: the fault's own text (which can
name hosts, queries, paths) never reaches the caller. Errors the endpoint means to send pass unchanged."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import mcp_types as types
import pytest
from litestar import Litestar
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate, ToolAttach
from switchboard.platform.services import Services
from tests.support.actors import SETUP

URL = "http://testserver.local/mcp/automation"
DETAIL = "internal detail db.internal:5432"
GENERIC = re.compile(r"Internal error; it has been logged with request id ([0-9a-f]{16})\.")


class Fault(RuntimeError):
    """What a service raises that nothing handles."""


async def failing(*_: Any, **__: Any) -> Any:
    raise Fault(DETAIL)


@asynccontextmanager
async def session_with_token(
    app: Litestar, app_services: Services, demo: McpServer
) -> AsyncIterator[ClientSession]:
    """The official SDK client on a server of the demo's tools that takes API tokens."""
    mcp = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(slug="automation", name="Automation", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    for tool in await mcp.servers.tools(demo.id):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=tool.recipe_id), actor=SETUP)
    secret = (await mcp.tokens.create(server.id, "nightly job", actor=SETUP)).secret
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 51007))
    headers = {"authorization": f"Bearer {secret}"}
    async with (
        httpx2.AsyncClient(transport=transport, headers=headers, timeout=30) as http,
        streamable_http_client(URL, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def assert_logged_once_with(caplog: pytest.LogCaptureFixture, request_id: str) -> None:
    [record] = error_records(caplog)
    assert record.name.startswith("switchboard.")
    assert request_id in record.getMessage()
    assert record.exc_info is not None
    formatted = logging.Formatter("%(message)s").format(record)
    assert "Traceback (most recent call last)" in formatted
    assert f"Fault: {DETAIL}" in formatted


async def test_a_tool_call_that_fails_unexpectedly_answers_a_generic_error_naming_the_logged_request_id(
    running: Litestar,
    app_services: Services,
    demo: McpServer,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_services.endpoint._tools, "call", failing)

    async with session_with_token(running, app_services, demo) as session:
        with pytest.raises(MCPError) as raised:
            await session.call_tool("whoami", {})

    error = raised.value.error
    assert error.code == types.INTERNAL_ERROR
    found = GENERIC.fullmatch(error.message)
    assert found is not None, error.message
    assert DETAIL not in repr(error)
    assert_logged_once_with(log, found.group(1))


async def test_a_tool_list_that_fails_unexpectedly_answers_a_generic_error_naming_the_logged_request_id(
    running: Litestar,
    app_services: Services,
    demo: McpServer,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_services.endpoint._tools, "listed", failing)

    async with session_with_token(running, app_services, demo) as session:
        with pytest.raises(MCPError) as raised:
            await session.list_tools()

    error = raised.value.error
    assert error.code == types.INTERNAL_ERROR
    found = GENERIC.fullmatch(error.message)
    assert found is not None, error.message
    assert DETAIL not in repr(error)
    assert_logged_once_with(log, found.group(1))


async def test_each_unexpected_failure_gets_its_own_request_id(
    running: Litestar,
    app_services: Services,
    demo: McpServer,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_services.endpoint._tools, "call", failing)

    messages = []
    async with session_with_token(running, app_services, demo) as session:
        for _ in range(2):
            with pytest.raises(MCPError) as raised:
                await session.call_tool("whoami", {})
            messages.append(raised.value.error.message)

    ids = [found.group(1) for message in messages if (found := GENERIC.fullmatch(message))]
    assert len(set(ids)) == 2
    records = error_records(log)
    assert [[request_id in record.getMessage() for request_id in ids] for record in records] == [
        [True, False],
        [False, True],
    ]


async def test_an_error_the_endpoint_means_to_send_reaches_the_caller_unchanged_and_is_not_logged(
    running: Litestar, app_services: Services, demo: McpServer, log: pytest.LogCaptureFixture
) -> None:
    async with session_with_token(running, app_services, demo) as session:
        with pytest.raises(MCPError) as raised:
            await session.call_tool("no_such_tool", {})

    assert raised.value.error.code == types.INVALID_PARAMS
    assert raised.value.error.message == "Unknown tool: no_such_tool"
    assert error_records(log) == []


async def test_a_fault_before_the_sdk_answers_is_a_json_rpc_error_naming_the_logged_request_id(
    running: Litestar,
    app_services: Services,
    demo: McpServer,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with session_with_token(running, app_services, demo) as session:
        # The next request meets a fault in the access check, before the SDK has the message.
        monkeypatch.setattr(app_services.endpoint._gate, "caller", failing)
        with pytest.raises(MCPError) as raised:
            await session.call_tool("whoami", {})
        monkeypatch.undo()  # the client ends its session on the way out

    error = raised.value.error
    assert error.code == types.INTERNAL_ERROR
    found = GENERIC.fullmatch(error.message)
    assert found is not None, error.message
    assert DETAIL not in repr(error)
    # The client's other requests met the fault too (its stream of server messages): each has its own id.
    [record] = [r for r in error_records(log) if found.group(1) in r.getMessage()]
    assert record.getMessage().startswith("unhandled error on POST /mcp/automation")
    assert f"Fault: {DETAIL}" in logging.Formatter("%(message)s").format(record)
