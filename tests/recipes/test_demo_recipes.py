"""The demo's published recipes: whoami tells callers who they are; the Demo Tasks ones use their account."""

from __future__ import annotations

import msgspec

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import seed_demo, seed_demo_recipes, seed_demo_tasks
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.outcomes import Outcome
from switchboard.recipes.schemas import Recipe


async def seeded(
    settings: Settings, services: IdentityServices, connectors: ConnectorServices, recipes: RecipeServices
) -> dict[str, Recipe]:
    await seed_demo(services)
    # Demo Tasks' host must be https or loopback; the test server's name is neither.
    await seed_demo_tasks(msgspec.structs.replace(settings, base_url="http://127.0.0.1:8000"), connectors)
    created = await seed_demo_recipes(connectors, recipes)
    assert created == [
        "recipe whoami (published version 1)",
        "recipe list_tasks (published version 1)",
        "recipe create_task (published version 1)",
    ]
    return {recipe.tool_name: recipe for recipe in await recipes.recipes.list_all()}


async def test_the_demo_recipes_are_published_once_and_left_alone_afterwards(
    settings: Settings, services: IdentityServices, connectors: ConnectorServices, recipes: RecipeServices
) -> None:
    found = await seeded(settings, services, connectors, recipes)
    assert sorted(found) == ["create_task", "list_tasks", "whoami"]
    assert await seed_demo_recipes(connectors, recipes) == []
    for recipe in await recipes.recipes.list_all():
        assert (recipe.status, recipe.published_version, recipe.project_name) == ("published", 1, "Demo")
        assert await recipes.recipes.check(recipe.id) == []


async def test_the_demo_seed_names_no_person_as_the_author_of_what_it_made(
    settings: Settings, services: IdentityServices, connectors: ConnectorServices, recipes: RecipeServices
) -> None:
    found = await seeded(settings, services, connectors, recipes)

    assert [(c.name, c.created_by) for c in await connectors.connections.list_all()] == [("Demo Tasks", "")]
    for recipe in found.values():
        version = await recipes.recipes.published(recipe.id)
        assert (recipe.created_by, recipe.updated_by, version.published_by) == ("", "", "")


async def test_whoami_answers_with_the_callers_email_and_groups(
    settings: Settings, services: IdentityServices, connectors: ConnectorServices, recipes: RecipeServices
) -> None:
    found = await seeded(settings, services, connectors, recipes)
    whoami = found["whoami"]
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    report = await recipes.running.call_tool(whoami.id, {}, await recipes.running.caller(alice.id))
    assert report.outcome is Outcome.SUCCEEDED, report.message
    assert report.result is not None
    assert report.result.text == "You are alice@example.com, in Sales."
    assert report.result.structured == {"email": "alice@example.com", "groups": ["Sales"]}
    bob = await services.users.find_by_email("bob@example.com")
    assert bob is not None
    report = await recipes.running.call_tool(whoami.id, {}, await recipes.running.caller(bob.id))
    assert report.result is not None
    assert report.result.text == "You are bob@example.com, in no group."
    assert report.result.structured == {"email": "bob@example.com", "groups": []}


async def test_create_task_asks_a_caller_who_never_connected_demo_tasks_to_connect(
    settings: Settings, services: IdentityServices, connectors: ConnectorServices, recipes: RecipeServices
) -> None:
    found = await seeded(settings, services, connectors, recipes)
    alice = await services.users.find_by_email("alice@example.com")
    assert alice is not None
    report = await recipes.running.call_tool(
        found["create_task"].id,
        {"title": "Call Bob"},
        await recipes.running.caller(alice.id),
    )
    assert report.outcome is Outcome.CONNECTION_REQUIRED
    assert report.connect_url.startswith("http://testserver.local/connect/")
    assert report.app_name == "Demo Tasks"
    assert report.connect_url in report.message
