"""Recipes as builders keep them: drafts, published versions, restore, export and import."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.errors import RecipeInvalid
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)
from switchboard.recipes.schemas import RecipeCreate
from tests.recipes.conftest import demo_tasks_connection

pytestmark = pytest.mark.both_engines


def create_task_recipe(connection: Connection, *, name: str = "create_task") -> RecipeDefinition:
    return RecipeDefinition(
        trigger=ToolTrigger(
            name=name,
            title="Create a task",
            parameters=(Parameter(name="title", required=True, description="What is to be done."),),
        ),
        steps=(
            ActionStep(
                id="step_1",
                connector="demo-tasks",
                action="create_task",
                connection=ConnectionRef(name=connection.name, id=connection.id),
                inputs={"title": "{{ input.title }}"},
            ),
            ResultStep(id="step_2", text="Created {{ steps.step_1.title }}."),
        ),
    )


async def test_a_new_recipe_is_a_draft_with_a_result_step_and_no_problems(
    recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="say_hello", title="Say hello"), actor=builder
    )
    assert (recipe.tool_name, recipe.title, recipe.status, recipe.published_version) == (
        "say_hello",
        "Say hello",
        "draft",
        None,
    )
    assert [type(step).__name__ for step in recipe.draft.steps] == ["ResultStep"]
    assert recipe.created_by == builder.email
    assert await recipes.recipes.check(recipe.id) == []


@pytest.mark.parametrize("name", ["Hello", "1st", "with-dash", "", "a" * 65])
async def test_a_tool_name_outside_the_pattern_is_refused(
    recipes: RecipeServices, project: Project, builder: Principal, name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await recipes.recipes.create(RecipeCreate(project_id=project.id, name=name), actor=builder)
    assert refused.value.field == "name"
    assert "lower-case letters, digits and _" in refused.value.message


async def test_a_tool_name_is_unique_per_project_only(
    recipes: RecipeServices, connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    with pytest.raises(Conflict) as refused:
        await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    assert refused.value.field == "name"
    other = await connectors.projects.ensure("Support tools")
    elsewhere = await recipes.recipes.create(RecipeCreate(project_id=other.id, name="lookup"), actor=builder)
    assert elsewhere.project_name == "Support tools"


async def test_a_tool_name_finds_the_recipe_of_each_project_that_has_it(
    recipes: RecipeServices, connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    here = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    other = await connectors.projects.ensure("Support tools")
    there = await recipes.recipes.create(RecipeCreate(project_id=other.id, name="lookup"), actor=builder)
    await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup_more"), actor=builder)

    found = await recipes.recipes.find_by_tool_name("lookup")

    assert sorted((recipe.project_name, recipe.id) for recipe in found) == sorted(
        [(project.name, here.id), ("Support tools", there.id)]
    )
    assert await recipes.recipes.find_by_tool_name("nothing_here") == []


async def test_a_recipe_is_created_only_in_a_project_that_exists(
    recipes: RecipeServices, builder: Principal
) -> None:
    missing = RecipeCreate(project_id=UUID(int=7), name="lookup")
    with pytest.raises(NotFound) as refused:
        await recipes.recipes.create(missing, actor=builder)
    assert (refused.value.field, refused.value.message) == ("project_id", "No such project.")
    assert await recipes.recipes.list_all() == []


async def test_members_cannot_create_edit_publish_or_delete_recipes(
    recipes: RecipeServices, project: Project, builder: Principal, member: Principal
) -> None:
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    with pytest.raises(PermissionDenied):
        await recipes.recipes.create(RecipeCreate(project_id=project.id, name="other"), actor=member)
    with pytest.raises(PermissionDenied):
        await recipes.recipes.save_draft(recipe.id, recipe.draft, actor=member)
    with pytest.raises(PermissionDenied):
        await recipes.recipes.publish(recipe.id, actor=member)
    with pytest.raises(PermissionDenied):
        await recipes.recipes.delete(recipe.id, actor=member)
    assert (await recipes.recipes.get(recipe.id)).published_version is None


async def test_a_draft_with_problems_is_saved_but_not_published(
    recipes: RecipeServices, project: Project, builder: Principal, tasks_connection: Connection
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    broken = create_task_recipe(tasks_connection)
    broken = msgspec.structs.replace(broken, steps=broken.steps[:1])  # no result step
    saved = await recipes.recipes.save_draft(recipe.id, broken, actor=builder)
    assert saved.recipe.draft == broken
    assert [(problem.step, problem.message) for problem in saved.problems if problem.step == ""]
    with pytest.raises(RecipeInvalid) as refused:
        await recipes.recipes.publish(recipe.id, actor=builder)
    assert refused.value.problems == saved.problems
    assert refused.value.code == "recipe_invalid"
    assert (await recipes.recipes.get(recipe.id)).published_version is None
    assert await recipes.recipes.versions(recipe.id) == []


async def test_publishing_freezes_a_version_that_later_draft_edits_do_not_change(
    recipes: RecipeServices, project: Project, builder: Principal, tasks_connection: Connection
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    first = create_task_recipe(tasks_connection)
    await recipes.recipes.save_draft(recipe.id, first, actor=builder)
    version = await recipes.recipes.publish(recipe.id, actor=builder)
    assert (version.number, version.definition, version.published_by) == (1, first, builder.email)
    assert (await recipes.recipes.get(recipe.id)).status == "published"

    edited = msgspec.structs.replace(first, description="Now with a description")
    await recipes.recipes.save_draft(recipe.id, edited, actor=builder)
    current = await recipes.recipes.get(recipe.id)
    assert (current.status, current.published_version) == ("changed", 1)
    assert (await recipes.recipes.published(recipe.id)).definition == first

    second = await recipes.recipes.publish(recipe.id, actor=builder)
    assert second.number == 2
    assert (await recipes.recipes.published(recipe.id)).definition == edited
    assert [v.number for v in await recipes.recipes.versions(recipe.id)] == [2, 1]
    assert (await recipes.recipes.version(recipe.id, 1)).definition == first


async def test_an_earlier_version_can_be_restored_as_the_draft(
    recipes: RecipeServices, project: Project, builder: Principal, tasks_connection: Connection
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    first = create_task_recipe(tasks_connection)
    await recipes.recipes.save_draft(recipe.id, first, actor=builder)
    await recipes.recipes.publish(recipe.id, actor=builder)
    await recipes.recipes.save_draft(
        recipe.id, msgspec.structs.replace(first, description="v2"), actor=builder
    )
    await recipes.recipes.publish(recipe.id, actor=builder)

    restored = await recipes.recipes.restore(recipe.id, 1, actor=builder)
    assert restored.recipe.draft == first
    # Restoring changes the draft only: tools keep running version 2 until it is published.
    assert (await recipes.recipes.published(recipe.id)).number == 2
    with pytest.raises(NotFound):
        await recipes.recipes.restore(recipe.id, 7, actor=builder)


async def test_a_recipe_never_published_has_no_version_for_tools(
    recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    with pytest.raises(NotFound) as refused:
        await recipes.recipes.published(recipe.id)
    assert refused.value.message == "This recipe is not published yet."


async def test_an_export_names_connections_and_holds_no_ids_or_secrets(
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
    tasks_connection: Connection,
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    await recipes.recipes.save_draft(recipe.id, create_task_recipe(tasks_connection), actor=builder)
    document = await recipes.recipes.export(recipe.id)
    text = msgspec.json.encode(document).decode()
    assert '"format":"switchboard-recipe"' in text
    assert str(tasks_connection.id) not in text
    assert "not-used-here" not in text  # the connection's client secret
    step = document.definition.steps[0]
    assert isinstance(step, ActionStep)
    assert step.connection == ConnectionRef(name="Demo Tasks")


async def test_an_import_finds_connections_by_name_in_the_target_project(
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
    tasks_connection: Connection,
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    await recipes.recipes.save_draft(recipe.id, create_task_recipe(tasks_connection), actor=builder)
    document = await recipes.recipes.export(recipe.id)

    other = await connectors.projects.ensure("Support tools")
    theirs = await demo_tasks_connection(connectors, other, builder)
    imported = await recipes.recipes.import_document(other.id, document, actor=builder)
    step = imported.recipe.draft.steps[0]
    assert isinstance(step, ActionStep)
    assert step.connection == ConnectionRef(name="Demo Tasks", id=theirs.id)
    assert imported.problems == []

    empty = await connectors.projects.ensure("Empty")
    orphan = await recipes.recipes.import_document(empty.id, document, actor=builder)
    [problem] = orphan.problems
    assert (problem.step, problem.field) == ("1", "connection")


async def test_importing_over_an_existing_tool_name_needs_replace(
    recipes: RecipeServices, project: Project, builder: Principal, tasks_connection: Connection
) -> None:
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_task"), actor=builder
    )
    document = RecipeDocument(
        format="switchboard-recipe", format_version=1, definition=create_task_recipe(tasks_connection)
    )
    with pytest.raises(Conflict) as refused:
        await recipes.recipes.import_document(project.id, document, actor=builder)
    assert "import it with replace" in refused.value.message
    replaced = await recipes.recipes.import_document(project.id, document, actor=builder, replace=True)
    assert replaced.recipe.id == recipe.id
    assert replaced.recipe.draft.steps[0] == create_task_recipe(tasks_connection).steps[0]


async def test_a_document_of_another_format_is_refused_naming_the_field() -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.json.decode(b'{"format": "n8n", "format_version": 1, "definition": {}}', type=RecipeDocument)
    assert "$.format" in str(refused.value)


async def test_a_project_with_recipes_cannot_be_deleted(
    recipes: RecipeServices, connectors: ConnectorServices, builder: Principal
) -> None:
    project = await connectors.projects.ensure("Short lived")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="lookup"), actor=builder)
    with pytest.raises(Conflict) as refused:
        await connectors.projects.delete(project.id, actor=builder)
    assert refused.value.message == "Delete the project's recipes first."
    await recipes.recipes.delete(recipe.id, actor=builder)
    await connectors.projects.delete(project.id, actor=builder)
    assert await connectors.projects.find("Short lived") is None
