"""Console → MCP servers: creating and changing servers, who may use them, their tools and API tokens,
the client configuration on the server page, and who may do which of these."""

from __future__ import annotations

import json
from uuid import UUID

import httpx
import pytest

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate
from switchboard.platform.demo import seed_demo_recipes, seed_demo_server
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import Recipe, RecipeCreate
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import Demo
from tests.ui.html import Page
from tests.ui.test_access import FORBIDDEN_TITLE

BASE = "http://testserver.local"
LIST = "/console/servers"
BUILDER = "builder@example.com"


@pytest.fixture
def mcp(app_services: Services) -> McpServices:
    return app_services.mcp


@pytest.fixture
async def demo_server(app_services: Services, demo: Demo, mcp: McpServices) -> McpServer:
    """The demo server (group Sales) with the published recipe whoami as its tool."""
    recipes: RecipeServices = app_services.recipes
    connectors: ConnectorServices = app_services.connectors
    await seed_demo_recipes(connectors, recipes)
    await seed_demo_server(mcp, recipes, demo.services)
    return await mcp.servers.get_by_slug("demo")


@pytest.fixture
async def builder(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, BUILDER, Role.BUILDER))


@pytest.fixture
async def as_builder(web: Browserless, demo: Demo, builder: Principal) -> Browserless:
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def draft_recipe(services: Services, builder: Principal, name: str, *, publish: bool) -> Recipe:
    recipes: RecipeServices = services.recipes
    connectors: ConnectorServices = services.connectors
    project = await connectors.projects.ensure("Demo")
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name=name, title=name.replace("_", " ").title()), actor=builder
    )
    if publish:
        await recipes.recipes.publish(recipe.id, actor=builder)
    return await recipes.recipes.get(recipe.id)


def notice(response: httpx.Response) -> str | None:
    return Page(response.text).notice


def field_error(response: httpx.Response, name: str) -> str:
    element = Page(response.text).get_id(f"{name}-error")
    assert element is not None, f"no error at {name}: {Page(response.text).text[:600]}"
    return " ".join(element.text.split())


def value_of(page: Page, element_id: str) -> str:
    element = page.by_id(element_id)
    return element.attrs["value"] if element.tag == "input" else element.text


async def test_an_admin_creates_a_server_and_is_taken_to_its_end_user_access(
    as_admin: Browserless, mcp: McpServices
) -> None:
    form = {
        "name": "Finance tools",
        "slug": "finance",
        "description": "Invoices and payments",
        "instructions": "Use these for questions about invoices.",
        "access_method": "identity",
        "rate_limit_per_minute": "30",
    }
    response = await as_admin.submit(f"{LIST}/new", LIST, form)
    server = await mcp.servers.get_by_slug("finance")
    assert response.status_code == 303
    assert response.headers["location"] == f"{LIST}/{server.id}/access"
    assert (server.name, server.description, server.instructions) == (
        "Finance tools",
        "Invoices and payments",
        "Use these for questions about invoices.",
    )
    assert (server.access_method, server.rate_limit_per_minute, server.groups) == (
        AccessMethod.IDENTITY,
        30,
        (),
    )
    page = await as_admin.client.get(response.headers["location"])
    assert (
        notice(page)
        == "MCP server Finance tools created. Add the user groups who may use it, then attach tools."
    )
    assert "No user group may use this server yet." in Page(page.text).text

    listed = Page((await as_admin.client.get(LIST)).text).text
    assert f"Finance tools Invoices and payments {BASE}/mcp/finance Identity (verified users) —" in listed


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        (
            "slug",
            "Finance Tools",
            422,
            "Use lower-case letters, digits and hyphens (at most 64, not starting or ending with a hyphen).",
        ),
        ("slug", "demo", 409, "There is already an MCP server demo."),
        ("name", "   ", 422, "Enter a name."),
        (
            "rate_limit_per_minute",
            "lots",
            422,
            "Enter a whole number of requests a minute (0 for no limit).",
        ),
        (
            "rate_limit_per_minute",
            "-1",
            422,
            "Enter a number of requests a minute from 0 (no limit) to 100000.",
        ),
        ("access_method", "magic", 422, "Choose Identity or Token."),
    ],
)
async def test_a_refused_server_is_explained_at_its_field_and_keeps_what_was_typed(
    as_admin: Browserless,
    demo_server: McpServer,
    mcp: McpServices,
    field: str,
    value: str,
    status: int,
    message: str,
) -> None:
    form = {"name": "Finance", "slug": "finance", "access_method": "identity", "rate_limit_per_minute": "60"}
    response = await as_admin.submit(f"{LIST}/new", LIST, {**form, field: value})
    assert response.status_code == status
    if field == "access_method":
        assert message in Page(response.text).text
    else:
        assert field_error(response, field) == message
        assert Page(response.text).by_id(field).attrs["value"] == value.strip()
    assert [server.slug for server in await mcp.servers.list_all()] == ["demo"]


