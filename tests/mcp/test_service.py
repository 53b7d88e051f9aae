"""MCP servers as stored: what is refused and why, who may use a server, what a tool is."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from switchboard.platform.mcp import servers as serving
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import (
    AccessMethod,
    ServerCreate,
    ServerUpdate,
    Standing,
    ToolAttach,
    ToolUpdate,
)
from switchboard.platform.mcp.tables import ServerToken as TokenRow
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import RecipeCreate
from tests.connectors.conftest import principal_of
from tests.identity.support import make_user
from tests.support.actors import SETUP

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (ServerCreate(slug="Sales", name="x"), "slug", "Use lower-case letters, digits and hyphens"),
        (ServerCreate(slug="-sales", name="x"), "slug", "Use lower-case letters, digits and hyphens"),
        (ServerCreate(slug="sales", name="  "), "name", "Enter a name."),
        (ServerCreate(slug="sales", name="x" * 81), "name", "A name can have at most 80 characters."),
        (ServerCreate(slug="sales", name="x", instructions="y" * 4001), "instructions", "at most 4000"),
        (ServerCreate(slug="sales", name="x", rate_limit_per_minute=-1), "rate_limit_per_minute", "from 0"),
    ],
)
async def test_bad_server_fields_are_refused_on_their_field(
    database: object, data: ServerCreate, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await McpServices.create().servers.create(data, actor=SETUP)
    assert refused.value.field == field
    assert message in refused.value.message
    assert await McpServices.create().servers.list_all() == []


async def test_a_slug_is_taken_once_and_only_admins_change_servers(
    database: object, services: IdentityServices
) -> None:
    mcp = McpServices.create()
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    created = await mcp.servers.create(ServerCreate(slug="sales", name="Sales"), actor=SETUP)
    with pytest.raises(Conflict) as taken:
        await mcp.servers.create(ServerCreate(slug="sales", name="Other"), actor=SETUP)
    with pytest.raises(PermissionDenied):
        await mcp.servers.create(ServerCreate(slug="mine", name="Mine"), actor=builder)
    with pytest.raises(PermissionDenied):
        await mcp.servers.update(created.id, ServerUpdate(name="Taken over"), actor=builder)
    changed = await mcp.servers.update(
        created.id, ServerUpdate(name="Sales team", access_method=AccessMethod.TOKEN), actor=SETUP
    )

    assert (taken.value.field, taken.value.message) == ("slug", "There is already an MCP server sales.")
    assert (changed.slug, changed.name, changed.access_method) == ("sales", "Sales team", AccessMethod.TOKEN)
    assert [server.slug for server in await mcp.servers.list_all()] == ["sales"]


async def test_only_members_of_an_assigned_group_may_use_a_server(
    database: object, services: IdentityServices
) -> None:
    mcp = McpServices.create()
    alice = await make_user(services, "alice@example.com", Role.MEMBER)
    bob = await make_user(services, "bob@example.com", Role.MEMBER)
    sales = await services.groups.create(GroupCreate(name="Sales"), actor=SETUP)
    await services.groups.add_member(sales.id, "alice@example.com", actor=SETUP)
    server = await mcp.servers.create(ServerCreate(slug="sales", name="Sales"), actor=SETUP)

    nobody_yet = await mcp.groups.may_use(server.id, alice.id)
    server = await mcp.groups.add(server.id, [sales.id, sales.id], actor=SETUP)
    alice_may, bob_may = (
        await mcp.groups.may_use(server.id, alice.id),
        await mcp.groups.may_use(server.id, bob.id),
    )
    with pytest.raises(NotFound):
        await mcp.groups.add(server.id, [bob.id], actor=SETUP)
    await mcp.groups.remove(server.id, sales.id, actor=SETUP)

    assert nobody_yet is False
    assert [group.name for group in server.groups] == ["Sales"]
    assert (alice_may, bob_may) == (True, False)
    assert await mcp.groups.may_use(server.id, alice.id) is False


async def test_a_tool_is_a_published_recipe_with_a_default_scope(
    app_services: Services, services: IdentityServices
) -> None:
    connectors: ConnectorServices = app_services.connectors
    recipes: RecipeServices = app_services.recipes
    mcp = McpServices.create()
    project = await connectors.projects.ensure("Tools")
    draft = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="draft_only"), actor=SETUP)
    published = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="ready"), actor=SETUP)
    await recipes.recipes.publish(published.id, actor=SETUP)
    server = await mcp.servers.create(ServerCreate(slug="tools", name="Tools"), actor=SETUP)

    await mcp.tools.attach(server.id, ToolAttach(recipe_id=draft.id), actor=SETUP)
    ready = await mcp.tools.attach(server.id, ToolAttach(recipe_id=published.id, read_only=True), actor=SETUP)
    with pytest.raises(Conflict):
        await mcp.tools.attach(server.id, ToolAttach(recipe_id=published.id), actor=SETUP)
    with pytest.raises(InvalidInput) as bad_scope:
        await mcp.tools.update(server.id, published.id, ToolUpdate(scope="two words"), actor=SETUP)
    scoped = await mcp.tools.update(server.id, published.id, ToolUpdate(scope="tasks:read"), actor=SETUP)
    tools = await mcp.tools.list_all(server.id)
    await mcp.tools.detach(server.id, draft.id, actor=SETUP)

    assert (ready.tool_name, ready.scope, ready.read_only, ready.published_version) == (
        "ready",
        "mcp:tools:ready",
        True,
        1,
    )
    assert bad_scope.value.field == "scope"
    assert scoped.scope == "tasks:read"
    assert [(tool.tool_name, tool.published_version) for tool in tools] == [
        ("draft_only", None),
        ("ready", 1),
    ]
    assert [tool.tool_name for tool in await mcp.tools.list_all(server.id)] == ["ready"]


async def test_an_api_token_is_stored_as_a_hash_and_works_until_revoked(database: object) -> None:
    mcp = McpServices.create()
    server = await mcp.servers.create(ServerCreate(slug="jobs", name="Jobs"), actor=SETUP)
    other = await mcp.servers.create(ServerCreate(slug="other", name="Other"), actor=SETUP)
    created = await mcp.tokens.create(server.id, "nightly", actor=SETUP)
    rows = await TokenRow.select()

    assert created.secret.startswith("sbt_")
    assert all(created.secret not in str(value) for row in rows for value in row.values())
    assert await mcp.tokens.verify(server.id, created.secret) is not None
    assert await mcp.tokens.verify(other.id, created.secret) is None
    assert await mcp.tokens.verify(server.id, created.secret + "x") is None
    await mcp.tokens.revoke(server.id, created.token.id, actor=SETUP)
    assert await mcp.tokens.verify(server.id, created.secret) is None
    with pytest.raises(NotFound):
        await mcp.tokens.revoke(server.id, created.token.id, actor=SETUP)


async def test_the_standing_of_a_token_s_user_and_client_is_read_fresh(
    database: object, services: IdentityServices
) -> None:
    mcp = McpServices.create()
    server = await mcp.servers.create(ServerCreate(slug="sales", name="Sales"), actor=SETUP)
    alice = await make_user(services, "alice@example.com")
    sales = await services.groups.create(GroupCreate(name="Sales"), actor=SETUP)
    europe = await services.groups.create(GroupCreate(name="europe"), actor=SETUP)
    for group in (sales, europe):
        await services.groups.add_member(group.id, alice.email, actor=SETUP)
    created = await services.oauth.clients.create_static(
        StaticClientCreate(name="Claude", redirect_uris=["http://127.0.0.1:9/callback"]), actor=SETUP
    )
    client_id = created.client.client_id

    outside = await mcp.groups.standing(server.id, alice.id, client_id)
    await mcp.groups.add(server.id, [sales.id], actor=SETUP)
    inside = await mcp.groups.standing(server.id, alice.id, client_id)
    await services.groups.remove_member(sales.id, alice.email, actor=SETUP)
    removed = await mcp.groups.standing(server.id, alice.id, client_id)
    await services.oauth.clients.delete(client_id, actor=SETUP)
    deleted = await mcp.groups.standing(server.id, alice.id, client_id)

    assert outside == Standing(
        client_exists=True,
        is_active=True,
        email="alice@example.com",
        name="Alice",
        groups=("europe", "Sales"),
        may_use=False,
    )
    assert (inside.may_use, inside.groups) == (True, ("europe", "Sales"))  # type: ignore[union-attr]
    assert (removed.may_use, removed.groups) == (False, ("europe",))  # type: ignore[union-attr]
    assert deleted is not None
    assert deleted.client_exists is False
    assert await mcp.groups.standing(server.id, uuid4(), client_id) is None


async def test_served_settings_change_at_once_here_and_within_seconds_from_another_process(
    database: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "SERVING_TTL", 0.3)
    # two processes' views of one database
    here, elsewhere = McpServices.create().servers, McpServices.create().servers
    server = await here.create(ServerCreate(slug="sales", name="Sales"), actor=SETUP)
    assert (await here.serving("sales")).access_method is AccessMethod.IDENTITY
    assert await here.serving_tools(server.id) == []

    await here.update(server.id, ServerUpdate(name="Sales team"), actor=SETUP)
    assert (await here.serving("sales")).name == "Sales team"
    await elsewhere.update(server.id, ServerUpdate(access_method=AccessMethod.TOKEN), actor=SETUP)
    assert (await here.serving("sales")).access_method is AccessMethod.IDENTITY
    await asyncio.sleep(0.35)
    assert (await here.serving("sales")).access_method is AccessMethod.TOKEN

    await elsewhere.delete(server.id, actor=SETUP)
    await asyncio.sleep(0.35)
    with pytest.raises(NotFound):
        await here.serving("sales")
