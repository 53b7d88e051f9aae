"""A remote MCP server protected by a third-party authorization server, used through a Switchboard MCP
server both ways: in a recipe step and as a tool offered directly, each with the calling person's own
grant. The remote is the MCP SDK's server taking JWTs from oidc-provider; the client is the MCP SDK's.

Alice calls, gets her connect link (nothing was connected for her), connects at oidc-provider through
it, calls again: both tools reach the remote server with Alice's token. On a shared connection that a
builder connected with their own account, Alice's call reaches it with the builder's token at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import Connection, GrantStatus, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp.audit import ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import McpServer, RemoteToolAttach, ToolAttach
from switchboard.platform.services import Services
from switchboard.recipes.documents import DOCUMENT_FORMAT, RecipeDocument
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)
from tests.connectors.conftest import principal_of
from tests.connectors.test_remote_oauth import connect_at_provider, files_connection
from tests.identity.support import make_user
from tests.mcp.test_endpoint import _text, mcp_session, signed_in_client
from tests.support.actors import SETUP
from tests.support.oidc_provider import authorize_without_browser_async
from tests.support.remote_mcp import ProtectedFiles, protected_files
from tests.support.web import Browserless


@pytest.fixture(scope="module")
def remote() -> Iterator[ProtectedFiles]:
    with protected_files() as files:
        yield files


async def serve_files_both_ways(app_services: Services, demo: McpServer, connection: Connection) -> None:
    """On the demo server: ``find_my_files``, a recipe whose step calls the remote ``search_files`` through
    the connection, and the remote tools ``search_files`` and ``delete_file`` offered directly."""
    connectors, recipes, mcp = app_services.connectors, app_services.recipes, app_services.mcp
    project = await connectors.projects.ensure("Operations")

    # A recipe whose step calls the remote tool through the end user's connection...
    definition = RecipeDefinition(
        trigger=ToolTrigger(
            name="find_my_files",
            title="Find my files",
            parameters=(Parameter(name="query", required=True),),
        ),
        steps=(
            ActionStep(
                id="step_1",
                connector="files",
                action="search_files",
                connection=ConnectionRef(name=connection.name, id=connection.id),
                inputs={"query": "{{ input.query }}"},
            ),
            ResultStep(
                id="step_2",
                text="Found {{ steps.step_1.files | join(', ') }}",
                structured_from="{{ steps.step_1 }}",
            ),
        ),
    )
    document = RecipeDocument(format=DOCUMENT_FORMAT, format_version=1, definition=definition)
    recipe = (await recipes.recipes.import_document(project.id, document, actor=SETUP)).recipe
    await recipes.recipes.publish(recipe.id, actor=SETUP)
    await mcp.tools.attach(demo.id, ToolAttach(recipe_id=recipe.id), actor=SETUP)
    # ...and the same remote tool offered directly.
    offered = RemoteToolAttach(connection_id=connection.id, action="search_files")
    await mcp.tools.attach_remote(demo.id, offered, connections=connectors.connections, actor=SETUP)
    deleting = RemoteToolAttach(connection_id=connection.id, action="delete_file")
    await mcp.tools.attach_remote(demo.id, deleting, connections=connectors.connections, actor=SETUP)


async def test_a_recipe_step_and_an_offered_tool_call_the_remote_server_with_the_caller_s_own_token(
    running: Litestar,
    app_services: Services,
    web: Browserless,
    services: IdentityServices,
    demo: McpServer,
    remote: ProtectedFiles,
) -> None:
    connectors: ConnectorServices = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None

    connection = await files_connection(connectors, builder, remote)
    await serve_files_both_ways(app_services, demo, connection)

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        before = await session.call_tool("search_files", {"query": "q3"})
        assert before.is_error
        link = _text(before).split("Open ")[1].split(" ")[0].rstrip(",")
        assert link.startswith("http://testserver.local/connect/"), _text(before)

        # Alice opens her link and connects her own account at the remote server's authorization server.
        authorize_url = await connectors.connect.open_link(link.rsplit("/", 1)[1], alice.id)
        back = await authorize_without_browser_async(authorize_url, "alice")
        await connectors.connect.finish(dict(parse_qsl(urlsplit(back).query)), alice.id)

        direct = await session.call_tool("search_files", {"query": "q3"})
        through_recipe = await session.call_tool("find_my_files", {"query": "q4"})

        # Deleting needs files:write, which Alice has not allowed: she is asked to, then it works.
        more = await session.call_tool("delete_file", {"name": "old.txt"})
        assert more.is_error
        assert _text(more).startswith(
            "This tool needs more access to your Files account (files:write). Open "
        )
        link = _text(more).split("Open ")[1].split(" ")[0]
        authorize_url = await connectors.connect.open_link(link.rsplit("/", 1)[1], alice.id)
        back = await authorize_without_browser_async(authorize_url, "alice")
        await connectors.connect.finish(dict(parse_qsl(urlsplit(back).query)), alice.id)
        deleted = await session.call_tool("delete_file", {"name": "old.txt"})
        assert not deleted.is_error, _text(deleted)
        assert _text(deleted) == "deleted old.txt"

    assert not direct.is_error, _text(direct)
    assert direct.structured_content == {
        "query": "q3",
        "files": ["q3-report.txt", "q3-notes.md"],
        "caller": "alice",
    }
    assert not through_recipe.is_error, _text(through_recipe)
    assert through_recipe.structured_content == {
        "query": "q4",
        "files": ["q4-report.txt", "q4-notes.md"],
        "caller": "alice",
    }
    assert _text(through_recipe) == "Found q4-report.txt, q4-notes.md"


async def test_a_shared_connection_calls_the_remote_server_with_the_grant_the_builder_made(
    running: Litestar,
    app_services: Services,
    web: Browserless,
    services: IdentityServices,
    demo: McpServer,
    remote: ProtectedFiles,
) -> None:
    connectors: ConnectorServices = app_services.connectors
    mcp: McpServices = app_services.mcp
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    connection = await files_connection(connectors, builder, remote, Mode.SHARED)
    offered = RemoteToolAttach(connection_id=connection.id, action="search_files")
    await mcp.tools.attach_remote(demo.id, offered, connections=connectors.connections, actor=SETUP)

    deleting = RemoteToolAttach(connection_id=connection.id, action="delete_file")
    await mcp.tools.attach_remote(demo.id, deleting, connections=connectors.connections, actor=SETUP)

    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        called = await session.call_tool("search_files", {"query": "q3"})
        more = await session.call_tool("delete_file", {"name": "old.txt"})

    assert more.is_error
    assert _text(more) == (
        "Files needs more access (files:write) than the shared connection Files (team) was granted: "
        "a builder adds it to the connection's scopes and connects it again."
    )

    assert not called.is_error, _text(called)
    assert called.structured_content == {
        "query": "q3",
        "files": ["q3-report.txt", "q3-notes.md"],
        "caller": "builder",
    }


async def test_a_token_the_remote_server_refuses_for_good_has_the_person_reconnect_whichever_way_it_runs(
    running: Litestar,
    app_services: Services,
    web: Browserless,
    services: IdentityServices,
    demo: McpServer,
    remote: ProtectedFiles,
) -> None:
    connectors = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    connection = await files_connection(connectors, builder, remote)
    await serve_files_both_ways(app_services, demo, connection)
    await connect_at_provider(connectors, alice.id, connection.id, "alice")

    async with httpx.AsyncClient() as http:  # the next two tokens are refused: before and after a refresh
        await http.post(remote.endpoint.replace("/mcp", "/__refuse?times=2"))
    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        direct = await session.call_tool("search_files", {"query": "q3"})
        through_recipe = await session.call_tool("find_my_files", {"query": "q3"})

    for result in (direct, through_recipe):
        assert result.is_error
        link = _text(result).split("Open ")[1].split(" ")[0]
        assert _text(result).startswith(f"This tool needs your Files account. Open {link} to reconnect it")
        assert link.startswith("http://testserver.local/connect/")
    [mine] = [
        row for row in await connectors.accounts.for_user(alice.id) if row.connection_id == connection.id
    ]
    assert mine.status is GrantStatus.NEEDS_RECONNECT
    calls = await app_services.mcp.calls.search(ToolCallFilter(user="alice@example.com"))
    assert [(call.tool, call.outcome) for call in calls] == [
        ("find_my_files", "connection_required"),
        ("search_files", "connection_required"),
    ]
