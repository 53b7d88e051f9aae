"""Remote MCP servers over /api/v1/remote-servers, against a real MCP SDK server ("Files", token-protected,
keeping sessions; tests/support/remote_mcp.py): adding one fills its settings and lists its tools, the
tools become its connector's actions and run over MCP with a connection's credentials, and only builders
(and, for private addresses, admins) can do any of it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msgspec
import pytest
from litestar import Litestar

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.models import RemoteServerInput
from switchboard.connectors.tables import CustomConnector
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from switchboard.platform.services import Services
from tests.connectors.conftest import principal_of
from tests.connectors.test_remote_discovery import authorization_server, document, healthy
from tests.identity.support import SIGN_IN_REQUIRED, answer, error, make_user, signed_in
from tests.support.actors import SETUP
from tests.support.document_server import DocumentServer
from tests.support.remote_mcp import FilesServer
from tests.support.web import Browserless

API = "/api/v1/remote-servers"
TOKEN = "files-token-5f1c9a"
BASE = "http://testserver.local"


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    """The Files server, run as its own process, as a remote server is."""
    with FilesServer(token=TOKEN, stateful=True) as server:
        yield server.endpoint


def files(endpoint: str, **changes: object) -> dict[str, object]:
    return {
        "key": "files",
        "name": "Files",
        "endpoint": endpoint,
        "allow_private": True,
        "auth": {"mode": "token", "token": TOKEN},
        **changes,
    }


async def test_an_admin_adds_a_token_protected_server_and_its_tools_become_its_connector_s_actions(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")

    created = await client.post(API, json=files(files_endpoint))

    assert created.status_code == 201, created.text
    body = created.json()
    assert TOKEN not in created.text
    assert body["auth"]["mode"] == "token"
    assert body["auth"]["token_set"] is True
    assert body["allow_private"] is True
    assert body["discovery_result"] is None  # it publishes no metadata: the token was enough
    assert body["warnings"][0].startswith(
        "The server requires authorization, but Switchboard cannot find out how."
    )
    assert [
        (tool["action"], tool["name"], tool["read_only"], tool["destructive"]) for tool in body["tools"]
    ] == [
        ("search_files", "search_files", True, False),
        ("delete_file", "Delete File!", False, True),
        ("always_fails", "always_fails", False, False),
    ]
    assert body["tools"][0]["input_schema"]["required"] == ["query"]
    row = await RemoteServerRow.select().where(RemoteServerRow.key == "files").first()
    assert row is not None
    assert TOKEN not in row["secrets"]

    connectors: ConnectorServices = app_services.connectors
    definition = await connectors.registry.get("files")
    assert definition.mcp is not None
    assert definition.mcp.endpoint == files_endpoint
    assert [(a.name, a.mcp_tool) for a in definition.actions] == [
        ("search_files", "search_files"),
        ("delete_file", "Delete File!"),
        ("always_fails", "always_fails"),
    ]
    assert await connectors.registry.origin("files") == "remote"
    listed = await client.get(API)
    assert [server["key"] for server in listed.json()] == ["files"]


async def test_a_connection_s_credentials_call_the_remote_tools(
    app_services: Services, services: IdentityServices, files_endpoint: str
) -> None:
    connectors: ConnectorServices = app_services.connectors
    admin = await make_user(services, "it@example.com", Role.ADMIN)
    await connectors.remote.create(server_input(files_endpoint), actor=principal_of(admin))
    project = await connectors.projects.ensure("Operations")
    # The token is not entered again: the connection starts from the server's.
    connection = await connectors.connections.create(
        ConnectionInput(name="Files (shared)", project_id=project.id, connector="files", mode=Mode.SHARED),
        actor=SETUP,
    )
    assert connection.auth_type == "bearer"
    assert connection.secrets_set == ("token",)
    definition = await connectors.registry.get("files")
    auth = await connectors.credentials.request_auth(connection.id, Caller(None))

    result = await connectors.runner.run(definition, "search_files", {"query": "q3"}, auth)

    assert result.output == {"query": "q3", "files": ["q3-report.txt", "q3-notes.md"], "caller": TOKEN}
    with pytest.raises(ActionFailed) as failed:
        await connectors.runner.run(definition, "always_fails", {}, auth)
    assert failed.value.message == "Files's tool always_fails failed: the disk is full"
    deleted = await connectors.runner.run(definition, "delete_file", {"name": "old.txt"}, auth)
    assert deleted.output == "deleted old.txt"

    # Removing the server is refused while a connection uses it; then it takes its connector along.
    with pytest.raises(Conflict, match=r"1 connection use 'files'; delete them first\."):
        await connectors.remote.delete("files", actor=SETUP)
    await connectors.connections.delete(connection.id, actor=principal_of(admin))
    await connectors.remote.delete("files", actor=SETUP)
    with pytest.raises(NotFound):
        await connectors.registry.get("files")


async def test_a_wrong_token_is_reported_when_the_tools_are_listed_again(
    app: Litestar, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")
    assert (await client.post(API, json=files(files_endpoint))).status_code == 201

    changed = await client.patch(f"{API}/files", json={"auth": {"token": "not-the-token"}})
    assert changed.status_code == 200, changed.text
    refreshed = await client.post(f"{API}/files/refresh", json={})

    assert answer(refreshed) == error(
        502, "remote_error", "Files did not accept Switchboard's credentials; reconnect."
    )


async def test_builders_add_servers_but_only_admins_allow_private_addresses(
    app: Litestar, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await make_user(services, "builder@example.com", Role.BUILDER)
    client = await signed_in(web, "builder@example.com")

    refused = await client.post(API, json=files(files_endpoint))
    assert answer(refused) == error(403, "permission_denied", "Only owners and admins can do this.")
    assert await RemoteServerRow.count() == 0

    # Without the allowance the loopback server is out of reach, and discovery says why.
    discovered = await client.post(
        f"{API}/discover", json={"endpoint": files_endpoint.replace("http:", "https:")}
    )
    assert answer(discovered) == error(
        422,
        "discovery_failed",
        f"Could not fetch {files_endpoint.replace('http:', 'https:')}: 127.0.0.1 is a loopback address, "
        "which is not allowed.",
        "endpoint",
    )


async def test_a_server_the_command_line_adds_says_so_and_the_services_refuse_a_member(
    app_services: Services, services: IdentityServices, files_endpoint: str
) -> None:
    connectors: ConnectorServices = app_services.connectors
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    member = principal_of(await make_user(services, "mia@example.com"))
    with pytest.raises(PermissionDenied) as refused:
        await connectors.remote.create(server_input(files_endpoint), actor=member)
    with pytest.raises(PermissionDenied) as private:
        await connectors.remote.create(server_input(files_endpoint), actor=builder)
    assert (refused.value.message, private.value.message) == (
        "Only builders and admins can do this.",
        "Only owners and admins can do this.",
    )

    added = await connectors.remote.create(server_input(files_endpoint), actor=COMMAND_LINE)

    assert added.created_by == "command line"
    connector = await CustomConnector.select(CustomConnector.created_by).where(CustomConnector.key == "files")
    assert connector == [{"created_by": "command line"}]
    with pytest.raises(PermissionDenied):
        await connectors.remote.delete("files", actor=member)
    assert await RemoteServerRow.count() == 1


async def test_members_and_strangers_are_kept_out(
    app: Litestar, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    anonymous = await web.client.get(API)
    assert answer(anonymous) == (401, SIGN_IN_REQUIRED)
    await make_user(services, "alice@example.com")
    client = await signed_in(web, "alice@example.com")
    for response in (
        await client.get(API),
        await client.post(API, json=files(files_endpoint, allow_private=False)),
        await client.post(f"{API}/discover", json={"endpoint": files_endpoint}),
    ):
        assert answer(response) == error(403, "permission_denied", "Only builders and admins can open this.")
    assert await RemoteServerRow.count() == 0


async def test_a_definition_cannot_pose_as_a_remote_server(app_services: Services) -> None:
    connectors: ConnectorServices = app_services.connectors
    source = "key: sneaky\nname: Sneaky\nmcp:\n  endpoint: http://10.0.0.5/mcp\n  allow_private: true\n"

    with pytest.raises(Conflict, match="Remote MCP servers are added as remote servers"):
        await connectors.registry.save(source, actor="command line")


async def test_the_token_mode_needs_a_token(app_services: Services, files_endpoint: str) -> None:
    connectors: ConnectorServices = app_services.connectors
    with pytest.raises(InvalidInput, match=r"Enter the token the server expects\."):
        await connectors.remote.create(server_input(files_endpoint, token=""), actor=SETUP)


async def test_switchboard_publishes_its_client_id_metadata_document(web: Browserless) -> None:
    response = await web.client.get("/oauth/client-metadata.json")

    assert response.status_code == 200
    assert response.json() == {
        "client_id": f"{BASE}/oauth/client-metadata.json",
        "client_name": "Switchboard",
        "client_uri": BASE,
        "redirect_uris": [f"{BASE}/connections/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def server_input(endpoint: str, *, token: str = TOKEN) -> RemoteServerInput:
    return msgspec.convert(files(endpoint, auth={"mode": "token", "token": token}), RemoteServerInput)


async def test_when_the_server_says_its_tools_changed_they_are_listed_again(
    app_services: Services, services: IdentityServices
) -> None:
    connectors: ConnectorServices = app_services.connectors
    with FilesServer(token=TOKEN) as changing:  # a server of its own: its tool list is about to change
        await connectors.remote.create(server_input(changing.endpoint), actor=SETUP)
        project = await connectors.projects.ensure("Operations")
        connection = await connectors.connections.create(
            ConnectionInput(
                name="Files (shared)", project_id=project.id, connector="files", mode=Mode.SHARED
            ),
            actor=SETUP,
        )
        auth = await connectors.credentials.request_auth(connection.id, Caller(None))
        before = await connectors.registry.get("files")
        async with httpx.AsyncClient() as http:
            await http.post(changing.endpoint.replace("/mcp", "/__change_tools"))

        await connectors.runner.run(before, "search_files", {"query": "q3"}, auth)

    after = await connectors.registry.get("files")
    assert [action.name for action in before.actions] == ["search_files", "delete_file", "always_fails"]
    assert [action.name for action in after.actions] == [
        "search_files",
        "delete_file",
        "always_fails",
        "summarize_file",
    ]
    assert (await connectors.remote.get("files")).tools[-1].title == "Summarize a file"


async def test_an_authorization_server_without_pkce_s256_is_refused_for_the_code_grant(
    app_services: Services,
) -> None:
    connectors: ConnectorServices = app_services.connectors
    routes = healthy()
    routes["/.well-known/oauth-authorization-server/tenant"] = document(
        lambda b: authorization_server(b, code_challenge_methods_supported=["plain"])
    )
    server = DocumentServer(routes)
    await server.start()
    try:
        data = {
            "key": "legacy",
            "name": "Legacy",
            "endpoint": server.url("/mcp"),
            "allow_private": True,
            "auth": {"mode": "oauth_authorization_code"},  # discovery would not recommend it
        }
        with pytest.raises(InvalidInput) as refused:
            await connectors.remote.create(msgspec.convert(data, RemoteServerInput), actor=SETUP)
    finally:
        await server.stop()

    assert refused.value.field == "auth.mode"
    assert refused.value.message == (
        f"{server.url('/tenant')} does not advertise PKCE S256, which Switchboard requires for the "
        "authorization code grant; use a token or client credentials."
    )
    assert server.hits["/tenant/register"] == 0  # refused before registering anywhere
    assert await RemoteServerRow.count() == 0


async def test_a_builder_cannot_point_a_server_an_admin_allowed_onto_private_addresses_elsewhere(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    connectors: ConnectorServices = app_services.connectors
    await connectors.remote.create(server_input(files_endpoint), actor=SETUP)  # allowed by an admin
    elsewhere = DocumentServer({"/mcp": document(lambda b: {"jsonrpc": "2.0", "id": 0, "result": {}})})
    await elsewhere.start()
    await make_user(services, "builder@example.com", Role.BUILDER)
    client = await signed_in(web, "builder@example.com")
    try:
        moved = await client.patch(f"{API}/files", json={"endpoint": elsewhere.url("/mcp")})
        token_elsewhere = await client.patch(
            f"{API}/files", json={"auth": {"token_url": elsewhere.url("/token")}}
        )
    finally:
        await elsewhere.stop()

    why = (
        f"An admin allowed Files onto private addresses at {files_endpoint} only; only owners and admins "
        "can change where it connects."
    )
    assert answer(moved) == error(403, "permission_denied", why, "endpoint")
    assert answer(token_elsewhere) == error(403, "permission_denied", why, "auth.token_url")
    assert elsewhere.requests == []  # Switchboard called nothing there
    server = await connectors.remote.get("files")
    assert (server.endpoint, server.allow_private) == (files_endpoint, True)

    # A change that keeps the address is still the builder's to make.
    renamed = await client.patch(f"{API}/files", json={"name": "Shared files", "endpoint": files_endpoint})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Shared files"
