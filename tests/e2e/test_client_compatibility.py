"""Why a client does not show the connect link, read in the browser: the official MCP SDK client, without
URL elicitation, calls a tool as Alice; Alice reads under My apps, and an admin on the client's
Compatibility page, that it gets connect links as text and holds a refresh token."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx2
import mcp_types as types
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
from playwright.sync_api import Page, expect
from pydantic import AnyUrl

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ALICE, expect_heading, expect_path, sign_in, unique
from tests.e2e.test_mcp_client import WAIT, Handoff, _approve, run_client
from tests.e2e.test_oauth import Callback
from tests.e2e.test_oauth import callback as callback  # the fixture
from tests.support.mcp_client import MemoryStorage


async def _whoami_as(url: str, redirect_uri: str, name: str, handoff: Handoff) -> None:
    async def redirect_handler(authorization_url: str) -> None:
        handoff.authorization_urls.put(authorization_url)

    async def callback_handler() -> AuthorizationCodeResult:
        query = await asyncio.to_thread(handoff.callbacks.get, True, WAIT)
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(client_name=name, redirect_uris=[AnyUrl(redirect_uri)]),
        storage=MemoryStorage(),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(
            read, write, client_info=types.Implementation(name="Terminal agent", version="3.1")
        ) as session,
    ):
        await session.initialize()
        handoff.answers.put(("whoami", await session.call_tool("whoami", {})))


def test_alice_and_an_admin_read_that_a_client_gets_connect_links_as_text(
    page: Page, admin_page: Page, live_server: LiveServer, callback: Callback
) -> None:
    name = unique("Terminal agent")
    handoff = Handoff()
    client = run_client(
        lambda: _whoami_as(f"{live_server.url}/mcp/demo", callback.uri, name, handoff), handoff
    )
    sign_in(page, ALICE)
    authorization_url = handoff.authorization_urls.get(timeout=WAIT)
    _approve(live_server, parse_qs(urlsplit(authorization_url).query)["client_id"][0])
    page.goto(authorization_url)
    page.get_by_role("button", name="Allow").click()
    expect_path(page, r"^/callback\?")
    handoff.callbacks.put(callback.received[-1])
    kind, _ = handoff.next_answer()
    assert kind == "whoami"
    client.join(timeout=WAIT)

    page.goto("/me/apps")
    row = page.locator("table.client-diagnostics tr", has_text=name)
    expect(row.locator("td.client-info")).to_have_text("Terminal agent 3.1")
    expect(row.locator("td.url-elicitation")).to_contain_text(
        "As text: the client did not declare URL elicitation"
    )
    expect(row.locator("td.refresh-token")).to_contain_text("Yes")

    admin_page.goto("/console/clients")
    admin_page.get_by_role("link", name=name, exact=True).click()
    expect_heading(admin_page, name)
    admin_page.get_by_role("link", name="Compatibility").click()
    expect_heading(admin_page, f"Compatibility of {name}")
    alice_row = admin_page.locator("table.client-diagnostics tr", has_text=ALICE)
    expect(alice_row.locator("td.protocol")).to_have_text("2025-11-25")
    expect(alice_row.locator("td.url-elicitation")).to_contain_text("As text")
    expect(alice_row.locator("td.last-error")).to_have_text("none")
