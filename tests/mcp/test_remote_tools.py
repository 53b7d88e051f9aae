"""A remote MCP server's tool offered directly on a Switchboard MCP server (no recipe), with the official
MCP SDK client as the client and the SDK's own server as the remote (tests/support/remote_mcp.py): the
tool keeps the remote schema, runs through the chosen connection, is gated by the server's groups and the
tool's scope like a recipe tool, and is audited."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import msgspec
import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.models import RemoteServerInput
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import McpServer, RemoteToolAttach
from switchboard.platform.services import Services
from tests.mcp.test_endpoint import _find, _text, mcp_session, signed_in_client
from tests.support.actors import SETUP
from tests.support.mcp_client import ConsentRefused
from tests.support.remote_mcp import FilesServer
from tests.support.web import Browserless

TOKEN = "proxy-token-41aa"


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    with FilesServer(token=TOKEN, stateful=True) as server:
        yield server.endpoint


async def files_connection(connectors: ConnectorServices, endpoint: str) -> Connection:
    """The remote server Files, and a shared connection to it (its token comes from the server)."""
    data = {"key": "files", "name": "Files", "endpoint": endpoint, "allow_private": True}
    data["auth"] = {"mode": "token", "token": TOKEN}
    await connectors.remote.create(msgspec.convert(data, RemoteServerInput), actor=SETUP)
    project = await connectors.projects.ensure("Operations")
    return await connectors.connections.create(
        ConnectionInput(name="Files (shared)", project_id=project.id, connector="files", mode=Mode.SHARED),
        actor=SETUP,
    )


async def test_a_member_calls_a_remote_tool_offered_directly_and_the_call_is_audited(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer, files_endpoint: str
) -> None:
    mcp: McpServices = app_services.mcp
    connectors: ConnectorServices = app_services.connectors
    connection = await files_connection(connectors, files_endpoint)
    offered = await mcp.tools.attach_remote(
        demo.id,
        RemoteToolAttach(connection_id=connection.id, action="search_files", read_only=True),
        connections=connectors.connections,
        actor=SETUP,
    )
    assert (offered.tool_name, offered.scope, offered.connector) == (
        "search_files",
        "mcp:tools:search_files",
        "files",
    )

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        listed = await session.list_tools()
        found = await session.call_tool("search_files", {"query": "q3"})
        failed = await session.call_tool("search_files", {})

    tools = {tool.name: tool for tool in listed.tools}
    assert sorted(tools) == ["create_task", "list_tasks", "search_files", "whoami"]
    remote = tools["search_files"]
    assert remote.title == "Search files"
    assert remote.description == "Find files whose name contains the query."
    assert remote.input_schema["required"] == ["query"]  # the remote server's own schema
    assert remote.annotations is not None
    assert remote.annotations.read_only_hint is True
    assert not found.is_error, _text(found)
    assert found.structured_content == {
        "query": "q3",
        "files": ["q3-report.txt", "q3-notes.md"],
        "caller": TOKEN,
    }
    assert failed.is_error
    assert "query" in _text(failed)
    calls = await mcp.calls.search(ToolCallFilter(tool="search_files"))
    assert [(call.outcome, call.user_email, call.server_slug) for call in calls] == [
        ("failed", "alice@example.com", "demo"),
        ("succeeded", "alice@example.com", "demo"),
    ]

    # The protected resource metadata offers the remote tool's scope too.
    metadata = await web.client.get("/.well-known/oauth-protected-resource/mcp/demo")
    assert "mcp:tools:search_files" in metadata.json()["scopes_supported"]


async def test_someone_outside_the_groups_cannot_reach_the_remote_tool(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer, files_endpoint: str
) -> None:
    mcp: McpServices = app_services.mcp
    connectors: ConnectorServices = app_services.connectors
    connection = await files_connection(connectors, files_endpoint)
    attach = RemoteToolAttach(connection_id=connection.id, action="search_files")
    await mcp.tools.attach_remote(demo.id, attach, connections=connectors.connections, actor=SETUP)

    async with signed_in_client(running, web, "bob@example.com") as signed:
        with pytest.raises(BaseException) as raised:  # noqa: PT011 (the SDK wraps it: found below)
            async with mcp_session(signed):
                pass
    assert _find(raised.value, ConsentRefused).response.status_code == 403
    assert await mcp.calls.search(ToolCallFilter(tool="search_files")) == []


async def test_only_remote_tools_that_exist_can_be_offered_each_under_one_name(
    running: Litestar, app_services: Services, demo: McpServer, files_endpoint: str
) -> None:
    mcp: McpServices = app_services.mcp
    connectors: ConnectorServices = app_services.connectors
    connection = await files_connection(connectors, files_endpoint)
    project = await connectors.projects.ensure("Operations")
    other = await connectors.connections.create(
        ConnectionInput(
            name="Status API",
            project_id=project.id,
            connector="http",
            mode=Mode.SHARED,
            fields={"base_url": ""},
        ),
        actor=SETUP,
    )

    def attach(**fields: object) -> RemoteToolAttach:
        return msgspec.convert(
            {"connection_id": str(connection.id), "action": "search_files", **fields}, RemoteToolAttach
        )

    with pytest.raises(InvalidInput, match=r"Status API is not a connection to a remote MCP server\."):
        await mcp.tools.attach_remote(
            demo.id, attach(connection_id=str(other.id)), connections=connectors.connections, actor=SETUP
        )
    with pytest.raises(InvalidInput, match=r"Files has no tool 'nothing'\."):
        await mcp.tools.attach_remote(
            demo.id, attach(action="nothing"), connections=connectors.connections, actor=SETUP
        )
    with pytest.raises(Conflict, match=r"This server has a tool called whoami already\."):
        await mcp.tools.attach_remote(
            demo.id, attach(name="whoami"), connections=connectors.connections, actor=SETUP
        )
    with pytest.raises(InvalidInput, match="A tool name uses a-z"):
        await mcp.tools.attach_remote(
            demo.id, attach(name="Search!"), connections=connectors.connections, actor=SETUP
        )
    with pytest.raises(NotFound):
        await mcp.tools.detach_remote(demo.id, uuid4(), actor=SETUP)
    tool = await mcp.tools.attach_remote(
        demo.id, attach(name="find_files"), connections=connectors.connections, actor=SETUP
    )
    await mcp.tools.detach_remote(demo.id, tool.id, actor=SETUP)
    assert await mcp.servers.remote_tools(demo.id) == []
