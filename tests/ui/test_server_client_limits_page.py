"""Console → MCP servers → Overview: an admin gives one client a rate limit of its own on a server, and
takes it away; builders see the limits but cannot change them."""

from __future__ import annotations

import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services
from tests.identity.support import PASSWORD, make_user
from tests.mcp.test_refusal_records import registered_client
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import Demo
from tests.ui.html import Page
from tests.ui.test_servers_pages import BUILDER, LIST, field_error, notice


@pytest.fixture
def mcp(app_services: Services) -> McpServices:
    return app_services.mcp


@pytest.fixture
async def finance(mcp: McpServices, demo: Demo) -> McpServer:
    return await mcp.servers.create(ServerCreate(slug="finance", name="Finance"), actor=SETUP)


@pytest.fixture
async def as_builder(web: Browserless, demo: Demo, services: IdentityServices) -> Browserless:
    await make_user(services, BUILDER, Role.BUILDER)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


def limits_shown(html: str) -> list[str]:
    """The rows of the table of limits per client, as read."""
    page = Page(html)
    table = page.by_id("client-limits")
    rows = page.elements[page.elements.index(table) :]
    return [" ".join(row.text.split()) for row in rows if row.tag == "tr"][1:]


async def test_an_admin_gives_a_client_its_own_limit_and_takes_it_away(
    as_admin: Browserless, mcp: McpServices, services: IdentityServices, finance: McpServer
) -> None:
    claude = await registered_client(services, "Claude")
    await registered_client(services, "Cursor")
    path = f"{LIST}/{finance.id}"
    page = Page((await as_admin.client.get(path)).text)
    assert page.label_for(page.by_id("client_id")) == "Client"
    assert [option.text for option in page.options("client_id")] == ["Claude", "Cursor"]
    assert page.label_for(page.by_id("client_limit")) == "Requests a minute"
    assert "No client has a limit of its own." in page.text

    response = await as_admin.submit(
        path, f"{path}/client-limits", {"client_id": claude, "client_limit": "600"}
    )
    assert (response.status_code, response.headers["location"]) == (303, path)
    shown = await as_admin.client.get(path)
    assert notice(shown) == "Claude may now send 600 requests a minute to Finance."
    assert limits_shown(shown.text) == [f"Claude {claude} 600 Remove"]
    assert [
        (limit.client_id, limit.rate_limit_per_minute)
        for limit in (await mcp.servers.get(finance.id)).client_rate_limits
    ] == [(claude, 600)]

    bad = await as_admin.submit(path, f"{path}/client-limits", {"client_id": claude, "client_limit": "lots"})
    assert bad.status_code == 422
    assert field_error(bad, "client_limit") == "Enter a whole number of requests a minute (0 for no limit)."

    removed = await as_admin.submit(path, f"{path}/client-limits/remove", {"client_id": claude})
    assert (removed.status_code, removed.headers["location"]) == (303, path)
    after = await as_admin.client.get(path)
    assert notice(after) == "Claude now has Finance's limit."
    assert "No client has a limit of its own." in Page(after.text).text
    assert (await mcp.servers.get(finance.id)).client_rate_limits == ()


async def test_a_token_server_s_clients_are_its_api_tokens(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    server = await mcp.servers.create(
        ServerCreate(slug="jobs", name="Jobs", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    await mcp.tokens.create(server.id, "Nightly job", actor=SETUP)
    page = Page((await as_admin.client.get(f"{LIST}/{server.id}")).text)
    assert [(o.attrs["value"], o.text) for o in page.options("client_id")] == [
        ("token:Nightly job", "API token Nightly job")
    ]


async def test_a_builder_sees_the_limits_but_cannot_change_them(
    as_builder: Browserless,
    mcp: McpServices,
    services: IdentityServices,
    finance: McpServer,
) -> None:
    claude = await registered_client(services, "Claude")
    await mcp.limits.set_for_client(finance.id, claude, 5, actor=SETUP)
    path = f"{LIST}/{finance.id}"
    html = (await as_builder.client.get(path)).text
    assert limits_shown(html) == [f"Claude {claude} 5"]
    assert Page(html).get_id("client_id") is None
    token = csrf_from((await as_builder.client.get("/me")).text)

    for action, form in (
        (f"{path}/client-limits", {"client_id": claude, "client_limit": "100000"}),
        (f"{path}/client-limits/remove", {"client_id": claude}),
    ):
        response = await as_builder.client.post(action, data={"_csrf_token": token, **form})
        assert response.status_code == 403, action
    limits = (await mcp.servers.get(finance.id)).client_rate_limits
    assert [(limit.client_id, limit.rate_limit_per_minute) for limit in limits] == [(claude, 5)]
