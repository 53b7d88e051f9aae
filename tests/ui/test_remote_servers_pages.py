"""Console → Remote MCP servers: Discover shows what a server asks for, Add server stores it and lists its
tools, the server page shows its auth and tools, lists them again and removes it; builders cannot allow
private addresses and members cannot open the pages. Against a real MCP SDK server (remote_mcp.py)."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.remote.models import RemoteServerInput
from switchboard.connectors.tables import RemoteServer as RemoteServerRow
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from tests.identity.support import PASSWORD, make_user
from tests.support.actors import SETUP
from tests.support.remote_mcp import FilesServer
from tests.support.web import Browserless
from tests.ui.html import Page
from tests.ui.test_access import FORBIDDEN_TITLE

LIST = "/console/remote-servers"
NEW = f"{LIST}/new"


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    with FilesServer() as server:  # open: no credentials needed
        yield server.endpoint


async def signed_in_as(web: Browserless, services: IdentityServices, email: str, role: Role) -> Browserless:
    await make_user(services, email, role)
    assert (await web.sign_in(email, PASSWORD)).status_code == 303
    return web


def add_form(endpoint: str, **changes: str) -> dict[str, str]:
    return {
        "endpoint": endpoint,
        "allow_private": "1",
        "key": "files",
        "name": "Files",
        "mode": "",
        **changes,
    }


async def test_an_admin_discovers_adds_refreshes_and_removes_a_server(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await signed_in_as(web, services, "it@example.com", Role.ADMIN)
    form = Page((await web.client.get(NEW)).text)
    assert form.field("allow_private") is not None

    discovered = await web.submit(NEW, f"{LIST}/discover", {"endpoint": files_endpoint, "allow_private": "1"})

    assert discovered.status_code == 200
    shown = Page(discovered.text)
    assert "Needs authorization No" in shown.text
    assert "Recommended authentication None" in shown.text
    assert shown.field("endpoint").attrs["value"] == files_endpoint  # kept for the next step

    added = await web.submit(NEW, LIST, add_form(files_endpoint))

    assert added.status_code == 303, Page(added.text).text[:500]
    assert added.headers["location"] == f"{LIST}/files"
    server_page = await web.client.get(f"{LIST}/files")
    page = Page(server_page.text)
    assert page.notice == "Remote server Files added with 3 tools."
    assert page.heading == "Files"
    assert "search_files Search files Find files whose name contains the query. Read-only" in page.text
    assert "delete_file Delete File! Delete File! Delete a file. Destructive" in page.text
    connectors: ConnectorServices = app_services.connectors
    assert [action.name for action in (await connectors.registry.get("files")).actions] == [
        "search_files",
        "delete_file",
        "always_fails",
    ]

    refreshed = await web.submit(f"{LIST}/files", f"{LIST}/files/refresh", {})
    assert refreshed.status_code == 303
    assert Page((await web.client.get(f"{LIST}/files")).text).notice == "Tools listed again: 3 tools."

    listed = Page((await web.client.get(LIST)).text)
    assert f"Files files {files_endpoint} None 3" in listed.text

    removed = await web.submit(f"{LIST}/files", f"{LIST}/files/delete", {})
    assert removed.status_code == 303
    assert Page((await web.client.get(LIST)).text).notice == "Remote server Files removed."
    assert await RemoteServerRow.count() == 0


async def test_mistakes_are_shown_at_their_field_and_nothing_is_stored(
    app: Litestar, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await signed_in_as(web, services, "it@example.com", Role.ADMIN)

    bad_key = await web.submit(NEW, LIST, add_form(files_endpoint, key="Files!"))
    taken = await web.submit(NEW, LIST, add_form(files_endpoint, key="http"))
    no_token = await web.submit(NEW, LIST, add_form(files_endpoint, mode="token"))
    loopback = await web.submit(
        NEW, f"{LIST}/discover", {"endpoint": files_endpoint.replace("http:", "https:")}
    )

    assert bad_key.status_code == 422
    assert Page(bad_key.text).by_id("key-error").text == (
        "Use lower-case letters, digits, - and _ for the key (start with a letter)."
    )
    assert taken.status_code == 409
    assert Page(taken.text).by_id("key-error").text == (
        "The key 'http' belongs to a built-in connector; choose another key."
    )
    assert Page(no_token.text).by_id("token-error").text == "Enter the token the server expects."
    assert loopback.status_code == 422
    assert Page(loopback.text).by_id("endpoint-error").text == (
        f"Could not fetch {files_endpoint.replace('http:', 'https:')}: 127.0.0.1 is a loopback address, "
        "which is not allowed."
    )
    assert await RemoteServerRow.count() == 0


async def test_a_builder_adds_servers_but_cannot_allow_private_addresses(
    services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await signed_in_as(web, services, "builder@example.com", Role.BUILDER)
    assert Page((await web.client.get(NEW)).text).get_id("allow_private") is None

    refused = await web.submit(NEW, LIST, add_form(files_endpoint))

    assert refused.status_code == 403
    assert Page(refused.text).by_id("form-error").text == "Only owners and admins can do this."
    assert await RemoteServerRow.count() == 0


async def test_members_cannot_open_the_pages(services: IdentityServices, web: Browserless) -> None:
    await signed_in_as(web, services, "alice@example.com", Role.MEMBER)

    for path in (LIST, NEW, f"{LIST}/files/edit"):
        response = await web.client.get(path)
        assert response.status_code == 403
        assert Page(response.text).heading == FORBIDDEN_TITLE


async def test_an_admin_edits_a_server_and_a_mistake_changes_nothing(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await signed_in_as(web, services, "it@example.com", Role.ADMIN)
    assert (await web.submit(NEW, LIST, add_form(files_endpoint))).status_code == 303
    edit = f"{LIST}/files/edit"
    form = Page((await web.client.get(edit)).text)
    assert [form.field(name).attrs.get("value") for name in ("name", "endpoint", "token")] == [
        "Files",
        files_endpoint,
        "",
    ]
    assert [o.attrs["value"] for o in form.options("mode") if "selected" in o.attrs] == ["none"]
    assert "checked" in form.field("allow_private").attrs
    values = {"name": "Team files", "endpoint": files_endpoint, "allow_private": "1"}

    saved = await web.submit(edit, edit, {**values, "mode": "token", "token": "s3cret-token-value"})

    assert saved.status_code == 303
    assert saved.headers["location"] == f"{LIST}/files"
    page = Page((await web.client.get(f"{LIST}/files")).text)
    assert page.notice == "Remote server Team files saved."
    assert (page.heading, page.facts()["Authentication"], page.facts()["Token"]) == (
        "Team files",
        "Token (static bearer or header)",
        "Set",
    )
    again = await web.client.get(edit)
    assert "s3cret-token-value" not in again.text
    assert Page(again.text).by_id("token-hint").text == "A token is stored. Leave blank to keep it."
    assert "s3cret-token-value" not in str(await RemoteServerRow.select(RemoteServerRow.secrets))
    wrong = await web.submit(
        edit, edit, {**values, "name": "Lost", "endpoint": "ftp://files.example.com/mcp"}
    )
    assert wrong.status_code == 422
    assert Page(wrong.text).by_id("endpoint-error").text == (
        "Enter the server's MCP endpoint URL, such as https://mcp.example.com/mcp."
    )
    assert (await app_services.connectors.remote.get("files")).name == "Team files"


async def test_a_builder_edits_a_server_but_its_private_address_setting_stays(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    data = {"key": "files", "name": "Files", "endpoint": files_endpoint, "allow_private": True}
    await app_services.connectors.remote.create(msgspec.convert(data, RemoteServerInput), actor=SETUP)
    await signed_in_as(web, services, "builder@example.com", Role.BUILDER)
    edit = f"{LIST}/files/edit"
    assert Page((await web.client.get(edit)).text).get_id("allow_private") is None

    saved = await web.submit(
        edit, edit, {"name": "Files (renamed)", "endpoint": files_endpoint, "mode": "none"}
    )

    assert saved.status_code == 303
    server = await app_services.connectors.remote.get("files")
    assert (server.name, server.allow_private) == ("Files (renamed)", True)


async def test_a_remote_tool_is_offered_on_an_mcp_server_s_tools_tab_and_withdrawn(
    app_services: Services, services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    connectors: ConnectorServices = app_services.connectors
    mcp: McpServices = app_services.mcp
    await signed_in_as(web, services, "it@example.com", Role.ADMIN)
    assert (await web.submit(NEW, LIST, add_form(files_endpoint))).status_code == 303
    project = await connectors.projects.ensure("Operations")
    connection = await connectors.connections.create(
        ConnectionInput(name="Files (shared)", project_id=project.id, connector="files", mode=Mode.SHARED),
        actor=SETUP,
    )
    server = await mcp.servers.create(ServerCreate(slug="ops", name="Ops"), actor=SETUP)
    tab = f"/console/servers/{server.id}/tools"

    choices = Page((await web.client.get(tab)).text).options("remote_tool")
    assert [option.text for option in choices][1:] == [
        "search_files — Search files (Files, via Files (shared))",
        "delete_file — Delete File! (Files, via Files (shared))",
        "always_fails — always_fails (Files, via Files (shared))",
    ]
    offered = await web.submit(
        tab,
        f"/console/servers/{server.id}/remote-tools",
        {"remote_tool": f"{connection.id}/search_files", "name": "find_files", "remote_read_only": "1"},
    )
    assert offered.status_code == 303
    page = Page((await web.client.get(tab)).text)
    assert page.notice == "Remote tool find_files offered."
    assert "find_files files : search_files via Files (shared) mcp:tools:find_files Read-only" in page.text
    taken = await web.submit(
        tab,
        f"/console/servers/{server.id}/remote-tools",
        {"remote_tool": f"{connection.id}/delete_file", "name": "find_files"},
    )
    nothing = await web.submit(tab, f"/console/servers/{server.id}/remote-tools", {"remote_tool": ""})

    assert taken.status_code == 409
    assert Page(taken.text).by_id("name-error").text == "This server has a tool called find_files already."
    assert Page(nothing.text).by_id("remote_tool-error").text == "Choose a remote tool."
    (tool,) = await mcp.servers.remote_tools(server.id)
    assert (tool.tool_name, tool.action, tool.read_only) == ("find_files", "search_files", True)

    withdrawn = await web.submit(tab, f"/console/servers/{server.id}/remote-tools/{tool.id}/withdraw", {})
    assert withdrawn.status_code == 303
    assert Page((await web.client.get(tab)).text).notice == "Remote tool find_files withdrawn."
    assert await mcp.servers.remote_tools(server.id) == []
