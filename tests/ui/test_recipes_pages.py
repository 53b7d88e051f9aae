"""Console → Recipes: the list, a new recipe, import and export, versions, job history and deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest

from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import RecipeDocument
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ConnectionRef,
    IfStep,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)
from switchboard.recipes.outcomes import Outcome, RunReport, StepRun, ToolResult
from switchboard.recipes.schemas import Recipe, RecipeCreate
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Element, Page

BUILDER = "builder@example.com"
MEMBER = "member@example.com"
FORBIDDEN = "Only builders and admins can open this."
EXPIRED_FORM = "This form has expired or was sent from another site. Go back, reload the page and try again."
SECRET = "s3cret-client-value-7a6b5c"
LIST = "/console/recipes"


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
async def as_builder(web: Browserless, builder: Principal) -> Browserless:
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def tasks_connection(
    connectors: ConnectorServices, project: Project, builder: Principal, name: str = "Team tasks"
) -> Connection:
    data = ConnectionInput(
        name=name,
        project_id=project.id,
        connector="demo-tasks",
        mode=Mode.END_USER,
        client_id="switchboard",
        client_secret=SECRET,
        scopes=("tasks:read",),
        fields={"host": "http://127.0.0.1:9/demo-tasks"},
    )
    return await connectors.connections.create(data, actor=builder)


def listing(connection: Connection | None) -> RecipeDefinition:
    """add_task: an action through ``connection`` (by id, as the editor stores it), then the result."""
    ref = ConnectionRef(name=connection.name, id=connection.id) if connection else None
    return RecipeDefinition(
        trigger=ToolTrigger(
            name="add_task",
            title="Add a task",
            description="Adds a task to the caller's list.",
            parameters=(
                Parameter(name="title", required=True),
                Parameter(name="priority", type="enum", options=("low", "high"), default="low"),
            ),
        ),
        steps=(
            ActionStep(
                id="step_1",
                title="Create the task",
                connector="demo-tasks",
                action="create_task",
                connection=ref,
                inputs={"title": "{{ input.title }}"},
            ),
            ResultStep(id="step_2", title="Return result", text="Added {{ steps.step_1.title }}."),
        ),
    )


async def new_recipe(
    recipes: RecipeServices, project: Project, builder: Principal, name: str = "hello", title: str = "Hello"
) -> Recipe:
    return await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name=name, title=title), actor=builder
    )


async def post_form(
    web: Browserless, page_path: str, action: str, data: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return await web.submit(page_path, action, data, **kwargs)


def location_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def followed(web: Browserless, response: httpx.Response) -> Page:
    """The page the redirect leads to (with its one-time notice)."""
    assert response.status_code == 303, response.text
    return Page((await web.client.get(response.headers["location"])).text)


def error_of(page: Page, control: Element) -> str | None:
    """The error tied to a select or checkbox (whose next element is an option or its label)."""
    if control.attrs.get("aria-invalid") != "true":
        return None
    return " ".join(page.by_id(control.attrs["aria-describedby"]).text.split())


def notice_of(page: Page) -> str:
    notices = [p for p in page.all("p") if p.attrs.get("role") == "status"]
    assert notices, "no notice on the page"
    return " ".join(notices[0].text.split())


def rows(page: Page, table_class: str) -> list[list[str]]:
    """The body rows of the table with ``table_class``: each row's cell texts, whitespace collapsed."""
    elements = page.elements
    start = next(
        i for i, e in enumerate(elements) if e.tag == "table" and e.attrs.get("class") == table_class
    )
    found: list[list[str]] = []
    for element in elements[start + 1 :]:
        if element.tag == "table":
            break
        if element.tag == "tr":
            found.append([])
        elif element.tag == "td" and found:
            found[-1].append(" ".join(element.text.split()))
    return [cells for cells in found if cells]


