"""Creating, importing, publishing and deleting a recipe is in the audit trail, by the builder who did it."""

from __future__ import annotations

from switchboard.connectors.connections.models import Project
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from tests.identity.support import make_user, signed_in
from tests.support.web import Browserless


async def test_a_recipe_created_published_imported_and_deleted_over_the_api_is_audited(
    services: IdentityServices, web: Browserless, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    client.headers["user-agent"] = "recipe-sync/3"

    created = await client.post(
        "/api/v1/recipes", json={"project_id": str(project.id), "name": "create_task"}
    )
    recipe_id = created.json()["id"]
    assert (await client.post(f"/api/v1/recipes/{recipe_id}/publish")).status_code == 201
    exported = await client.get(f"/api/v1/recipes/{recipe_id}/export")
    imported = await client.post(
        "/api/v1/recipes/import",
        params={"project_id": str(project.id), "replace": "true"},
        content=exported.content,
        headers={"content-type": "application/json"},
    )
    assert imported.status_code == 201, imported.text
    assert (await client.delete(f"/api/v1/recipes/{recipe_id}")).status_code == 204

    records = [r for r in await services.oauth.audit.search(limit=100) if r.object_type == "recipe"]
    assert [(r.action, r.actor, r.object_id, r.object_name, r.reason) for r in reversed(records)] == [
        ("recipe.created", "maker@example.com", recipe_id, "create_task", f"project {project.name}"),
        ("recipe.published", "maker@example.com", recipe_id, "create_task", "version 1"),
        ("recipe.imported", "maker@example.com", recipe_id, "create_task", "the document replaced the draft"),
        ("recipe.deleted", "maker@example.com", recipe_id, "create_task", f"project {project.name}"),
    ]
    assert {(r.ip_address, r.user_agent, r.outcome) for r in records} == {
        ("127.0.0.1", "recipe-sync/3", "ok")
    }