async def test_the_server_page_shows_its_url_and_client_configuration_for_an_identity_server(
    as_admin: Browserless, demo_server: McpServer
) -> None:
    response = await as_admin.client.get(f"{LIST}/{demo_server.id}")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.by_id("server-url").attrs["value"] == f"{BASE}/mcp/demo"  # type: ignore[union-attr]
    assert page.label_for(page.by_id("server-url")) == "Server URL"
    cursor = json.loads(page.by_id("snippet-cursor").text)  # type: ignore[union-attr]
    assert cursor == {"mcpServers": {"demo": {"url": f"{BASE}/mcp/demo"}}}
    vscode = json.loads(page.by_id("snippet-vscode").text)  # type: ignore[union-attr]
    assert vscode == {"servers": {"demo": {"type": "http", "url": f"{BASE}/mcp/demo"}}}
    claude = value_of(page, "snippet-claude")
    assert claude == f"claude mcp add --transport http demo {BASE}/mcp/demo"
    assert value_of(page, "snippet-inspector") == "npx @modelcontextprotocol/inspector"
    labels = [
        page.label_for(page.by_id(f"snippet-{key}")) for key in ("claude", "cursor", "vscode", "inspector")
    ]
    assert labels == [
        f"{client} configuration" for client in ("Claude", "Cursor", "VS Code", "MCP Inspector")
    ]
    assert "Members of Sales may use it." in page.text
    assert "whoami" in page.text


