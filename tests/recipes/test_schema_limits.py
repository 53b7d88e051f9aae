"""A recipe's output schema is held to the limits of a connector's input schemas: each run validates the
tool's result against it, and a few hundred bytes of ``$ref``s can stand for millions of values. A draft
whose output schema passes them has that problem on save and is refused on publish, over the API as in
the console."""

from __future__ import annotations

import time
from typing import Any

from switchboard.connectors.connections.models import Project
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import RecipeCreate
from tests.connectors.oversized import reference_bomb
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.web import Browserless

TOO_MANY = "the output schema holds more than 20,000 values once its references are expanded"


def draft_with(output_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "trigger": {"name": "summarize", "output_schema": output_schema},
        "steps": [{"type": "result", "id": "step_1", "text": "Done", "structured": {"summary": "ok"}}],
    }


async def test_an_output_schema_of_references_standing_for_too_much_cannot_be_published(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)

    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft_with(reference_bomb()))
    published = await client.post(f"/api/v1/recipes/{recipe.id}/publish")

    assert saved.status_code == 200, saved.text
    problem = {"step": "trigger", "field": "output_schema", "message": TOO_MANY, "step_id": ""}
    assert saved.json()["problems"] == [problem]
    assert published.status_code == 422
    assert published.json()["error"] == "recipe_invalid"
    assert published.json()["problems"] == [problem]
    assert (await recipes.recipes.get(recipe.id)).published_version is None


async def test_an_output_schema_nested_too_deeply_once_expanded_cannot_be_published(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)
    # 40 levels written out, each reached through a reference that adds one more: 80 once expanded.
    definitions = {
        f"d{level}": {"properties": {"next": {"$ref": f"#/$defs/d{level + 1}"}}} for level in range(40)
    }
    definitions["d40"] = {"type": "string"}
    deep = {"type": "object", "$defs": definitions, "properties": {"summary": {"$ref": "#/$defs/d0"}}}

    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft_with(deep))
    published = await client.post(f"/api/v1/recipes/{recipe.id}/publish")

    assert [problem["message"] for problem in saved.json()["problems"]] == [
        "the output schema nests deeper than 64 levels once its references are expanded"
    ]
    assert published.status_code == 422


async def test_an_output_schema_with_recursive_references_within_the_limits_is_published(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)
    tree = {
        "type": "object",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            }
        },
        "properties": {"summary": {"type": "string"}, "tree": {"$ref": "#/$defs/node"}},
    }

    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft_with(tree))
    published = await client.post(f"/api/v1/recipes/{recipe.id}/publish")

    assert saved.json()["problems"] == []
    assert published.status_code == 201, published.text


async def test_an_output_schema_may_name_its_properties_like_schema_keywords(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)
    # A record as a JSON-LD document names its fields "$id" and "$ref"; the JSON Schema metaschema too.
    record = {
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "$id": {"type": "string"},
            "$ref": {"type": "string"},
            "schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        },
    }

    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft_with(record))
    published = await client.post(f"/api/v1/recipes/{recipe.id}/publish")

    assert saved.status_code == 200, saved.text
    assert saved.json()["problems"] == []
    assert published.status_code == 201, published.text


async def test_a_draft_whose_output_schema_stands_for_too_much_test_runs_into_the_problem_at_once(
    services: IdentityServices, web: Browserless, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="summarize"), actor=SETUP)
    await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft_with(reference_bomb()))

    started = time.monotonic()
    tested = await client.post(f"/api/v1/recipes/{recipe.id}/test", json={"input": {}})

    assert time.monotonic() - started < 1
    assert tested.status_code == 201, tested.text
    run = tested.json()
    assert run["outcome"] == "failed"
    assert f"the tool's output schema cannot be used: {TOO_MANY}" in run["message"]
