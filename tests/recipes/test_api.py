"""/api/v1/recipes: builders manage recipes over the API; members and strangers are kept out."""

from __future__ import annotations

import msgspec

from switchboard.connectors.connections.models import Connection, Project
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import RecipeCreate
from tests.identity.support import make_user, signed_in
from tests.recipes.test_service import create_task_recipe
from tests.support.actors import SETUP
from tests.support.web import Browserless


async def test_a_builder_creates_saves_publishes_exports_and_imports_over_the_api(
    services: IdentityServices,
    web: Browserless,
    recipes: RecipeServices,
    project: Project,
    tasks_connection: Connection,
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")

    created = await client.post(
        "/api/v1/recipes", json={"project_id": str(project.id), "name": "create_task"}
    )
    assert created.status_code == 201, created.text
    recipe_id = created.json()["id"]
    assert created.json()["status"] == "draft"

    draft = create_task_recipe(tasks_connection)
    saved = await client.put(
        f"/api/v1/recipes/{recipe_id}/draft",
        content=msgspec.json.encode(draft),
        headers={"content-type": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["problems"] == []

    detail = (await client.get(f"/api/v1/recipes/{recipe_id}")).json()
    assert detail["input_schema"]["required"] == ["title"]
    assert detail["input_schema"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    published = await client.post(f"/api/v1/recipes/{recipe_id}/publish")
    assert (published.status_code, published.json()["number"]) == (201, 1)

    exported = await client.get(f"/api/v1/recipes/{recipe_id}/export")
    assert exported.status_code == 200
    assert str(tasks_connection.id) not in exported.text

    other = await client.get("/api/v1/recipes", params={"project_id": str(project.id)})
    assert [r["tool_name"] for r in other.json()] == ["create_task"]

    refused = await client.post(
        "/api/v1/recipes/import",
        params={"project_id": str(project.id)},
        content=exported.content,
        headers={"content-type": "application/json"},
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"


async def test_publishing_a_recipe_with_problems_answers_422_with_every_problem(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="broken"), actor=SETUP)
    draft = {"trigger": {"name": "broken"}, "steps": [{"type": "action", "id": "step_1"}]}
    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft)
    assert saved.status_code == 200
    problems = saved.json()["problems"]
    assert problems

    refused = await client.post(f"/api/v1/recipes/{recipe.id}/publish")
    assert refused.status_code == 422
    assert refused.json()["error"] == "recipe_invalid"
    assert refused.json()["problems"] == problems


async def test_members_and_strangers_cannot_use_the_recipes_api(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=SETUP)
    calls = [
        ("GET", "/api/v1/recipes"),
        ("POST", "/api/v1/recipes"),
        ("GET", f"/api/v1/recipes/{recipe.id}"),
        ("PUT", f"/api/v1/recipes/{recipe.id}/draft"),
        ("POST", f"/api/v1/recipes/{recipe.id}/publish"),
        ("DELETE", f"/api/v1/recipes/{recipe.id}"),
        ("GET", f"/api/v1/recipes/{recipe.id}/export"),
        ("POST", f"/api/v1/recipes/{recipe.id}/test"),
        ("GET", f"/api/v1/recipes/{recipe.id}/runs"),
    ]
    for method, path in calls:
        response = await web.client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
    await make_user(services, "member@example.com", Role.MEMBER)
    client = await signed_in(web, "member@example.com")
    for method, path in calls:
        response = await client.request(method, path, json={})
        assert (response.status_code, response.json()["error"]) == (403, "permission_denied"), (method, path)
    assert (await recipes.recipes.get(recipe.id)).draft.trigger.name == "lookup"


async def test_publishing_a_draft_identical_to_the_published_version_answers_409_and_adds_no_version(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=SETUP)
    assert (await client.post(f"/api/v1/recipes/{recipe.id}/publish")).status_code == 201

    again = await client.post(f"/api/v1/recipes/{recipe.id}/publish")
    assert again.status_code == 409
    assert again.json()["error"] == "nothing_changed"
    assert again.json()["message"] == "Nothing changed since version 1."
    assert again.json()["version"] == 1
    versions = await client.get(f"/api/v1/recipes/{recipe.id}/versions")
    assert [v["number"] for v in versions.json()] == [1]