async def test_a_token_server_s_configuration_sends_the_api_token(
    as_admin: Browserless, mcp: McpServices
) -> None:
    server = await mcp.servers.create(
        ServerCreate(slug="nightly", name="Nightly jobs", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    page = Page((await as_admin.client.get(f"{LIST}/{server.id}")).text)
    header = {"Authorization": "Bearer <API token>"}
    cursor = json.loads(page.by_id("snippet-cursor").text)  # type: ignore[union-attr]
    assert cursor == {"mcpServers": {"nightly": {"url": f"{BASE}/mcp/nightly", "headers": header}}}
    vscode = json.loads(page.by_id("snippet-vscode").text)  # type: ignore[union-attr]
    assert vscode["servers"]["nightly"]["headers"] == header
    claude = value_of(page, "snippet-claude")
    assert claude.endswith(' --header "Authorization: Bearer <API token>"')


async def test_an_admin_edits_and_deletes_a_server(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    server = await mcp.servers.create(ServerCreate(slug="ops", name="Ops"), actor=SETUP)
    path = f"{LIST}/{server.id}"
    form = {
        "name": "Operations",
        "description": "Runbooks",
        "instructions": "Be careful.",
        "rate_limit_per_minute": "0",
    }
    response = await as_admin.submit(path, path, form)
    assert (response.status_code, response.headers["location"]) == (303, path)
    saved = await mcp.servers.get(server.id)
    assert (saved.slug, saved.name, saved.description, saved.instructions, saved.rate_limit_per_minute) == (
        "ops",
        "Operations",
        "Runbooks",
        "Be careful.",
        0,
    )
    refused = await as_admin.submit(path, path, {**form, "name": "x" * 81})
    assert refused.status_code == 422
    assert field_error(refused, "name") == "A name can have at most 80 characters."
    assert (await mcp.servers.get(server.id)).name == "Operations"

    deleted = await as_admin.submit(path, f"{path}/delete", {})
    assert (deleted.status_code, deleted.headers["location"]) == (303, LIST)
    assert notice(await as_admin.client.get(LIST)) == "MCP server Operations deleted."
    assert (await as_admin.client.get(path)).status_code == 404
    assert await mcp.servers.list_all() == []


async def test_an_admin_adds_several_user_groups_at_once_and_removes_one(
    as_admin: Browserless, demo_server: McpServer, mcp: McpServices, services: IdentityServices
) -> None:
    support = await services.groups.create(GroupCreate(name="Support"), actor=SETUP)
    finance = await services.groups.create(GroupCreate(name="Finance"), actor=SETUP)
    path = f"{LIST}/{demo_server.id}/access"
    html = (await as_admin.client.get(path)).text
    page = Page(html)
    select = page.by_id("group_ids")
    assert "multiple" in select.attrs
    assert page.label_for(select) == "User groups"
    offered = [option.text for option in page.options("group_ids")]
    assert offered == ["Finance", "Support"]  # Sales has access already

    response = await as_admin.client.post(
        f"{LIST}/{demo_server.id}/groups",
        data={"_csrf_token": csrf_from(html), "group_ids": [str(support.id), str(finance.id)]},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, path)
    assert notice(await as_admin.client.get(path)) == "Finance and Support may now use Demo."
    assert [group.name for group in (await mcp.servers.get(demo_server.id)).groups] == [
        "Finance",
        "Sales",
        "Support",
    ]

    removed = await as_admin.submit(path, f"{LIST}/{demo_server.id}/groups/{support.id}/remove", {})
    assert removed.status_code == 303
    assert notice(await as_admin.client.get(path)) == "Support can no longer use Demo."
    assert [group.name for group in (await mcp.servers.get(demo_server.id)).groups] == ["Finance", "Sales"]


@pytest.mark.parametrize(
    ("group_ids", "status", "message"),
    [
        ([], 422, "Choose at least one user group."),
        (["not-a-group"], 422, "Choose one of the listed options."),
        (["00000000-0000-4000-8000-000000000000"], 404, "There is no such user group."),
    ],
)
async def test_adding_no_or_unknown_groups_is_refused_in_the_dialog(
    as_admin: Browserless,
    demo_server: McpServer,
    mcp: McpServices,
    group_ids: list[str],
    status: int,
    message: str,
) -> None:
    path = f"{LIST}/{demo_server.id}/access"
    page = await as_admin.client.get(path)
    response = await as_admin.client.post(
        f"{LIST}/{demo_server.id}/groups",
        data={"_csrf_token": csrf_from(page.text), "group_ids": group_ids},
        follow_redirects=False,
    )
    assert response.status_code == status
    dialog = Page(response.text).by_id("add-groups")
    assert "open" in dialog.attrs
    assert message in dialog.text
    assert [group.name for group in (await mcp.servers.get(demo_server.id)).groups] == ["Sales"]


async def test_an_admin_switches_the_access_method(
    as_admin: Browserless, demo_server: McpServer, mcp: McpServices
) -> None:
    path = f"{LIST}/{demo_server.id}/access"
    response = await as_admin.submit(path, path, {"access_method": "token"})
    assert response.status_code == 303
    assert notice(await as_admin.client.get(path)) == "Access method set to Token (API tokens)."
    assert (await mcp.servers.get(demo_server.id)).access_method is AccessMethod.TOKEN
    refused = await as_admin.submit(path, path, {"access_method": "everyone"})
    assert refused.status_code == 422
    assert "Choose Identity or Token." in Page(refused.text).text
    assert (await mcp.servers.get(demo_server.id)).access_method is AccessMethod.TOKEN


async def test_a_builder_attaches_a_published_recipe_with_its_scope_and_hints_then_changes_and_detaches_it(
    app_services: Services,
    as_builder: Browserless,
    builder: Principal,
    demo_server: McpServer,
    mcp: McpServices,
) -> None:
    lookup = await draft_recipe(app_services, builder, "lookup_invoice", publish=True)
    draft = await draft_recipe(app_services, builder, "never_published", publish=False)
    path = f"{LIST}/{demo_server.id}/tools"
    page = Page((await as_builder.client.get(path)).text)
    offered = [option.attrs["value"] for option in page.options("recipe_id")]
    assert str(lookup.id) in offered
    assert str(draft.id) not in offered  # only published recipes become tools

    response = await as_builder.submit(
        path, path, {"recipe_id": str(lookup.id), "scope": "", "read_only": "1"}
    )
    assert (response.status_code, response.headers["location"]) == (303, path)
    assert notice(await as_builder.client.get(path)) == "Tool lookup_invoice attached."
    tool = next(tool for tool in await mcp.servers.tools(demo_server.id) if tool.recipe_id == lookup.id)
    assert (tool.tool_name, tool.scope, tool.read_only, tool.destructive, tool.published_version) == (
        "lookup_invoice",
        "mcp:tools:lookup_invoice",
        True,
        False,
        1,
    )

    changed = await as_builder.submit(
        path, f"{path}/{lookup.id}", {"scope": "mcp:tools:finance", "destructive": "1"}
    )
    assert changed.status_code == 303
    tool = next(tool for tool in await mcp.servers.tools(demo_server.id) if tool.recipe_id == lookup.id)
    assert (tool.scope, tool.read_only, tool.destructive) == ("mcp:tools:finance", False, True)

    refused = await as_builder.submit(path, f"{path}/{lookup.id}", {"scope": "bad scope"})
    assert refused.status_code == 422
    assert (
        field_error(refused, f"scope-{lookup.id}")
        == "A scope is one word of visible characters, such as mcp:tools:create_task."
    )
    tool = next(tool for tool in await mcp.servers.tools(demo_server.id) if tool.recipe_id == lookup.id)
    assert tool.scope == "mcp:tools:finance"

    detached = await as_builder.submit(path, f"{path}/{lookup.id}/detach", {})
    assert detached.status_code == 303
    assert notice(await as_builder.client.get(path)) == "Tool lookup_invoice detached."
    assert [tool.tool_name for tool in await mcp.servers.tools(demo_server.id)] == ["whoami"]


async def test_attaching_nothing_or_a_recipe_twice_is_refused_at_the_recipe_field(
    app_services: Services,
    as_builder: Browserless,
    builder: Principal,
    demo_server: McpServer,
    mcp: McpServices,
) -> None:
    await draft_recipe(app_services, builder, "lookup_invoice", publish=True)
    path = f"{LIST}/{demo_server.id}/tools"
    empty = await as_builder.submit(path, path, {"recipe_id": ""})
    assert empty.status_code == 422
    assert field_error(empty, "recipe_id") == "Choose a published recipe."
    whoami = (await mcp.servers.tools(demo_server.id))[0]
    twice = await as_builder.submit(path, path, {"recipe_id": str(whoami.recipe_id)})
    assert twice.status_code == 409
    assert field_error(twice, "recipe_id") == "This recipe is a tool of this server already."
    assert len(await mcp.servers.tools(demo_server.id)) == 1


async def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(
    as_admin: Browserless, mcp: McpServices
) -> None:
    server = await mcp.servers.create(
        ServerCreate(slug="nightly", name="Nightly", access_method=AccessMethod.TOKEN), actor=SETUP
    )
    path = f"{LIST}/{server.id}/tokens"
    response = await as_admin.submit(path, path, {"name": "Nightly report"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    secret = value_of(page, "new-token")
    assert secret.startswith("sbt_")
    assert "Copy it now: it is not shown again." in page.text
    token = await mcp.servers.verify_token(server.id, secret)
    assert token is not None
    assert (token.name, token.created_by) == ("Nightly report", "admin@example.com")

    again = await as_admin.client.get(path)
    assert secret not in again.text
    assert secret[:12] in again.text  # the prefix tells tokens apart

    revoked = await as_admin.submit(path, f"{path}/{token.id}/revoke", {})
    assert revoked.status_code == 303
    assert notice(await as_admin.client.get(path)) == "API token Nightly report revoked."
    assert await mcp.servers.verify_token(server.id, secret) is None
    assert await mcp.tokens.list_all(server.id) == []

    unnamed = await as_admin.submit(path, path, {"name": " "})
    assert unnamed.status_code == 422
    assert field_error(unnamed, "name") == "Enter a name."


async def test_builders_see_servers_and_their_tools_but_cannot_change_servers_groups_or_tokens(
    as_builder: Browserless, demo_server: McpServer, mcp: McpServices, services: IdentityServices
) -> None:
    listed = await as_builder.client.get(LIST)
    assert listed.status_code == 200
    assert "New MCP server" not in Page(listed.text).text
    overview = Page((await as_builder.client.get(f"{LIST}/{demo_server.id}")).text)
    assert value_of(overview, "server-url") == f"{BASE}/mcp/demo"
    assert overview.get_id("name") is None  # no settings form
    access = Page((await as_builder.client.get(f"{LIST}/{demo_server.id}/access")).text)
    assert access.get_id("group_ids") is None
    support = await services.groups.create(GroupCreate(name="Support"), actor=SETUP)

    page = await as_builder.client.get(f"{LIST}/{demo_server.id}")
    token = csrf_from(page.text)
    attempts = [
        ("get", f"{LIST}/new", {}),
        ("post", LIST, {"name": "Mine", "slug": "mine"}),
        ("post", f"{LIST}/{demo_server.id}", {"name": "Renamed", "rate_limit_per_minute": "1"}),
        ("post", f"{LIST}/{demo_server.id}/delete", {}),
        ("post", f"{LIST}/{demo_server.id}/access", {"access_method": "token"}),
        ("post", f"{LIST}/{demo_server.id}/groups", {"group_ids": str(support.id)}),
        ("post", f"{LIST}/{demo_server.id}/groups/{demo_server.groups[0].id}/remove", {}),
        ("get", f"{LIST}/{demo_server.id}/tokens", {}),
        ("post", f"{LIST}/{demo_server.id}/tokens", {"name": "Mine"}),
    ]
    for method, url, data in attempts:
        if method == "get":
            response = await as_builder.client.get(url)
        else:
            response = await as_builder.client.post(url, data={"_csrf_token": token, **data})
        assert response.status_code == 403, (url, response.status_code)
        assert Page(response.text).heading == FORBIDDEN_TITLE
    after = await mcp.servers.get(demo_server.id)
    assert (after.name, after.access_method, [g.name for g in after.groups]) == (
        "Demo",
        AccessMethod.IDENTITY,
        ["Sales"],
    )
    assert [server.slug for server in await mcp.servers.list_all()] == ["demo"]
    assert await mcp.tokens.list_all(demo_server.id) == []


async def test_members_cannot_open_servers_at_all(
    as_member: Browserless, demo_server: McpServer, mcp: McpServices
) -> None:
    for url in (LIST, f"{LIST}/{demo_server.id}", f"{LIST}/{demo_server.id}/tools"):
        response = await as_member.client.get(url)
        assert response.status_code == 403
        assert Page(response.text).heading == FORBIDDEN_TITLE
    whoami = (await mcp.servers.tools(demo_server.id))[0]
    page = await as_member.client.get("/me")
    detach = await as_member.client.post(
        f"{LIST}/{demo_server.id}/tools/{whoami.recipe_id}/detach", data={"_csrf_token": csrf_from(page.text)}
    )
    assert detach.status_code == 403
    assert len(await mcp.servers.tools(demo_server.id)) == 1


async def test_an_unknown_server_is_a_404_page(as_admin: Browserless, demo: Demo) -> None:
    missing = UUID("00000000-0000-4000-8000-000000000000")
    for tab in ("", "/access", "/tools", "/tokens"):
        response = await as_admin.client.get(f"{LIST}/{missing}{tab}")
        assert response.status_code == 404, tab