def run_report(recipe_id: UUID, *, started_at: datetime, **changes: Any) -> RunReport:
    """A finished tool call of version 1 that failed at its first step, as the engine would report it."""
    fields: dict[str, Any] = {
        "id": uuid4(),
        "recipe_id": recipe_id,
        "version": 1,
        "kind": "tool",
        "caller_id": None,
        "caller_email": "alice@example.com",
        "started_at": started_at,
        "duration_ms": 2345,
        "outcome": Outcome.FAILED,
        "message": "Demo Tasks answered 502: the app is unavailable.",
        "input": {"status": "open"},
        "result": ToolResult(text="Demo Tasks is unavailable.", is_error=True),
        "steps": (
            StepRun(
                number="1",
                step_id="step_1",
                title="Find tasks",
                type="action",
                status="failed",
                duration_ms=2300,
                attempts=3,
                input={"status": "open"},
                output={"detail": "bad gateway"},
                error="HTTP 502 from Demo Tasks",
            ),
            StepRun(number="2", step_id="step_2", title="Return result", type="result", status="skipped"),
        ),
    }
    fields.update(changes)
    return RunReport(**fields)


# --- who may ----------------------------------------------------------------------------------------


async def recipe_requests(
    recipe: Recipe, project: Project, run_id: UUID
) -> list[tuple[str, str, dict[str, str]]]:
    """Every recipe page and form of these pages, with data that would change something if accepted."""
    own = f"{LIST}/{recipe.id}"
    document = msgspec.json.encode(
        RecipeDocument(format="switchboard-recipe", format_version=1, definition=listing(None))
    ).decode()
    return [
        ("GET", LIST, {}),
        ("GET", f"{LIST}/new", {}),
        ("GET", f"{LIST}/import", {}),
        ("GET", f"{own}/export", {}),
        ("GET", f"{own}/versions", {}),
        ("GET", f"{own}/versions/1", {}),
        ("GET", f"{own}/runs", {}),
        ("GET", f"{own}/runs/{run_id}", {}),
        ("GET", f"{own}/delete", {}),
        ("POST", f"{LIST}/new", {"project_id": str(project.id), "name": "shadow_tool"}),
        ("POST", f"{LIST}/import", {"project_id": str(project.id), "document": document, "replace": "yes"}),
        ("POST", f"{own}/versions/1/restore", {}),
        ("POST", f"{own}/delete", {"confirm": "yes"}),
    ]


async def published_with_a_run(
    recipes: RecipeServices, project: Project, builder: Principal
) -> tuple[Recipe, UUID]:
    recipe = await new_recipe(recipes, project, builder)
    await recipes.recipes.publish(recipe.id, actor=builder)
    changed = msgspec.structs.replace(recipe.draft, description="Changed after publishing.")
    await recipes.recipes.save_draft(recipe.id, changed, actor=builder)
    report = run_report(recipe.id, started_at=datetime.now(UTC))
    await recipes.runs.save(report)
    return await recipes.recipes.get(recipe.id), report.id


