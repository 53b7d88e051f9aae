"""Every change to an MCP server, its groups, tools and API tokens is in the audit trail, named by the
person who made it and the server it was made to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate
from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.schemas import RecipeCreate
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.web import Browserless

API = "/api/v1/servers"
ADMIN_IP = "203.0.113.50"


@pytest.fixture
async def remote_browser(app: Litestar) -> AsyncIterator[Browserless]:
    """A browser calling from ``ADMIN_IP``."""
    transport = httpx.ASGITransport(app=app, client=(ADMIN_IP, 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield Browserless(client)


@pytest.fixture
async def admin_client(services: IdentityServices, remote_browser: Browserless) -> httpx.AsyncClient:
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(remote_browser, "it@example.com")
    client.headers["user-agent"] = "it-console-script/1.0"
    return client


async def server_trail(services: IdentityServices) -> list[tuple[str, str, str, str, str]]:
    """The records about servers, oldest first: (action, actor, object type, object name, reason)."""
    records = await services.oauth.audit.search(limit=1000)
    return [
        (r.action, r.actor, r.object_type, r.object_name, r.reason)
        for r in reversed(records)
        if r.action.startswith("server.")
    ]


async def test_server_changes_are_recorded_with_the_admin_the_server_and_what_changed(
    app_services: Services, services: IdentityServices, admin_client: httpx.AsyncClient
) -> None:
    sales = await services.groups.create(GroupCreate(name="Sales"), actor=SETUP)
    project = await app_services.connectors.projects.ensure("Demo")
    recipe = await app_services.recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="lookup_invoice"), actor=SETUP
    )
    await app_services.recipes.recipes.publish(recipe.id, actor=SETUP)

    created = await admin_client.post(API, json={"slug": "finance", "name": "Finance"})
    assert created.status_code == 201, created.text
    server = created.json()["id"]
    steps = [
        admin_client.patch(f"{API}/{server}", json={"name": "Finance EU", "rate_limit_per_minute": 120}),
        admin_client.patch(f"{API}/{server}", json={"access_method": "token", "description": "Invoices"}),
        admin_client.post(f"{API}/{server}/groups", json={"group_ids": [str(sales.id)]}),
        admin_client.delete(f"{API}/{server}/groups/{sales.id}"),
        admin_client.post(f"{API}/{server}/tools", json={"recipe_id": str(recipe.id)}),
        admin_client.patch(f"{API}/{server}/tools/{recipe.id}", json={"read_only": True}),
        admin_client.delete(f"{API}/{server}/tools/{recipe.id}"),
    ]
    for step in steps:
        response = await step
        assert response.status_code < 300, response.text
    token = await admin_client.post(f"{API}/{server}/tokens", json={"name": "Billing job"})
    assert token.status_code == 201
    revoked = await admin_client.delete(f"{API}/{server}/tokens/{token.json()['token']['id']}")
    assert revoked.status_code == 204
    assert (await admin_client.delete(f"{API}/{server}")).status_code == 204

    admin = "it@example.com"
    assert await server_trail(services) == [
        ("server.created", admin, "server", "Finance", "slug finance"),
        (
            "server.changed",
            admin,
            "server",
            "Finance EU",
            "name: Finance → Finance EU; rate limit: 60 → 120 a minute",
        ),
        ("server.changed", admin, "server", "Finance EU", "description; access method: identity → token"),
        ("server.group_added", admin, "server", "Finance EU", "group Sales"),
        ("server.group_removed", admin, "server", "Finance EU", "group Sales"),
        ("server.tool_attached", admin, "server", "Finance EU", "tool lookup_invoice"),
        (
            "server.tool_changed",
            admin,
            "server",
            "Finance EU",
            "tool lookup_invoice: read_only: False → True",
        ),
        ("server.tool_detached", admin, "server", "Finance EU", "tool lookup_invoice"),
        ("server.token_created", admin, "server", "Finance EU", "token Billing job"),
        ("server.token_revoked", admin, "server", "Finance EU", "token Billing job"),
        ("server.deleted", admin, "server", "Finance EU", "slug finance"),
    ]
    records = [r for r in await services.oauth.audit.search(limit=1000) if r.action.startswith("server.")]
    assert {(r.object_id, r.ip_address, r.user_agent, r.outcome) for r in records} == {
        (server, ADMIN_IP, "it-console-script/1.0", "ok")
    }
    secret = token.json()["secret"]
    assert not any(secret in str(getattr(r, field)) for r in records for field in r.__struct_fields__)


async def test_a_builder_attaching_a_tool_is_recorded_as_that_builder(
    app_services: Services, services: IdentityServices, web: Browserless
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    builder = await signed_in(web, "maker@example.com")
    server = await app_services.mcp.servers.create(ServerCreate(slug="ops", name="Ops"), actor=SETUP)
    project = await app_services.connectors.projects.ensure("Demo")
    recipe = await app_services.recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="restart_job"), actor=SETUP
    )
    await app_services.recipes.recipes.publish(recipe.id, actor=SETUP)

    attached = await builder.post(f"{API}/{server.id}/tools", json={"recipe_id": str(recipe.id)})
    assert attached.status_code == 201
    assert (await server_trail(services))[-1] == (
        "server.tool_attached",
        "maker@example.com",
        "server",
        "Ops",
        "tool restart_job",
    )
