"""/api/v1/servers and /api/v1/tool-calls: admins manage MCP servers over the API, builders read them and
attach tools, members and strangers are kept out."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate
from switchboard.platform.mcp.audit import ToolCall
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import Recipe, RecipeCreate
from tests.identity.support import ADMINS_ONLY, SIGN_IN_REQUIRED, answer, error, make_user, signed_in
from tests.support.actors import SETUP
from tests.support.web import Browserless

API = "/api/v1/servers"
BASE = "http://testserver.local"
BUILDERS_ONLY = {"error": "permission_denied", "message": "Only builders and admins can open this."}


@pytest.fixture
def mcp(app_services: Services) -> McpServices:
    return app_services.mcp


async def published(services: Services, name: str) -> Recipe:
    recipes: RecipeServices = services.recipes
    project = await services.connectors.projects.ensure("Demo")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name=name), actor=SETUP)
    await recipes.recipes.publish(recipe.id, actor=SETUP)
    return await recipes.recipes.get(recipe.id)


async def test_an_admin_creates_a_server_gives_it_groups_tools_and_a_token_then_deletes_it(
    app_services: Services, services: IdentityServices, web: Browserless, mcp: McpServices
) -> None:
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")
    sales = await services.groups.create(GroupCreate(name="Sales"), actor=SETUP)
    support = await services.groups.create(GroupCreate(name="Support"), actor=SETUP)
    recipe = await published(app_services, "lookup_invoice")

    created = await client.post(
        API,
        json={"slug": "finance", "name": "Finance", "instructions": "Invoices.", "rate_limit_per_minute": 10},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    server_id = body["id"]
    assert {key: body[key] for key in ("slug", "url", "name", "access_method", "rate_limit_per_minute")} == {
        "slug": "finance",
        "url": f"{BASE}/mcp/finance",
        "name": "Finance",
        "access_method": "identity",
        "rate_limit_per_minute": 10,
    }
    assert (body["groups"], body["tools"]) == ([], [])

    groups = await client.post(
        f"{API}/{server_id}/groups", json={"group_ids": [str(sales.id), str(support.id)]}
    )
    assert groups.status_code == 200
    assert [g["name"] for g in groups.json()["groups"]] == ["Sales", "Support"]
    removed = await client.delete(f"{API}/{server_id}/groups/{support.id}")
    assert [g["name"] for g in removed.json()["groups"]] == ["Sales"]

    tool = await client.post(
        f"{API}/{server_id}/tools", json={"recipe_id": str(recipe.id), "destructive": True}
    )
    assert tool.status_code == 201
    assert {key: tool.json()[key] for key in ("tool_name", "scope", "read_only", "destructive")} == {
        "tool_name": "lookup_invoice",
        "scope": "mcp:tools:lookup_invoice",
        "read_only": False,
        "destructive": True,
    }
    changed = await client.patch(f"{API}/{server_id}/tools/{recipe.id}", json={"scope": "mcp:tools:*"})
    assert changed.json()["scope"] == "mcp:tools:*"
    assert [t["tool_name"] for t in (await client.get(f"{API}/{server_id}")).json()["tools"]] == [
        "lookup_invoice"
    ]

    patched = await client.patch(
        f"{API}/{server_id}", json={"access_method": "token", "name": "Finance jobs"}
    )
    assert (patched.json()["access_method"], patched.json()["name"], patched.json()["slug"]) == (
        "token",
        "Finance jobs",
        "finance",
    )
    token = await client.post(f"{API}/{server_id}/tokens", json={"name": "Nightly"})
    assert token.status_code == 201
    secret = token.json()["secret"]
    assert await mcp.servers.verify_token(patched.json()["id"], secret) is not None
    listed = await client.get(f"{API}/{server_id}/tokens")
    assert [t["name"] for t in listed.json()] == ["Nightly"]
    assert secret not in listed.text
    revoked = await client.delete(f"{API}/{server_id}/tokens/{token.json()['token']['id']}")
    assert revoked.status_code == 204
    assert await mcp.servers.verify_token(patched.json()["id"], secret) is None

    detached = await client.delete(f"{API}/{server_id}/tools/{recipe.id}")
    assert detached.status_code == 204
    deleted = await client.delete(f"{API}/{server_id}")
    assert deleted.status_code == 204
    assert answer(await client.get(f"{API}/{server_id}")) == error(
        404, "not_found", "There is no such MCP server.", "server_id"
    )


async def test_bad_server_input_is_refused_with_the_field_named(
    services: IdentityServices, web: Browserless, mcp: McpServices
) -> None:
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")
    await mcp.servers.create(ServerCreate(slug="demo", name="Demo"), actor=SETUP)
    cases = [
        (
            {"slug": "Demo!", "name": "x"},
            422,
            "Use lower-case letters, digits and hyphens (at most 64, not starting or ending with a hyphen).",
            "slug",
        ),
        ({"slug": "demo", "name": "Again"}, 409, "There is already an MCP server demo.", "slug"),
        (
            {"slug": "ok", "name": "Ok", "rate_limit_per_minute": 100_001},
            422,
            "Enter a number of requests a minute from 0 (no limit) to 100000.",
            "rate_limit_per_minute",
        ),
    ]
    for body, status, message, field in cases:
        response = await client.post(API, json=body)
        assert (response.status_code, response.json()["message"], response.json().get("field")) == (
            status,
            message,
            field,
        ), body
    unknown = await client.post(API, json={"slug": "ok", "name": "Ok", "owner": "me"})
    assert unknown.status_code == 422
    assert "owner" in unknown.json()["message"]
    server = (await mcp.servers.list_all())[0]
    empty = await client.post(f"{API}/{server.id}/groups", json={"group_ids": []})
    assert answer(empty) == error(422, "invalid_input", "Choose at least one user group.", "group_ids")
    missing = await client.post(f"{API}/{server.id}/groups", json={"group_ids": [str(uuid4())]})
    assert answer(missing) == error(404, "not_found", "There is no such user group.", "group_ids")
    assert [s.slug for s in await mcp.servers.list_all()] == ["demo"]


async def test_builders_read_servers_and_attach_tools_but_change_nothing_else(
    app_services: Services, services: IdentityServices, web: Browserless, mcp: McpServices
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    server = await mcp.servers.create(ServerCreate(slug="demo", name="Demo"), actor=SETUP)
    group = await services.groups.create(GroupCreate(name="Sales"), actor=SETUP)
    recipe = await published(app_services, "whoami")
    assert [s["slug"] for s in (await client.get(API)).json()] == ["demo"]
    attached = await client.post(f"{API}/{server.id}/tools", json={"recipe_id": str(recipe.id)})
    assert attached.status_code == 201
    refused = [
        ("POST", API, {"slug": "mine", "name": "Mine"}),
        ("PATCH", f"{API}/{server.id}", {"name": "Renamed"}),
        ("DELETE", f"{API}/{server.id}", None),
        ("POST", f"{API}/{server.id}/groups", {"group_ids": [str(group.id)]}),
        ("DELETE", f"{API}/{server.id}/groups/{group.id}", None),
        ("GET", f"{API}/{server.id}/tokens", None),
        ("POST", f"{API}/{server.id}/tokens", {"name": "Mine"}),
        ("GET", "/api/v1/tool-calls", None),
    ]
    for method, path, body in refused:
        response = await client.request(method, path, json=body)
        assert answer(response) == (403, ADMINS_ONLY), (method, path)
    after = await mcp.servers.get(server.id)
    assert (after.name, after.groups, await mcp.tokens.list_all(server.id)) == ("Demo", (), [])


async def test_members_and_strangers_are_kept_out(
    app_services: Services, services: IdentityServices, web: Browserless, mcp: McpServices
) -> None:
    server = await mcp.servers.create(ServerCreate(slug="demo", name="Demo"), actor=SETUP)
    recipe = await published(app_services, "whoami")
    calls = [
        ("GET", API, None),
        ("GET", f"{API}/{server.id}", None),
        ("POST", f"{API}/{server.id}/tools", {"recipe_id": str(recipe.id)}),
        ("DELETE", f"{API}/{server.id}", None),
    ]
    for method, path, body in calls:  # nobody signed in yet
        assert answer(await web.client.request(method, path, json=body)) == (401, SIGN_IN_REQUIRED), path
    await make_user(services, "member@example.com")
    member = await signed_in(web, "member@example.com")
    for method, path, body in calls:
        assert answer(await member.request(method, path, json=body)) == (403, BUILDERS_ONLY), path
    assert await mcp.servers.tools(server.id) == []
    assert [s.slug for s in await mcp.servers.list_all()] == ["demo"]


@pytest.mark.both_engines
async def test_an_admin_api_token_reads_the_tool_calls_with_filters(
    services: IdentityServices, web: Browserless, mcp: McpServices
) -> None:
    owner = await make_user(services, "it@example.com", Role.ADMIN)
    acting = Principal(user_id=owner.id, email=owner.email, name="", role=Role.ADMIN, via="session")
    token = await services.api_tokens.create("reports", actor=acting)
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for user, outcome in (("alice@example.com", "succeeded"), ("bob@example.com", "failed")):
        await mcp.calls.record(
            ToolCall(
                id=uuid4(),
                at=at,
                server_slug="demo",
                tool="whoami",
                user_email=user,
                client_id="c",
                outcome=outcome,
                duration_ms=3,
            )
        )
    headers = {"authorization": f"Bearer {token.token}"}
    response = await web.client.get("/api/v1/tool-calls", params={"outcome": "failed"}, headers=headers)
    assert response.status_code == 200, response.text
    assert [(c["user_email"], c["outcome"], c["tool"]) for c in response.json()] == [
        ("bob@example.com", "failed", "whoami")
    ]
    everything = await web.client.get("/api/v1/tool-calls", headers=headers)
    assert len(everything.json()) == 2
    bad = await web.client.get("/api/v1/tool-calls", params={"outcome": "boom"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "outcome"
