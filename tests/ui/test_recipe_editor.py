"""Console → Recipes → the editor: who may edit, every edit stored as the draft, problems shown where they
are, refusals on the field, publishing, test runs, and the connection form opened from a step."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest

from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    IfStep,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)
from switchboard.recipes.schemas import Recipe, RecipeCreate
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.recipes.conftest import demo_tasks_connection
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

BUILDER = "builder@example.com"
MEMBER = "member@example.com"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def recipes(app_services: Services) -> RecipeServices:
    return app_services.recipes


@pytest.fixture
async def builder(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, BUILDER, Role.BUILDER))


@pytest.fixture
async def project(connectors: ConnectorServices) -> Project:
    return await connectors.projects.ensure("Sales tools")


@pytest.fixture
async def recipe(recipes: RecipeServices, project: Project, builder: Principal) -> Recipe:
    return await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="create_ticket", title="Create a ticket"), actor=builder
    )


@pytest.fixture
async def as_builder(web: Browserless, builder: Principal) -> Browserless:
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


@pytest.fixture
async def tasks(connectors: ConnectorServices, project: Project, builder: Principal) -> Connection:
    return await demo_tasks_connection(connectors, project, builder)


def editor(recipe: Recipe) -> str:
    return f"/console/recipes/{recipe.id}"


async def post(
    web: Browserless, recipe: Recipe, path: str, data: dict[str, Any], *, htmx: bool = True
) -> httpx.Response:
    """Post a form of the editor as the page does (htmx), with the CSRF token of the editor page."""
    token = csrf_from((await web.client.get(editor(recipe))).text)
    return await web.client.post(
        editor(recipe) + path,
        data={"_csrf_token": token, **data},
        headers=HTMX if htmx else {},
        follow_redirects=False,
    )


async def draft(recipes: RecipeServices, recipe: Recipe) -> RecipeDefinition:
    return (await recipes.recipes.get(recipe.id)).draft


async def save(recipes: RecipeServices, recipe: Recipe, definition: RecipeDefinition) -> None:
    await recipes.recipes.save_draft(recipe.id, definition, actor=SETUP)


def trigger_form(**changes: str) -> dict[str, str]:
    return {"op": "save", "name": "create_ticket", "title": "Create a ticket", **changes}


# --- who may ----------------------------------------------------------------------------------------


async def test_members_and_signed_out_people_are_refused_every_editor_route_and_nothing_changes(
    web: Browserless, services: IdentityServices, recipes: RecipeServices, recipe: Recipe
) -> None:
    before = await draft(recipes, recipe)
    assert (await web.client.get(editor(recipe), follow_redirects=False)).headers["location"] == (
        "/login?next=" + quote(editor(recipe), safe="")
    )
    await make_user(services, MEMBER)
    assert (await web.sign_in(MEMBER, PASSWORD)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    step = before.steps[0].id
    posts = [
        ("/trigger", trigger_form(name="hijacked")),
        ("/steps", {"step_type": "action"}),
        (f"/steps/{step}", {"op": "save", "text": "hijacked"}),
        (f"/steps/{step}/move", {"direction": "up"}),
        (f"/steps/{step}/delete", {}),
        ("/test", {}),
        ("/publish", {}),
    ]
    response = await web.client.get(editor(recipe))
    assert response.status_code == 403
    assert "Only builders and admins can open this." in Page(response.text).text
    for path, data in posts:
        response = await web.client.post(
            editor(recipe) + path, data={"_csrf_token": token, **data}, headers=HTMX, follow_redirects=False
        )
        assert response.status_code == 403, path
    stored = await recipes.recipes.get(recipe.id)
    assert (stored.draft, stored.published_version) == (before, None)
    assert await recipes.runs.list_for(recipe.id) == []


async def test_an_edit_without_the_csrf_token_is_refused(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await as_builder.client.get(editor(recipe))
    response = await as_builder.client.post(
        editor(recipe) + "/steps", data={"step_type": "action"}, headers=HTMX, follow_redirects=False
    )
    assert response.status_code == 403
    assert len((await draft(recipes, recipe)).steps) == 1


# --- the page ---------------------------------------------------------------------------------------


async def test_the_editor_numbers_nested_steps_and_lists_each_problem_with_a_link_to_its_step(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await save(
        recipes,
        recipe,
        RecipeDefinition(
            trigger=ToolTrigger(name="create_ticket", title="Create a ticket"),
            steps=(
                IfStep(id="step_1", then=(ActionStep(id="step_2"),)),
                ResultStep(id="step_3", text="Done"),
            ),
        ),
    )
    response = await as_builder.client.get(editor(recipe))
    assert response.status_code == 200
    page = Page(response.text)
    headings = [" ".join(h.text.split()) for h in page.all("h3")]
    assert headings[:3] == [
        "Step 1 If / else If / else",
        "Step 1.1 Action Action",
        "Step 2 Return result Return result",
    ]
    problems = page.by_id("problems")
    links = {
        a.attrs["href"]: " ".join(a.text.split())
        for a in page.all("a")
        if a.attrs.get("href", "").startswith("#step-")
    }
    assert any(text.startswith("Step 1.1, connector") for text in links.values()), links
    assert all(href in ("#step-step_1", "#step-step_2", "#step-step_3") for href in links)
    assert "Problems (" in problems.text
    # The same problem beside the step concerned.
    assert "Step 1.1" in page.by_id("step-step_2-problems").text
    assert page.by_id("recipe-status").text == "Draft"
    # A problem of a condition is also beside that condition's field.
    assert page.error_next_to(page.field("conditions.1.left")) == (
        "required: the value to check, such as a data pill"
    )
    assert not page.duplicate_ids()
    unlabelled = [c for c in page.fillable_controls() if not page.label_for(c)]
    assert unlabelled == []
    for name in ("Versions", "Job history", "Export"):
        assert [a.attrs["href"] for a in page.all("a") if a.text.strip() == name] == [
            f"{editor(recipe)}/{dict(Versions='versions', Export='export').get(name, 'runs')}"
        ]


# --- the trigger ------------------------------------------------------------------------------------


async def test_the_trigger_is_saved_with_typed_parameters_and_the_output_schema(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    data = trigger_form(
        description="Opens a ticket.",
        output_schema='{"type": "object"}',
        **{
            "parameters.1.name": "title",
            "parameters.1.type": "string",
            "parameters.1.required": "on",
            "parameters.1.description": "What is wrong",
            "parameters.2.name": "priority",
            "parameters.2.type": "integer",
            "parameters.2.default": "3",
            "parameters.3.name": "kind",
            "parameters.3.type": "enum",
            "parameters.3.options": "bug, question",
        },
    )
    response = await post(as_builder, recipe, "/trigger", data)
    assert response.status_code == 200, response.text
    assert response.headers["HX-Retarget"] == "#workspace"
    assert json.loads(response.headers["HX-Trigger"]) == {"recipeSaved": {"form": "trigger-form"}}
    trigger = (await draft(recipes, recipe)).trigger
    assert trigger.description == "Opens a ticket."
    assert trigger.parameters == (
        Parameter(name="title", required=True, description="What is wrong"),
        Parameter(name="priority", type="integer", default=3),
        Parameter(name="kind", type="enum", options=("bug", "question")),
    )
    assert trigger.output_schema == {"type": "object"}
    # The test form now asks for each parameter.
    assert Page(response.text).field("input.priority").attrs["type"] == "number"


async def test_json_nested_past_the_limit_is_refused_beside_its_field(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    before = await draft(recipes, recipe)
    deep = "[" * 5000 + "]" * 5000
    data = trigger_form(
        name="create_ticket",
        output_schema='{"type": "object", "x": ' + deep + "}",
        **{"parameters.1.name": "items", "parameters.1.type": "array", "parameters.1.default": deep},
    )
    response = await post(as_builder, recipe, "/trigger", data)
    assert response.status_code == 422
    page = Page(response.text)
    nested = "This is not valid JSON: nested more than 64 levels deep (line 1)."
    assert page.error_next_to(page.field("output_schema")) == nested
    assert page.error_next_to(page.field("parameters.1.default"))
    assert await draft(recipes, recipe) == before


async def test_bad_trigger_values_are_refused_beside_their_fields_and_nothing_is_saved(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    before = await draft(recipes, recipe)
    data = trigger_form(
        name="Create Ticket",
        output_schema="{not json",
        **{"parameters.1.name": "count", "parameters.1.type": "integer", "parameters.1.default": "many"},
    )
    response = await post(as_builder, recipe, "/trigger", data)
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("name")) == (
        "Use a-z, 0-9 and _, starting with a letter (at most 64 characters)."
    )
    assert (page.error_next_to(page.field("output_schema")) or "").startswith("This is not valid JSON")
    assert (
        page.error_next_to(page.field("parameters.1.default"))
        == "The default must be a whole number, such as 3."
    )
    # What was typed is shown again.
    assert page.field("name").attrs["value"] == "Create Ticket"
    assert "HX-Trigger" not in response.headers
    assert await draft(recipes, recipe) == before


async def test_a_duplicate_tool_name_is_refused_on_the_tool_name_field(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe, project: Project, builder: Principal
) -> None:
    await recipes.recipes.create(RecipeCreate(project_id=project.id, name="list_tickets"), actor=builder)
    response = await post(as_builder, recipe, "/trigger", trigger_form(name="list_tickets"))
    assert response.status_code == 409
    page = Page(response.text)
    assert page.error_next_to(page.field("name")) == (
        "This project already has a recipe with the tool name 'list_tickets'."
    )
    assert (await draft(recipes, recipe)).trigger.name == "create_ticket"


async def test_adding_a_parameter_row_shows_the_form_again_without_saving(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    response = await post(as_builder, recipe, "/trigger", trigger_form(op="add_parameter", title="Changed"))
    assert response.status_code == 200
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#trigger-form", "outerHTML")
    page = Page(response.text)
    assert page.field("parameters.1.name").attrs["value"] == ""
    assert page.field("title").attrs["value"] == "Changed"
    assert (await draft(recipes, recipe)).trigger.title == "Create a ticket"


# --- steps ------------------------------------------------------------------------------------------


async def test_steps_are_added_moved_and_deleted_and_each_change_is_the_stored_draft(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    response = await post(as_builder, recipe, "/steps", {"step_type": "if"})
    assert response.status_code == 200
    assert Page(response.text).by_id("workspace").attrs["data-focus"] == "step-step_1-heading"
    await post(
        as_builder, recipe, "/steps", {"step_type": "action", "parent_id": "step_1", "branch": "otherwise"}
    )
    current = await draft(recipes, recipe)
    assert [(n, type(s).__name__) for n, s in current.walk()] == [
        ("1", "IfStep"),
        ("1.1", "ActionStep"),
        ("2", "ResultStep"),
    ]
    await post(as_builder, recipe, "/steps/step_1/move", {"direction": "down"})
    assert [s.id for s in (await draft(recipes, recipe)).steps] == ["result", "step_1"]
    # Without JavaScript the form posts normally and the browser goes back to the editor.
    response = await post(as_builder, recipe, "/steps/step_1/delete", {}, htmx=False)
    assert (response.status_code, response.headers["location"]) == (303, editor(recipe) + "#steps")
    assert [s.id for s in (await draft(recipes, recipe)).steps] == ["result"]
    response = await post(as_builder, recipe, "/steps/step_9/delete", {})
    assert response.status_code == 404


async def test_an_action_step_is_saved_with_connector_action_connection_and_mapped_inputs(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe, tasks: Connection
) -> None:
    await post(as_builder, recipe, "/steps", {"step_type": "action"})
    # Choosing the connector shows its actions (nothing saved yet).
    response = await post(as_builder, recipe, "/steps/step_1", {"op": "reload", "connector": "demo-tasks"})
    assert response.headers["HX-Retarget"] == "#step-form-step_1"
    page = Page(response.text)
    assert [o.text for o in page.all("option") if o.attrs.get("value") == "create_task"] == ["Create a task"]
    response = await post(
        as_builder,
        recipe,
        "/steps/step_1",
        {"op": "reload", "connector": "demo-tasks", "action": "create_task"},
    )
    page = Page(response.text)
    assert page.label_for(page.field("inputs.title")) == "title * (required)"
    options = {o.attrs["value"]: o.text for o in page.all("option") if o.attrs.get("value") == str(tasks.id)}
    assert options == {str(tasks.id): "End user's connection: Demo Tasks"}
    new_link = [a.attrs["href"] for a in page.all("a") if a.text == "New End user's connection…"]
    assert new_link == [
        f"/console/connections/new?connector=demo-tasks&project_id={recipe.project_id}&mode=end_user"
        f"&return_to=/console/recipes/{recipe.id}"
    ]
    assert (await draft(recipes, recipe)).steps[0] == ActionStep(id="step_1")

    data = {
        "op": "save",
        "connector": "demo-tasks",
        "action": "create_task",
        "connection": str(tasks.id),
        "account": " work ",
        "inputs.title": "{{ input.title }}",
        "idempotent": "on",
    }
    response = await post(as_builder, recipe, "/steps/step_1", data)
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"recipeSaved": {"form": "step-form-step_1"}}
    assert (await draft(recipes, recipe)).steps[0] == ActionStep(
        id="step_1",
        connector="demo-tasks",
        action="create_task",
        connection=ConnectionRef(name="Demo Tasks", id=tasks.id),
        account="work",
        inputs={"title": "{{ input.title }}"},
        idempotent=True,
    )
    # An end user's connection: the step may name which of the caller's accounts it uses.
    assert Page(response.text).label_for(Page(response.text).field("account")) == "Account"
    # The pill of a parameter the trigger does not have is a problem of step 2, listed and beside its field.
    page = Page(response.text)
    assert page.error_next_to(page.field("inputs.title")) == "input.title: the trigger has no parameter title"
    listed = [" ".join(a.text.split()) for a in page.all("a") if a.attrs.get("href") == "#step-step_1"]
    assert listed == ["Step 1, inputs.title: input.title: the trigger has no parameter title"]


async def test_a_bad_step_value_is_refused_beside_its_field(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await post(as_builder, recipe, "/steps", {"step_type": "for_each", "index": "0"})
    before = await draft(recipes, recipe)
    response = await post(
        as_builder, recipe, "/steps/step_1", {"op": "save", "items": "{{ input.x }}", "as_name": "Each One"}
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("as_name")) == (
        "Use a-z, 0-9 and _, starting with a letter (at most 40 characters)."
    )
    assert page.field("as_name").attrs["value"] == "Each One"
    # Without JavaScript the whole page comes back, with the same message.
    data = {"op": "save", "items": "{{ input.x }}", "as_name": "Each One"}
    response = await post(as_builder, recipe, "/steps/step_1", data, htmx=False)
    page = Page(response.text)
    assert (response.status_code, page.all("h1")[0].text) == (422, "Create a ticket")
    assert page.error_next_to(page.field("as_name")) == (
        "Use a-z, 0-9 and _, starting with a letter (at most 40 characters)."
    )
    assert await draft(recipes, recipe) == before


async def test_condition_and_structured_rows_are_added_and_removed_before_saving(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await post(as_builder, recipe, "/steps", {"step_type": "if"})
    before = await draft(recipes, recipe)
    data = {
        "op": "add_condition",
        "conditions.1.left": "{{ user.email }}",
        "conditions.1.operator": "is_not_empty",
    }
    response = await post(as_builder, recipe, "/steps/step_1", data)
    page = Page(response.text)
    assert page.field("conditions.1.left").attrs["value"] == "{{ user.email }}"
    assert page.field("conditions.2.left").attrs["value"] == ""
    assert page.by_id("step-form-step_1").attrs["data-focus"] == "step-step_1-conditions-2-left"
    assert await draft(recipes, recipe) == before

    rows = {
        "text": "Done",
        "structured.1.key": "email",
        "structured.1.value": "{{ user.email }}",
        "structured.2.key": "groups",
        "structured.2.value": "{{ user.groups }}",
    }
    response = await post(as_builder, recipe, "/steps/result", {"op": "remove_key:0", **rows})
    page = Page(response.text)
    assert page.field("structured.1.key").attrs["value"] == "groups"
    response = await post(
        as_builder, recipe, "/steps/result", {"op": "save", **rows, "structured.2.key": "email"}
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("structured.2.key")) == "The key 'email' is used twice."
    await post(as_builder, recipe, "/steps/result", {"op": "save", **rows})
    result = (await draft(recipes, recipe)).step("result")
    assert isinstance(result, ResultStep)
    assert result.structured == {"email": "{{ user.email }}", "groups": "{{ user.groups }}"}


async def test_the_first_step_a_builder_adds_is_step_1_in_its_heading_and_its_data_pill(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    response = await post(as_builder, recipe, "/steps", {"step_type": "action"})
    await post(as_builder, recipe, "/steps", {"step_type": "action"})
    assert [s.id for s in (await draft(recipes, recipe)).steps] == ["step_1", "step_2", "result"]
    page = Page((await as_builder.client.get(editor(recipe))).text)
    assert " ".join(page.by_id("step-step_1-heading").text.split()).startswith("Step 1 ")
    assert " ".join(page.by_id("step-step_2-heading").text.split()).startswith("Step 2 ")
    pills = [
        b.attrs["data-pill"] for b in page.all("button") if b.attrs.get("data-target") == "step-result-text"
    ]
    assert {"steps.step_1", "steps.step_2"} <= set(pills)
    assert response.status_code == 200


# --- publish and test -------------------------------------------------------------------------------


async def test_publishing_is_refused_while_there_are_problems_and_accepted_when_clean(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await post(as_builder, recipe, "/steps", {"step_type": "action"})
    response = await post(as_builder, recipe, "/publish", {})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.by_id("editor-notice").text.startswith("Not published: fix the")
    assert " ".join(page.by_id("problems").text.split()) == "Problems (1) Step 1, connector: choose an app"
    assert (await recipes.recipes.get(recipe.id)).published_version is None

    await post(as_builder, recipe, "/steps/step_1/delete", {})
    response = await post(as_builder, recipe, "/publish", {})
    assert response.status_code == 200
    page = Page(response.text)
    assert page.by_id("editor-notice").text == "Published version 1: tools now run it."
    assert page.by_id("recipe-status").text == "Published v1"
    assert (await recipes.recipes.get(recipe.id)).published_version == 1

    await post(as_builder, recipe, "/trigger", trigger_form(title="Open a ticket"))
    page = Page((await as_builder.client.get(editor(recipe))).text)
    assert page.by_id("recipe-status").text == "Published v1 with unpublished changes"


async def test_a_test_run_shows_each_step_and_a_connect_link_for_the_builders_own_connection(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe, tasks: Connection
) -> None:
    await save(
        recipes,
        recipe,
        RecipeDefinition(
            trigger=ToolTrigger(name="create_ticket", parameters=(Parameter(name="title", required=True),)),
            steps=(
                ActionStep(
                    id="step_1",
                    connector="demo-tasks",
                    action="create_task",
                    connection=ConnectionRef(name=tasks.name, id=tasks.id),
                    inputs={"title": "{{ input.title }}"},
                ),
                ResultStep(id="step_2", text="Created {{ steps.step_1.title }}"),
            ),
        ),
    )
    response = await post(as_builder, recipe, "/test", {"input.title": "Printer jam"})
    assert response.status_code == 200
    page = Page(response.text)
    assert page.by_id("test-result-heading").text == "Test result: Connection required"
    link = page.by_id("test-connect-link")
    assert link.attrs["href"].startswith("http://testserver.local/connect/")
    rows = [" ".join(row.text.split()) for row in page.all("tr")[1:]]
    assert len(rows) == 1
    assert rows[0].startswith("1 Create a task connection required")
    assert rows[0].endswith('1 { "title": "Printer jam" }')  # attempts, then the step's input
    [run] = await recipes.runs.list_for(recipe.id)
    assert (run.kind, run.outcome.value) == ("test", "connection_required")


async def test_a_test_run_of_a_result_step_shows_the_tool_result_and_bad_input_is_refused(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    await save(
        recipes,
        recipe,
        RecipeDefinition(
            trigger=ToolTrigger(name="create_ticket", parameters=(Parameter(name="count", type="integer"),)),
            steps=(
                ResultStep(
                    id="step_1", text="Count {{ input.count }}", structured={"count": "{{ input.count }}"}
                ),
            ),
        ),
    )
    response = await post(as_builder, recipe, "/test", {"input.count": "many"})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("input.count")) == "Enter a number."
    response = await post(as_builder, recipe, "/test", {"input.count": "4"})
    page = Page(response.text)
    assert page.by_id("test-result-heading").text == "Test result: Succeeded"
    assert "Count 4" in page.text
    assert json.loads(page.all("pre")[1].text) == {"count": 4}


# --- the connection form opened from a step ---------------------------------------------------------


async def test_the_connection_form_opened_from_the_editor_is_preset_and_returns_to_the_editor(
    as_builder: Browserless, connectors: ConnectorServices, recipe: Recipe, project: Project
) -> None:
    await connectors.projects.ensure("Another project")
    back = editor(recipe)
    query = f"connector=demo-tasks&project_id={project.id}&mode=end_user&return_to={back}"
    opened = f"/console/connections/new?{query}"
    page = Page((await as_builder.client.get(opened)).text)
    selected = [
        o.attrs["value"]
        for o in page.all("option")
        if "selected" in o.attrs and o.attrs["value"] == str(project.id)
    ]
    assert selected == [str(project.id)]
    form = {
        "connector": "demo-tasks",
        "name": "Tasks for tickets",
        "project_id": str(project.id),
        "mode": "end_user",
        "auth_type": "oauth2_authorization_code",
        "client_id": "switchboard",
        "client_secret": "s3cret",
        "field.host": "https://tasks.example.com",
        "scopes": ["tasks:write"],
        "action": "save",
    }
    token = csrf_from((await as_builder.client.get(opened)).text)
    response = await as_builder.client.post(
        "/console/connections/new",
        data={"_csrf_token": token, "return_to": back, **form},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, back)
    # Only a local path is followed.
    response = await as_builder.client.post(
        "/console/connections/new",
        data={"_csrf_token": token, "return_to": "//evil.example/x", **form, "name": "Second"},
        follow_redirects=False,
    )
    created = {c.name: c.id for c in await connectors.connections.list_all()}
    assert response.headers["location"] == f"/console/connections/{created['Second']}"
    assert isinstance(created["Tasks for tickets"], UUID)


async def test_publishing_an_unchanged_draft_makes_no_version_and_the_page_says_tools_run_it(
    as_builder: Browserless, recipes: RecipeServices, recipe: Recipe
) -> None:
    assert (await post(as_builder, recipe, "/publish", {})).status_code == 200
    page = Page((await as_builder.client.get(editor(recipe))).text)
    assert " ".join(page.by_id("problems").text.split()) == (
        "No problems The draft is published version 1: tools run it."
    )

    response = await post(as_builder, recipe, "/publish", {})
    assert response.status_code == 200
    page = Page(response.text)
    assert page.by_id("editor-notice").text == "Nothing changed since version 1."
    assert page.by_id("recipe-status").text == "Published v1"
    assert [v.number for v in await recipes.recipes.versions(recipe.id)] == [1]

    await post(as_builder, recipe, "/trigger", trigger_form(title="Open a ticket"))
    page = Page((await as_builder.client.get(editor(recipe))).text)
    assert " ".join(page.by_id("problems").text.split()) == (
        "No problems The draft differs from published version 1: publish it to make tools run it."
    )
