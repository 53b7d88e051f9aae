"""The count of MCP clients awaiting approval on the console's "MCP clients" entry: for administrators
only."""

from __future__ import annotations

from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.html import Page
from tests.ui.test_clients_pages import pending_client


def _badge_urls(page: Page) -> set[str]:
    """Where the menu's "MCP clients" entries (one per menu layout) load their badge from."""
    entries = [a for a in page.all("a") if a.attrs.get("href") == "/console/clients"]
    assert entries
    assert all(entry.text.split() == ["MCP", "clients"] for entry in entries)
    loaders = [span for span in page.all("span") if "hx-get" in span.attrs]
    assert len(loaders) == len(entries)
    assert all(loader.attrs["hx-trigger"] == "load" for loader in loaders)
    return {loader.attrs["hx-get"] for loader in loaders}


def _badge(html: str) -> str:
    (mark,) = Page(html).all("mark")
    assert mark.attrs["class"] == "awaiting-approval"
    return " ".join(mark.text.split())


async def test_an_admin_sees_how_many_clients_await_approval_on_the_mcp_clients_entry(
    as_admin: Browserless, app_services: Services
) -> None:
    oauth: AuthorizationServer = app_services.identity.oauth
    first = await pending_client(as_admin.client, "First agent")
    second = await pending_client(as_admin.client, "Second agent")
    home = Page((await as_admin.client.get("/console/users")).text)
    (badge_url,) = _badge_urls(home)

    badge = await as_admin.client.get(badge_url, headers={"HX-Request": "true"})
    assert badge.status_code == 200
    assert badge.headers["cache-control"] == "no-store"
    assert _badge(badge.text) == "2 awaiting approval"

    await oauth.clients.approve(first, actor=SETUP)
    assert _badge((await as_admin.client.get(badge_url)).text) == "1 awaiting approval"
    await oauth.clients.approve(second, actor=SETUP)
    # None left: the badge goes away.
    assert (await as_admin.client.get(badge_url)).text.strip() == ""


async def test_a_member_gets_no_count_of_clients_awaiting_approval(
    as_member: Browserless, web: Browserless
) -> None:
    await pending_client(web.client, "First agent")
    home = Page((await as_member.client.get("/me")).text)
    assert not [a for a in home.all("a") if a.attrs.get("href") == "/console/clients"]
    assert not [span for span in home.all("span") if "hx-get" in span.attrs]
    answer = await as_member.client.get("/console/clients/awaiting-approval")
    assert answer.status_code == 403
    assert "awaiting approval" not in answer.text
