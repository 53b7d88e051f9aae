"""My servers: the MCP servers a person may use, with the set-up their MCP client needs."""

from __future__ import annotations

import json

import pytest

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.schemas import GroupCreate
from switchboard.platform.demo import seed_demo_recipes, seed_demo_server
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.conftest import ADMIN, ALICE, BOB, Demo
from tests.ui.html import Page

pytestmark = pytest.mark.both_engines

BASE = "http://testserver.local"
NO_SERVER = "You may not use any MCP server yet; ask an admin to add you to a group."


@pytest.fixture
def mcp(app_services: Services) -> McpServices:
    return app_services.mcp


@pytest.fixture
async def demo_server(app_services: Services, demo: Demo, mcp: McpServices) -> McpServer:
    """The demo server, which the group Sales (Alice's) may use."""
    recipes: RecipeServices = app_services.recipes
    connectors: ConnectorServices = app_services.connectors
    await seed_demo_recipes(connectors, recipes)
    await seed_demo_server(mcp, recipes, demo.services)
    return await mcp.servers.get_by_slug("demo")


def value_of(page: Page, element_id: str) -> str:
    element = page.by_id(element_id)
    return element.attrs["value"] if element.tag == "input" else element.text


async def test_a_member_sees_the_servers_of_her_groups_with_their_url_and_client_set_up(
    web: Browserless, demo_server: McpServer
) -> None:
    assert (await web.sign_in(ALICE)).status_code == 303
    response = await web.client.get("/me/servers")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert [h.text for h in page.all("h2")] == ["Demo"]
    assert demo_server.description in page.text
    url = f"{BASE}/mcp/demo"
    assert value_of(page, "demo-url") == url
    assert page.label_for(page.by_id("demo-url")) == "Demo server URL"
    assert value_of(page, "demo-snippet-claude") == f"claude mcp add --transport http demo {url}"
    assert json.loads(value_of(page, "demo-snippet-cursor")) == {"mcpServers": {"demo": {"url": url}}}
    vscode = json.loads(value_of(page, "demo-snippet-vscode"))
    assert vscode == {"servers": {"demo": {"type": "http", "url": url}}}
    assert value_of(page, "demo-snippet-inspector") == "npx @modelcontextprotocol/inspector"
    assert value_of(page, "demo-snippet-inspector-cli") == (
        f"npx @modelcontextprotocol/inspector --cli {url} --transport http --method tools/list"
    )
    remote = json.loads(value_of(page, "demo-snippet-mcp-remote"))
    assert remote == {"mcpServers": {"demo": {"command": "npx", "args": ["mcp-remote", url]}}}
    copy = [b.attrs["aria-label"] for b in page.all("button") if "data-copy" in b.attrs]
    assert "Copy the Claude configuration for Demo" in copy
    fields = [e for e in [*page.all("input"), *page.all("textarea")] if e.attrs.get("readonly") is not None]
    assert len(fields) == 7
    assert all(page.label_for(field) for field in fields)
    assert page.duplicate_ids() == []
    assert NO_SERVER not in page.text
    current = [a.text for a in page.all("a") if a.attrs.get("aria-current") == "page"]
    assert current == ["My servers"]


async def test_someone_in_no_group_is_told_to_ask_an_admin_and_sees_no_server(
    web: Browserless, demo_server: McpServer
) -> None:
    assert (await web.sign_in(BOB)).status_code == 303
    page = Page((await web.client.get("/me/servers")).text)
    assert NO_SERVER in page.text
    assert page.all("h2") == []
    assert "/mcp/demo" not in page.text


async def test_servers_of_other_groups_and_token_servers_are_not_listed(
    web: Browserless, demo_server: McpServer, mcp: McpServices, demo: Demo
) -> None:
    finance = await demo.services.groups.create(GroupCreate(name="Finance"), actor=SETUP)
    ledger = await mcp.servers.create(ServerCreate(slug="ledger", name="Ledger"), actor=SETUP)
    await mcp.groups.add(ledger.id, [finance.id], actor=SETUP)
    await mcp.servers.create(ServerCreate(slug="nobody", name="Nobody's"), actor=SETUP)
    await mcp.servers.create(
        ServerCreate(slug="nightly", name="Nightly", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    assert (await web.sign_in(ALICE)).status_code == 303
    page = Page((await web.client.get("/me/servers")).text)
    assert [h.text for h in page.all("h2")] == ["Demo"]
    for slug in ("ledger", "nobody", "nightly"):
        assert f"/mcp/{slug}" not in page.text


async def test_an_admin_sees_the_servers_they_may_use_as_a_person(
    web: Browserless, demo_server: McpServer, demo: Demo
) -> None:
    assert (await web.sign_in(ADMIN)).status_code == 303
    assert NO_SERVER in Page((await web.client.get("/me/servers")).text).text
    admin = await demo.user(ADMIN)
    await demo.services.groups.add_member((await demo.sales()).id, admin.email, actor=SETUP)
    page = Page((await web.client.get("/me/servers")).text)
    assert [h.text for h in page.all("h2")] == ["Demo"]


async def test_a_signed_out_visitor_is_sent_to_sign_in(web: Browserless, demo: Demo) -> None:
    response = await web.client.get("/me/servers", follow_redirects=False)
    assert response.status_code in {302, 303}
    assert response.headers["location"].startswith("/login")