async def test_members_are_refused_every_recipe_page_and_form_and_nothing_changes(
    web: Browserless,
    services: IdentityServices,
    recipes: RecipeServices,
    project: Project,
    builder: Principal,
) -> None:
    recipe, run_id = await published_with_a_run(recipes, project, builder)
    await make_user(services, MEMBER)
    assert (await web.sign_in(MEMBER, PASSWORD)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    for method, path, data in await recipe_requests(recipe, project, run_id):
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 403, f"{method} {path}"
        assert FORBIDDEN in Page(response.text).text, f"{method} {path}"
        assert "add_task" not in response.text, f"{method} {path}"

    assert [r.tool_name for r in await recipes.recipes.list_all()] == ["hello"]
    assert await recipes.recipes.get(recipe.id) == recipe
    menu = [a.text for a in Page((await web.client.get("/me")).text).all("a")]
    assert "Recipes" not in menu


async def test_signed_out_visitors_are_sent_to_sign_in_from_every_recipe_page_and_form(
    web: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, run_id = await published_with_a_run(recipes, project, builder)
    token = csrf_from((await web.client.get("/login")).text)
    for method, path, data in await recipe_requests(recipe, project, run_id):
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 303, f"{method} {path}"
        assert response.headers["location"] == f"/login?next={quote(path, safe='')}", f"{method} {path}"

    assert [r.tool_name for r in await recipes.recipes.list_all()] == ["hello"]
    assert await recipes.recipes.get(recipe.id) == recipe


async def test_recipe_forms_without_the_browsers_csrf_token_change_nothing(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, run_id = await published_with_a_run(recipes, project, builder)
    for method, path, data in await recipe_requests(recipe, project, run_id):
        if method == "GET":
            continue
        for token in ({}, {"_csrf_token": "made-up-token"}):
            response = await as_builder.client.post(path, data={**data, **token}, follow_redirects=False)
            assert response.status_code == 403, path
            assert EXPIRED_FORM in Page(response.text).text, path

    assert [r.tool_name for r in await recipes.recipes.list_all()] == ["hello"]
    assert await recipes.recipes.get(recipe.id) == recipe


@pytest.mark.parametrize("role", [Role.BUILDER, Role.ADMIN])
async def test_builders_and_admins_find_recipes_in_the_menu(
    web: Browserless, services: IdentityServices, role: Role
) -> None:
    email = f"{role.value}-menu@example.com"
    await make_user(services, email, role)
    assert (await web.sign_in(email, PASSWORD)).status_code == 303

    page = Page((await web.client.get(LIST)).text)

    header = page.elements[: page.elements.index(page.by_id("main"))]
    menu = [e for e in header if e.tag == "a" and e.attrs.get("href") == LIST]
    assert [a.text for a in menu] == ["Recipes"]
    assert menu[0].attrs.get("aria-current") == "page"
    assert page.all("h1")[0].text == "Recipes"


# --- the list ---------------------------------------------------------------------------------------


async def test_with_no_recipes_the_list_says_what_a_recipe_is_and_how_to_start(
    as_builder: Browserless,
) -> None:
    response = await as_builder.client.get(LIST)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert "A recipe is a tool for AI agents" in page.text
    assert "No recipes yet" in page.text
    hrefs = {a.attrs.get("href") for a in page.all("a")}
    assert {f"{LIST}/new", f"{LIST}/import"} <= hrefs


async def test_the_list_shows_each_projects_recipes_with_status_and_last_run(
    as_builder: Browserless,
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
) -> None:
    other = await connectors.projects.ensure("Support")
    changed, _ = await published_with_a_run(recipes, project, builder)
    published = await new_recipe(recipes, project, builder, "ask", "")
    await recipes.recipes.publish(published.id, actor=builder)
    draft = await new_recipe(recipes, other, builder, "triage", "Triage tickets")
    await recipes.runs.save(
        run_report(published.id, started_at=datetime(2026, 3, 4, 5, 6, tzinfo=UTC), outcome=Outcome.SUCCEEDED)
    )

    page = Page((await as_builder.client.get(LIST)).text)

    assert [h.text for h in page.all("h2")] == ["Sales tools", "Support"]
    tables = [t for t in page.all("table") if t.attrs.get("class") == "recipes"]
    assert len(tables) == 2
    assert "triage" in tables[1].text
    assert "triage" not in tables[0].text
    sales = rows(page, "recipes")
    assert sales[0] == ["ask", "—", "Published v1", "2026-03-04 05:06 UTC · Succeeded"]
    assert sales[1][:3] == ["hello", "Hello", "Published v1 · draft changed"]
    assert sales[1][3].endswith("· Failed")
    assert " ".join(tables[1].text.split()).endswith("triage Triage tickets Draft Never run")
    editor_links = {a.attrs["href"] for a in page.all("a") if a.text in {"ask", "hello", "triage"}}
    assert editor_links == {f"{LIST}/{r.id}" for r in (changed, published, draft)}


# --- a new recipe -----------------------------------------------------------------------------------


async def test_the_new_recipe_form_asks_for_project_tool_name_title_and_description(
    as_builder: Browserless, project: Project
) -> None:
    page = Page((await as_builder.client.get(f"{LIST}/new")).text)

    labels = [page.label_for(control) for control in page.fillable_controls()]
    assert labels == ["Project", "Tool name", "Title (optional)", "Description (optional)"]
    assert [o.text for o in page.all("option")] == ["Sales tools"]
    name = page.field("name")
    hint = page.by_id(name.attrs["aria-describedby"])
    assert "lower-case letters, digits and _, starting with a letter" in hint.text


async def test_creating_a_recipe_opens_the_editor_with_a_draft(
    as_builder: Browserless, recipes: RecipeServices, project: Project
) -> None:
    response = await post_form(
        as_builder,
        f"{LIST}/new",
        f"{LIST}/new",
        {
            "project_id": str(project.id),
            "name": "list_tasks",
            "title": "List tasks",
            "description": "Open ones.",
        },
    )

    [recipe] = await recipes.recipes.list_all()
    assert location_of(response) == f"{LIST}/{recipe.id}"
    assert (recipe.project_id, recipe.tool_name, recipe.title, recipe.status) == (
        project.id,
        "list_tasks",
        "List tasks",
        "draft",
    )
    assert recipe.draft.trigger.description == "Open ones."
    assert recipe.updated_by == BUILDER


async def test_a_first_recipe_without_any_project_goes_to_the_default_project(
    as_builder: Browserless, recipes: RecipeServices, connectors: ConnectorServices
) -> None:
    page = Page((await as_builder.client.get(f"{LIST}/new")).text)
    assert [(o.attrs.get("value"), o.text) for o in page.all("option")] == [("", "Default")]

    response = await post_form(as_builder, f"{LIST}/new", f"{LIST}/new", {"project_id": "", "name": "hello"})

    assert response.status_code == 303, response.text
    [recipe] = await recipes.recipes.list_all()
    assert recipe.project_name == "Default"
    assert [p.name for p in await connectors.projects.list_all()] == ["Default"]


@pytest.mark.parametrize(
    ("name", "title", "field", "message"),
    [
        (
            "List Tasks",
            "",
            "name",
            "A tool name has 1 to 64 characters: lower-case letters, digits and _, starting with a letter "
            "(for example list_tasks).",
        ),
        ("hello", "", "name", "This project already has a recipe with the tool name 'hello'."),
        ("fine_name", "x" * 121, "title", "At most 120 characters."),
    ],
)
async def test_a_refused_new_recipe_shows_the_error_next_to_its_field_and_keeps_the_input(
    as_builder: Browserless,
    recipes: RecipeServices,
    project: Project,
    builder: Principal,
    name: str,
    title: str,
    field: str,
    message: str,
) -> None:
    await new_recipe(recipes, project, builder)
    data = {"project_id": str(project.id), "name": name, "title": title, "description": "Kept"}

    response = await post_form(as_builder, f"{LIST}/new", f"{LIST}/new", data)

    assert response.status_code in {409, 422}
    page = Page(response.text)
    assert page.error_next_to(page.field(field)) == message
    assert page.field("name").attrs["value"] == name
    assert page.field("description").text == "Kept"
    assert [r.tool_name for r in await recipes.recipes.list_all()] == ["hello"]


async def test_a_new_recipe_in_a_project_that_does_not_exist_is_refused_next_to_the_project(
    as_builder: Browserless, recipes: RecipeServices, project: Project
) -> None:
    data = {"project_id": str(uuid4()), "name": "hello"}
    response = await post_form(as_builder, f"{LIST}/new", f"{LIST}/new", data)

    assert response.status_code == 404
    page = Page(response.text)
    assert error_of(page, page.field("project_id")) == "No such project."
    assert await recipes.recipes.list_all() == []


# --- export and import ------------------------------------------------------------------------------


async def test_the_import_form_takes_a_file_or_pasted_json_a_project_and_replace(
    as_builder: Browserless, project: Project
) -> None:
    page = Page((await as_builder.client.get(f"{LIST}/import")).text)

    assert [page.label_for(control) for control in page.fillable_controls()] == [
        "Project",
        "Recipe file",
        "Or paste the JSON",
        "Replace the recipe with the same tool name",
    ]
    form = page.form_of(page.field("file"))
    assert (form.attrs["action"], form.attrs["enctype"]) == (f"{LIST}/import", "multipart/form-data")
    assert page.field("replace").attrs["type"] == "checkbox"
    assert "checked" not in page.field("replace").attrs
    assert page.duplicate_ids() == []


async def test_export_is_a_json_attachment_with_connections_by_name_and_no_secrets(
    as_builder: Browserless,
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
) -> None:
    connection = await tasks_connection(connectors, project, builder)
    recipe = await new_recipe(recipes, project, builder, "add_task")
    await recipes.recipes.save_draft(recipe.id, listing(connection), actor=builder)

    response = await as_builder.client.get(f"{LIST}/{recipe.id}/export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == 'attachment; filename="add_task.recipe.json"'
    assert response.headers["cache-control"] == "no-store"
    document = msgspec.json.decode(response.content, type=RecipeDocument)
    assert document.definition == msgspec.structs.replace(
        listing(connection),
        steps=(
            msgspec.structs.replace(
                listing(connection).steps[0], connection=ConnectionRef(name="Team tasks")
            ),
            listing(connection).steps[1],
        ),
    )
    body = response.text
    assert str(connection.id) not in body
    assert SECRET not in body
    assert "client_secret" not in body
    exported_ref = msgspec.json.decode(response.content)["definition"]["steps"][0]["connection"]
    assert exported_ref == {"name": "Team tasks", "id": None}


async def test_export_of_a_version_is_that_version_and_an_unknown_version_is_not_found(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)

    version = await as_builder.client.get(f"{LIST}/{recipe.id}/export?version=1")
    draft = await as_builder.client.get(f"{LIST}/{recipe.id}/export")
    missing = await as_builder.client.get(f"{LIST}/{recipe.id}/export?version=7")

    first = msgspec.json.decode(version.content, type=RecipeDocument)
    assert (first.exported_version, first.definition.description) == (1, "")
    assert msgspec.json.decode(draft.content, type=RecipeDocument).definition.description == (
        "Changed after publishing."
    )
    assert missing.status_code == 404
    assert "This recipe has no version 7." in Page(missing.text).text


async def test_an_exported_recipe_imports_into_another_project_finding_connections_by_name(
    as_builder: Browserless,
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
) -> None:
    source = await tasks_connection(connectors, project, builder)
    recipe = await new_recipe(recipes, project, builder, "add_task")
    await recipes.recipes.save_draft(recipe.id, listing(source), actor=builder)
    exported = (await as_builder.client.get(f"{LIST}/{recipe.id}/export")).text
    support = await connectors.projects.ensure("Support")
    target = await tasks_connection(connectors, support, builder, name="TEAM TASKS")

    response = await post_form(
        as_builder, f"{LIST}/import", f"{LIST}/import", {"project_id": str(support.id), "document": exported}
    )

    imported = next(r for r in await recipes.recipes.list_all(project_id=support.id))
    assert location_of(response) == f"{LIST}/{imported.id}"
    step = imported.draft.steps[0]
    assert isinstance(step, ActionStep)
    assert step.connection == ConnectionRef(name="TEAM TASKS", id=target.id)
    assert imported.status == "draft"
    notice = notice_of(await followed(as_builder, response))
    assert notice.startswith("Recipe add_task imported into Support. ")
    assert notice.endswith("It has no problems: check it in the editor, then publish.")


async def test_a_connection_missing_in_the_project_becomes_a_problem_named_in_the_notice(
    as_builder: Browserless,
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
) -> None:
    source = await tasks_connection(connectors, project, builder)
    recipe = await new_recipe(recipes, project, builder, "add_task")
    await recipes.recipes.save_draft(recipe.id, listing(source), actor=builder)
    exported = (await as_builder.client.get(f"{LIST}/{recipe.id}/export")).content
    empty = await connectors.projects.ensure("Empty")

    response = await post_form(
        as_builder,
        f"{LIST}/import",
        f"{LIST}/import",
        {"project_id": str(empty.id)},
        files={"file": ("add_task.recipe.json", exported, "application/json")},
    )

    [imported] = await recipes.recipes.list_all(project_id=empty.id)
    step = imported.draft.steps[0]
    assert isinstance(step, ActionStep)
    assert step.connection == ConnectionRef(name="Team tasks")
    problems = await recipes.recipes.check(imported.id)
    assert problems
    notice = notice_of(await followed(as_builder, response))
    count = len(problems)
    assert f"The draft has {count} problem{'s' if count != 1 else ''} to fix before publishing" in notice
    assert str(problems[0])[:60] in notice


async def test_importing_a_tool_name_that_exists_needs_replace(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)
    document = RecipeDocument(
        format="switchboard-recipe",
        format_version=1,
        definition=msgspec.structs.replace(recipe.draft, description="From the file."),
    )
    data = {"project_id": str(project.id), "document": msgspec.json.encode(document).decode()}

    refused = await post_form(as_builder, f"{LIST}/import", f"{LIST}/import", data)

    assert refused.status_code == 409
    page = Page(refused.text)
    assert error_of(page, page.field("replace")) == (
        "This project already has a recipe named 'hello'; "
        "import it with replace to make the document its draft."
    )
    assert page.field("document").text == data["document"]
    assert (await recipes.recipes.get(recipe.id)).draft.description == "Changed after publishing."

    replaced = await post_form(as_builder, f"{LIST}/import", f"{LIST}/import", {**data, "replace": "yes"})

    assert location_of(replaced) == f"{LIST}/{recipe.id}"
    after = await recipes.recipes.get(recipe.id)
    assert (after.draft.description, after.published_version) == ("From the file.", 1)
    assert [r.id for r in await recipes.recipes.list_all()] == [recipe.id]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            '{"format": "switchboard-recipe", "format_version": 1, "definition": {"trigger": {"name": 5}}}',
            "This is not a recipe document Switchboard can read: Expected `str`, got `int` - at "
            "`$.definition.trigger.name`",
        ),
        (
            '{"format": "zapier", "format_version": 1, "definition": {"trigger": {"name": "x"}}}',
            "This is not a recipe document Switchboard can read: Invalid enum value 'zapier' - at `$.format`",
        ),
        ("{not json", "This is not valid JSON: JSON is malformed: "),
        ("   ", "Paste an exported recipe or choose its file."),
    ],
)
async def test_a_document_that_is_not_a_recipe_is_refused_next_to_the_text_with_msgspecs_path(
    as_builder: Browserless, recipes: RecipeServices, project: Project, document: str, message: str
) -> None:
    data = {"project_id": str(project.id), "document": document}
    response = await post_form(as_builder, f"{LIST}/import", f"{LIST}/import", data)

    assert response.status_code == 422
    page = Page(response.text)
    error = page.error_next_to(page.field("document"))
    assert error is not None
    assert error.startswith(message), error
    assert await recipes.recipes.list_all() == []


async def test_an_import_file_over_256_kib_is_refused_next_to_the_file_field(
    as_builder: Browserless, recipes: RecipeServices, project: Project
) -> None:
    padding = " " * (256 * 1024)
    response = await post_form(
        as_builder,
        f"{LIST}/import",
        f"{LIST}/import",
        {"project_id": str(project.id)},
        files={"file": ("big.recipe.json", ("{}" + padding).encode(), "application/json")},
    )

    assert response.status_code == 422
    page = Page(response.text)
    assert (
        page.error_next_to(page.field("file"))
        == "The file is too large: a recipe document is at most 256 KiB."
    )
    assert await recipes.recipes.list_all() == []


# --- versions ---------------------------------------------------------------------------------------


async def test_the_versions_page_lists_each_version_and_which_one_is_published(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)
    await recipes.recipes.publish(recipe.id, actor=builder)

    page = Page((await as_builder.client.get(f"{LIST}/{recipe.id}/versions")).text)

    table = rows(page, "versions")
    assert [cells[:3] for cells in table] == [
        ["v2 (published)", "hello", BUILDER],
        ["v1", "hello", BUILDER],
    ]
    views = [a.attrs["href"] for a in page.all("a") if a.text == "View"]
    assert views == [f"{LIST}/{recipe.id}/versions/2", f"{LIST}/{recipe.id}/versions/1"]
    restores = [f.attrs["action"] for f in page.all("form") if f.attrs.get("action", "").endswith("/restore")]
    assert restores == [f"{LIST}/{recipe.id}/versions/2/restore", f"{LIST}/{recipe.id}/versions/1/restore"]


async def test_a_version_is_shown_read_only_with_its_trigger_numbered_steps_and_json(
    as_builder: Browserless,
    recipes: RecipeServices,
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
) -> None:
    connection = await tasks_connection(connectors, project, builder)
    recipe = await new_recipe(recipes, project, builder, "add_task")
    plain = listing(connection)
    create, result = plain.steps
    assert isinstance(create, ActionStep)
    branching = IfStep(
        id="step_3",
        title="Urgent?",
        conditions=(Condition(left="{{ input.priority }}", operator="equals", right="high"),),
        then=(
            msgspec.structs.replace(create, id="step_4", title="Flag it", inputs={"title": "Urgent"}),
            msgspec.structs.replace(create, id="step_5", title="Tell the team"),
        ),
        otherwise=(msgspec.structs.replace(create, id="step_6", title="Note it"),),
    )
    definition = msgspec.structs.replace(plain, steps=(create, branching, result))
    await recipes.recipes.save_draft(recipe.id, definition, actor=builder)
    version = await recipes.recipes.publish(recipe.id, actor=builder)

    response = await as_builder.client.get(f"{LIST}/{recipe.id}/versions/{version.number}")

    assert response.status_code == 200
    page = Page(response.text)
    assert "Tool name add_task Title Add a task Description Adds a task to the caller's list." in page.text
    assert rows(page, "parameters") == [
        ["title", "string", "yes", "—", "—"],
        ["priority", "enum: low, high", "no", "low", "—"],
    ]
    steps = [" ".join(li.text.split()) for li in page.all("li") if li.id and li.id.startswith("step-")]
    heads = [
        " ".join(span.text.split()) for span in page.all("span") if span.attrs.get("class") == "step-head"
    ]
    assert [head.split(" · ") for head in heads] == [
        ["1", "Action", "Create the task"],
        ["2", "If / else", "Urgent?"],
        ["2.1", "Action", "Flag it"],
        ["2.2", "Action", "Tell the team"],
        ["2.3", "Action", "Note it"],
        ["3", "Return result", "Return result"],
    ]
    assert "Connector demo-tasks · action create_task · connection Team tasks" in steps[0]
    assert "Input title {{ input.title }}" in steps[0]
    assert "Condition 1 {{ input.priority }} equals high" in steps[1]
    assert "Then 2.1, 2.2 Otherwise 2.3" in steps[1]
    assert "Input title Urgent" in steps[2]
    assert "Text Added {{ steps.step_1.title }}." in steps[5]
    assert page.duplicate_ids() == []
    [json_block] = [pre for pre in page.all("pre")]
    document = msgspec.json.decode(json_block.text, type=RecipeDocument)
    assert document.exported_version == 1
    assert document.definition.trigger.name == "add_task"
    assert str(connection.id) not in response.text
    exports = [a.attrs["href"] for a in page.all("a") if a.text == "Export this version"]
    assert exports == [f"{LIST}/{recipe.id}/export?version=1"]
    assert [f.attrs["action"] for f in page.all("form") if "restore" in f.attrs.get("action", "")] == [
        f"{LIST}/{recipe.id}/versions/1/restore"
    ]
    assert page.all("textarea") == []
    assert page.fillable_controls() == []


async def test_a_version_that_does_not_exist_is_not_found(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe = await new_recipe(recipes, project, builder)

    response = await as_builder.client.get(f"{LIST}/{recipe.id}/versions/1")
    restore = await post_form(
        as_builder, f"{LIST}/{recipe.id}/versions", f"{LIST}/{recipe.id}/versions/1/restore", {}
    )

    assert response.status_code == 404
    assert restore.status_code == 404
    assert "This recipe has no version 1." in Page(response.text).text


async def test_restoring_a_version_makes_it_the_draft_and_says_to_publish(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)
    assert recipe.status == "changed"

    response = await post_form(
        as_builder, f"{LIST}/{recipe.id}/versions/1", f"{LIST}/{recipe.id}/versions/1/restore", {}
    )

    assert location_of(response) == f"{LIST}/{recipe.id}"
    after = await recipes.recipes.get(recipe.id)
    assert after.draft == (await recipes.recipes.version(recipe.id, 1)).definition
    assert (after.status, after.published_version) == ("published", 1)
    assert [v.number for v in await recipes.recipes.versions(recipe.id)] == [1]
    flash = Page((await as_builder.client.get(f"{LIST}/{recipe.id}/versions")).text)
    assert notice_of(flash) == "Version 1 restored as the draft; publish to make tools run it."


# --- job history ------------------------------------------------------------------------------------


async def test_job_history_lists_runs_newest_first_with_kind_caller_version_and_outcome(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)
    old = datetime.now(UTC) - timedelta(days=1)
    await recipes.runs.save(run_report(recipe.id, started_at=old, outcome=Outcome.SUCCEEDED, message=""))
    tested = await recipes.running.test_run(recipe.id, {}, builder)
    assert tested.outcome is Outcome.SUCCEEDED, tested.message

    page = Page((await as_builder.client.get(f"{LIST}/{recipe.id}/runs")).text)

    table = rows(page, "runs")
    assert [cells[1:] for cells in table] == [
        ["Test", BUILDER, "draft", table[0][4], "Succeeded", "—"],
        [
            "Tool call",
            "alice@example.com",
            "v1",
            "2.3 s",
            "Failed",
            "Demo Tasks answered 502: the app is unavailable.",
        ],
        ["Tool call", "alice@example.com", "v1", "2.3 s", "Succeeded", "—"],
    ]
    assert table[2][0] == old.strftime("%Y-%m-%d %H:%M:%S UTC")
    links = [
        a.attrs["href"]
        for a in page.all("a")
        if a.attrs.get("href", "").startswith(f"{LIST}/{recipe.id}/runs/")
    ]
    assert links[0] == f"{LIST}/{recipe.id}/runs/{tested.id}"
    assert len(links) == 3


async def test_job_history_pages_on_to_older_runs(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe = await new_recipe(recipes, project, builder)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(51):
        await recipes.runs.save(run_report(recipe.id, started_at=start + timedelta(minutes=minute)))

    first = Page((await as_builder.client.get(f"{LIST}/{recipe.id}/runs")).text)
    [older] = [a.attrs["href"] for a in first.all("a") if a.text == "Older"]
    second = Page((await as_builder.client.get(older)).text)

    assert len(rows(first, "runs")) == 50
    assert [cells[0] for cells in rows(second, "runs")] == ["2026-01-01 00:00:00 UTC"]
    assert [a.text for a in second.all("a") if a.attrs.get("rel") == "next"] == []


async def test_a_recipe_never_run_says_so_in_its_job_history(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe = await new_recipe(recipes, project, builder)

    page = Page((await as_builder.client.get(f"{LIST}/{recipe.id}/runs")).text)

    assert "Never run." in page.text
    assert not [t for t in page.all("table")]


async def test_a_run_shows_its_input_result_and_each_step(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, run_id = await published_with_a_run(recipes, project, builder)

    response = await as_builder.client.get(f"{LIST}/{recipe.id}/runs/{run_id}")

    assert response.status_code == 200
    page = Page(response.text)
    assert (
        "Kind Tool call Caller alice@example.com Version v1 Duration 2.3 s Outcome Failed "
        "Message Demo Tasks answered 502: the app is unavailable."
    ) in page.text
    pres = {pre.attrs["aria-label"]: pre.text for pre in page.all("pre")}
    assert pres["Input as JSON"] == '{\n  "status": "open"\n}'
    assert pres["Result text"] == "Demo Tasks is unavailable."
    assert pres["Output of step 1"] == '{\n  "detail": "bad gateway"\n}'
    assert pres["Input of step 2"] == "null"
    headings = [" ".join(h.text.split()) for h in page.all("h3") if h.id and h.id.startswith("step-")]
    assert headings == ["1 · Find tasks", "2 · Return result"]
    assert "Status Failed Duration 2.3 s Attempts 3 Error HTTP 502 from Demo Tasks" in page.text
    assert "Status Skipped Duration 0 ms Attempts 1" in page.text
    assert page.duplicate_ids() == []


async def test_a_run_of_another_recipe_or_no_run_at_all_is_not_found(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, _ = await published_with_a_run(recipes, project, builder)
    other = await new_recipe(recipes, project, builder, "other")
    foreign = run_report(other.id, started_at=datetime.now(UTC), message="Other recipe's secret message")
    await recipes.runs.save(foreign)

    for run_id in (foreign.id, uuid4()):
        response = await as_builder.client.get(f"{LIST}/{recipe.id}/runs/{run_id}")
        assert response.status_code == 404
        assert "Other recipe's secret message" not in response.text
        assert "There is no such run." in Page(response.text).text


# --- deletion ---------------------------------------------------------------------------------------


async def test_deleting_a_recipe_asks_first_then_removes_it_with_its_history(
    as_builder: Browserless, recipes: RecipeServices, project: Project, builder: Principal
) -> None:
    recipe, run_id = await published_with_a_run(recipes, project, builder)
    delete = f"{LIST}/{recipe.id}/delete"

    confirm = Page((await as_builder.client.get(delete)).text)
    assert confirm.all("h1")[0].text == "Delete hello?"
    assert "disappears from MCP clients" in confirm.text
    unconfirmed = await post_form(as_builder, delete, delete, {})
    assert unconfirmed.status_code == 200
    assert (await recipes.recipes.get(recipe.id)).id == recipe.id

    response = await post_form(as_builder, delete, delete, {"confirm": "yes"})

    assert location_of(response) == LIST
    assert await recipes.recipes.list_all() == []
    assert notice_of(await followed(as_builder, response)) == "Recipe hello deleted."
    assert (await as_builder.client.get(f"{LIST}/{recipe.id}/runs/{run_id}")).status_code == 404
