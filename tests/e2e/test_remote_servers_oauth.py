"""A remote MCP server protected by a third-party authorization server, end to end with real parts:
Switchboard served over HTTP, Chromium for the people, the MCP SDK's server as the remote (taking JWTs
from oidc-provider), and the MCP SDK's client as Alice's MCP client.

An admin adds the remote server in the console (discovery finds oidc-provider; Switchboard registers
itself there), makes an end user's connection and connects their own account at oidc-provider in the
browser, lists the tools with it, and offers one on the demo MCP server. Alice's client calls it: the
first call answers with her connect link, she connects her own account in the browser, and the same call
then reaches the remote server with Alice's token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ALICE, expect_heading, expect_notice, expect_path, sign_in, unique
from tests.e2e.test_mcp_client import WAIT, Handoff, _approve, _text, consented_session, run_client
from tests.e2e.test_oauth import Callback
from tests.e2e.test_oauth import callback as callback  # the fixture
from tests.e2e.test_servers import tabs
from tests.support.oidc_provider import sign_in_and_consent
from tests.support.remote_mcp import ProtectedFiles, protected_files


@pytest.fixture(scope="module")
def remote() -> Iterator[ProtectedFiles]:
    with protected_files() as files:
        yield files


async def _client(url: str, redirect_uri: str, tool: str, handoff: Handoff) -> None:
    async with consented_session(url, redirect_uri, handoff) as session:
        handoff.answers.put(("first", await session.call_tool(tool, {"query": "q3"})))
        await asyncio.to_thread(handoff.connected.get, True, WAIT * 2)
        handoff.answers.put(("second", await session.call_tool(tool, {"query": "q3"})))


def test_a_remote_server_is_added_connected_in_the_browser_and_called_with_alice_s_own_token(
    admin_page: Page, page: Page, live_server: LiveServer, callback: Callback, remote: ProtectedFiles
) -> None:
    admin = admin_page
    key = unique("files")
    name = f"Files {key[-8:]}"
    admin.goto("/console/remote-servers/new")
    admin.get_by_label("Endpoint URL").fill(remote.endpoint)
    admin.get_by_label("Allow private network addresses").check()
    admin.get_by_role("button", name="Discover").click()
    discovery = admin.get_by_role("region", name="What the server asks for")
    expect(discovery).to_contain_text("OAuth authorization code with PKCE (public client)")
    expect(discovery).to_contain_text(remote.provider.issuer)
    admin.get_by_label("Key").fill(key)
    admin.get_by_label("Name").fill(name)
    admin.get_by_role("button", name="Add server").click()
    expect_notice(admin, f"Remote server {name} added with 0 tools.")
    expect(admin.get_by_text("(registered dynamically)")).to_be_visible()

    # An end user's connection; the admin connects their own account at oidc-provider.
    connection = name  # the form proposes the app's name
    admin.goto("/console/connections")
    admin.get_by_label("Connector").select_option(key)
    admin.get_by_role("button", name="New connection").click()
    expect(admin.get_by_label("Name", exact=True)).to_have_value(name)
    admin.get_by_label("Location").select_option(label="Demo")
    expect(admin.get_by_label("End user's connection")).to_be_checked()
    admin.get_by_role("button", name="Connect").click()
    sign_in_and_consent(admin, "builder")
    expect_heading(admin, f"{name} connected")

    admin.goto(f"/console/remote-servers/{key}")
    listing = admin.get_by_label("List with the connection")
    listing.select_option(label=f"{connection} (End user's connection)")
    admin.get_by_role("button", name="List tools again").click()
    expect_notice(admin, "Tools listed again: 3 tools.")

    # Offered directly on the demo MCP server.
    tool = f"search_{key[-8:]}"
    admin.goto("/console/servers")
    admin.get_by_role("link", name="Demo", exact=True).click()
    tabs(admin).get_by_role("link", name="Tools").click()
    admin.get_by_label("Remote tool", exact=True).select_option(
        label=f"search_files — Search files ({name}, via {connection})"
    )
    admin.get_by_label("Tool name", exact=True).fill(tool)
    admin.get_by_role("button", name="Offer tool").click()
    expect_notice(admin, f"Remote tool {tool} offered.")

    # Alice's MCP client: sign-in and consent in her browser, then the tool.
    url = f"{live_server.url}/mcp/demo"
    handoff = Handoff()
    client = run_client(lambda: _client(url, callback.uri, tool, handoff), handoff)
    sign_in(page, ALICE)
    authorization_url = handoff.authorization_urls.get(timeout=WAIT)
    _approve(live_server, parse_qs(urlsplit(authorization_url).query)["client_id"][0])
    page.goto(authorization_url)
    page.get_by_role("button", name="Allow").click()
    expect_path(page, r"^/callback\?")
    handoff.callbacks.put(callback.received[-1])

    kind, first = handoff.next_answer()
    assert kind == "first"
    assert first.is_error
    link = re.search(rf"{re.escape(live_server.url)}/connect/[^\s,]+", _text(first))
    assert link, _text(first)

    # Her own account at the remote server's authorization server, connected once in the browser.
    page.goto(link.group(0))
    page.get_by_role("button", name=f"Continue to {name}").click()
    sign_in_and_consent(page, "alice")
    expect_heading(page, f"{name} connected")
    handoff.connected.put(True)

    kind, second = handoff.next_answer()
    assert kind == "second"
    assert not second.is_error, _text(second)
    assert second.structured_content == {
        "query": "q3",
        "files": ["q3-report.txt", "q3-notes.md"],
        "caller": "alice",
    }
    client.join(timeout=WAIT)

    # The demo server is shared with other tests: it offers only its own tools again.
    admin.goto("/console/servers")
    admin.get_by_role("link", name="Demo", exact=True).click()
    tabs(admin).get_by_role("link", name="Tools").click()
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name=f"Withdraw {tool}").click()
    expect_notice(admin, f"Remote tool {tool} withdrawn.")
    expect(admin.get_by_text("No remote tools offered.")).to_be_visible()


def test_a_builder_connects_a_shared_connection_with_their_account_in_the_browser(
    admin_page: Page, remote: ProtectedFiles
) -> None:
    admin = admin_page
    key = unique("team")
    name = f"Team files {key[-8:]}"
    admin.goto("/console/remote-servers/new")
    admin.get_by_label("Endpoint URL").fill(remote.endpoint)
    admin.get_by_label("Allow private network addresses").check()
    admin.get_by_label("Key").fill(key)
    admin.get_by_label("Name").fill(name)
    admin.get_by_role("button", name="Add server").click()
    expect_notice(admin, f"Remote server {name} added with 0 tools.")

    # A shared connection: the admin connects the account every caller will use.
    admin.goto("/console/connections")
    admin.get_by_label("Connector").select_option(key)
    admin.get_by_role("button", name="New connection").click()
    admin.get_by_label("Location").select_option(label="Demo")
    admin.get_by_label("Shared").check()
    admin.get_by_role("button", name="Connect").click()
    sign_in_and_consent(admin, "builder")
    expect_heading(admin, f"{name} connected")
    expect(admin.get_by_role("status")).to_have_text(
        f"Every call through the shared connection {name} now uses this {name} account."
    )
    admin.get_by_role("link", name=f"Back to {name}").click()
    shared = admin.get_by_role("region", name="Connected account")
    expect(shared).to_contain_text("Connected")
    expect(shared).to_contain_text("files:read")

    # Its token lists the remote server's tools.
    admin.goto(f"/console/remote-servers/{key}")
    admin.get_by_label("List with the connection").select_option(label=f"{name} (Shared)")
    admin.get_by_role("button", name="List tools again").click()
    expect_notice(admin, "Tools listed again: 3 tools.")

    # Disconnected, calls through it fail until a builder connects it again.
    admin.goto("/console/connections")
    admin.get_by_role("link", name=name, exact=True).click()
    admin.get_by_role("region", name="Connected account").get_by_role("button", name="Disconnect").click()
    expect_notice(admin, f"Disconnected {name}; calls that use it fail until a builder connects it again.")
    expect(admin.get_by_role("region", name="Connected account")).to_contain_text("Not connected")
