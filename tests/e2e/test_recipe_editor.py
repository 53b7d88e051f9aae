"""The recipe editor in a real browser: a builder makes a tool from an empty recipe, maps an input with the
pill picker (by keyboard too), tests it (their own Demo Tasks account is not connected yet: the test gives
the connect link) and publishes it; a change left unsaved makes leaving the page ask first."""

from __future__ import annotations

import re
from uuid import UUID

from playwright.sync_api import Locator, Page, expect

from switchboard.connectors.connections.projects import ProjectService
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from switchboard.platform.demo import DEMO_PROJECT
from switchboard.platform.services import Services
from switchboard.recipes.schemas import RecipeCreate
from tests.e2e.live_server import LiveServer
from tests.e2e.steps import DEMO_PASSWORD, expect_heading, sign_in, unique
from tests.e2e.test_connections import sign_in_to_demo_tasks_and_allow
from tests.e2e.test_demo_recipes import with_services
from tests.support.actors import SETUP

# Demo Tasks gives every Switchboard user an account with the same password: the one its sign-in
# page is given in these tests.
PASSWORD = DEMO_PASSWORD


def make_builder_and_recipe(server: LiveServer, email: str, tool: str) -> UUID:
    """A builder who never connected Demo Tasks, and a new recipe of the demo project (one result step)."""

    async def work(services: Services) -> UUID:
        recipes = services.recipes
        user = await services.identity.users.create(
            UserCreate(email=email, password=PASSWORD, name="Bea Builder", role=Role.BUILDER), actor=SETUP
        )
        project = await ProjectService().find(DEMO_PROJECT)
        assert project is not None
        recipe = await recipes.recipes.create(
            RecipeCreate(project_id=project.id, name=tool, title="File a task"), actor=SETUP
        )
        assert user.email == email
        return recipe.id

    return with_services(server, work)


def test_a_builder_makes_tests_and_publishes_a_tool_without_leaving_the_editor(
    page: Page, live_server: LiveServer
) -> None:
    email = f"{unique('bea')}@example.com".lower()
    tool = unique("file_task").replace("-", "_")
    recipe_id = make_builder_and_recipe(live_server, email, tool)
    sign_in(page, email, PASSWORD)
    page.goto(f"/console/recipes/{recipe_id}")
    expect(page.locator("#recipe-status")).to_have_text("Draft")

    # The trigger: one required parameter "title".
    page.get_by_role("button", name="Add parameter").click()
    expect(page.locator("#trigger-parameters-1-name")).to_be_focused()
    page.keyboard.type("title")
    page.get_by_role("checkbox", name="Required").check()
    page.get_by_role("button", name="Save trigger").click()
    expect(page.locator("#trigger-heading")).to_be_focused()
    expect(page.locator("#trigger-form")).not_to_have_attribute("data-dirty", "true")
    expect(page.locator("#test-input-title")).to_be_visible()

    # An action step: Demo Tasks → Create a task → the end user's connection; title from the pill picker.
    page.get_by_label("New step at the end").select_option("action")
    page.get_by_role("button", name="Add step at the end").click()
    # After each swap the focus moves on: to the new step, then to the next choice to make.
    expect(page.locator("#step-step_1-heading")).to_be_focused()
    action = page.locator("#step-form-step_1")
    action.get_by_label("Connector").select_option("demo-tasks")
    expect(action.get_by_label("Action")).to_be_focused()
    action.get_by_label("Action").select_option("create_task")
    expect(action.get_by_label("Connection")).to_be_focused()
    action.get_by_label("Connection").select_option(label="End user's connection: Demo Tasks")
    title = action.locator("#step-step_1-inputs-title")
    action.get_by_text("Insert data pill into title").click()
    # The pill labels are readable on the list behind them.
    assert contrast_ratio(action.locator("button.pill").first) >= 4.5
    action.get_by_role("button", name=re.compile(r"\{\{ input\.title \}\}")).click()
    expect(title).to_have_value("{{ input.title }}")
    expect(title).to_be_focused()
    action.get_by_role("button", name="Save step 1").click()
    expect(page.locator("#step-step_1-heading")).to_be_focused()
    expect(page.locator("#step-step_1-heading")).to_have_text("Step 1 Action Demo Tasks · Create a task")

    # The result text, the pill inserted by keyboard: Tab to the picker, Escape closes it, Enter opens it.
    text = page.locator("#step-result-text")
    text.fill("Created ")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    picker = page.locator("#step-form-result details.pill-picker").first
    expect(picker).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(picker).not_to_have_attribute("open", "")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(text).to_have_value("Created {{ input.title }}")
    page.get_by_role("button", name="Save step 2").click()
    expect(page.locator("#step-result-heading")).to_be_focused()
    expect(page.locator("#problems-heading")).to_have_text("No problems")

    # A test run needs the builder's own Demo Tasks account: the result says so, with the link.
    page.locator("#test-input-title").fill("Water the plants")
    page.get_by_role("button", name="Run test").click()
    expect(page.locator("#test-result-heading")).to_have_text("Test result: Connection required")
    expect(page.locator("#test-connect-link")).to_have_attribute(
        "href", re.compile(r"^http://127\.0\.0\.1:\d+/connect/")
    )

    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#editor-notice")).to_have_text("Published version 1: tools now run it.")
    expect(page.locator("#recipe-status")).to_have_text("Published v1")
    expect(page.locator("#problems")).to_contain_text("The draft is published version 1: tools run it.")
    # Publishing again with nothing changed makes no version 2.
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#editor-notice")).to_have_text("Nothing changed since version 1.")
    expect(page.locator("#recipe-status")).to_have_text("Published v1")

    # A change not saved: leaving the page asks first (and staying keeps it).
    page.locator("#trigger-description").fill("Adds a task to your list.")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(200)
    assert dialogs == ["beforeunload"]
    expect(page.locator("#trigger-description")).to_have_value("Adds a task to your list.")


def step_headings(page: Page) -> Locator:
    return page.locator("#steps h3[id^='step-']")


def settled(page: Page) -> None:
    """Wait until htmx has swapped, settled and wired up the new content (its classes are gone)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def test_a_builder_creates_arranges_tests_and_reviews_a_recipe_in_its_job_history(
    page: Page, live_server: LiveServer
) -> None:
    email = f"{unique('ben')}@example.com".lower()
    tool = unique("my_tasks").replace("-", "_")
    with_services(live_server, lambda services: make_builder_with_demo_tasks_account(services, email))
    sign_in(page, email, PASSWORD)

    # Recipes → New recipe: the recipe is created with one step, Return result, and opens in the editor.
    page.get_by_role("navigation").get_by_text("Build", exact=True).click()
    page.get_by_role("navigation").get_by_role("link", name="Recipes").click()
    expect_heading(page, "Recipes")
    page.get_by_role("button", name="New recipe").click()
    page.get_by_label("Project").select_option(label=DEMO_PROJECT)
    page.get_by_label("Tool name").fill(tool)
    page.get_by_label("Title (optional)").fill("My tasks")
    page.get_by_role("button", name="Create recipe").click()
    expect(page.locator("#recipe-heading")).to_have_text("My tasks")
    expect(step_headings(page)).to_have_text([re.compile(r"^Step 1 Return result")])

    # Add an action and an if / else (each goes before the result), move the if up, then delete it.
    add = page.get_by_label("New step at the end")
    add.select_option("action")
    page.get_by_role("button", name="Add step at the end").click()
    expect(step_headings(page)).to_have_text([re.compile(r"^Step 1 Action"), re.compile(r"^Step 2 Return")])
    add.select_option("if")
    page.get_by_role("button", name="Add step at the end").click()
    expect(step_headings(page)).to_have_text(
        [re.compile(r"^Step 1 Action"), re.compile(r"^Step 2 If / else"), re.compile(r"^Step 3 Return")]
    )
    page.get_by_role("button", name="Move up step 2").click()
    expect(step_headings(page)).to_have_text(
        [re.compile(r"^Step 1 If / else"), re.compile(r"^Step 2 Action"), re.compile(r"^Step 3 Return")]
    )
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete step 1", exact=True).click()
    expect(step_headings(page)).to_have_text([re.compile(r"^Step 1 Action"), re.compile(r"^Step 2 Return")])
    assert asked == ["Delete step 1 and the steps inside it?"]
    settled(page)

    # The action: my own Demo Tasks list, through the end user's connection.
    action = page.locator("form[id^='step-form-']").first
    action.get_by_label("Connector").select_option("demo-tasks")
    expect(action.get_by_label("Action")).to_be_focused()
    action.get_by_label("Action").select_option("list_tasks")
    expect(action.get_by_label("Connection")).to_be_focused()
    settled(page)
    action.get_by_label("Connection").select_option(label="End user's connection: Demo Tasks")
    action.get_by_role("button", name="Save step 1").click()
    expect(step_headings(page).first).to_have_text(re.compile(r"^Step 1 Action Demo Tasks · List my tasks"))
    page.locator("form[id^='step-form-']").nth(1).get_by_label("Text").fill("Listed your tasks.")
    page.get_by_role("button", name="Save step 2").click()
    expect(page.locator("#problems-heading")).to_have_text("No problems")
    expect(page.locator("form[data-dirty]")).to_have_count(0)

    # The first test asks me to connect my own Demo Tasks account; after connecting, it runs.
    page.get_by_role("button", name="Run test").click()
    expect(page.locator("#test-result-heading")).to_have_text("Test result: Connection required")
    editor = page.url
    page.locator("#test-connect-link").click()
    page.get_by_role("button", name="Continue to Demo Tasks").click()
    sign_in_to_demo_tasks_and_allow(page, email)
    expect_heading(page, "Demo Tasks connected")
    page.goto(editor)
    page.get_by_role("button", name="Run test").click()
    expect(page.locator("#test-result-heading")).to_have_text("Test result: Succeeded")
    expect(page.locator("#test-result pre.result-text")).to_have_text("Listed your tasks.")
    rows = page.locator("#test-result table.step-runs tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("1 List my tasks")
    expect(rows.first.locator("td").first).to_have_text("succeeded")

    # The job history lists both tests, newest first; the run's page shows each step.
    page.get_by_role("link", name="Job history").click()
    expect_heading(page, f"Job history of {tool}")
    history = page.locator("table tbody tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("Succeeded")
    expect(history.nth(1)).to_contain_text("Connection required")
    history.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=3, name=re.compile(r"^1 · List my tasks"))).to_be_visible()
    expect(page.get_by_role("heading", level=3, name=re.compile(r"^2 · "))).to_be_visible()


async def make_builder_with_demo_tasks_account(services: Services, email: str) -> None:
    """A builder, who gets an account of the same e-mail in Demo Tasks (another app, its own accounts)."""
    await services.identity.users.create(
        UserCreate(email=email, password=PASSWORD, name="Ben Builder", role=Role.BUILDER), actor=SETUP
    )


def contrast_ratio(element: Locator) -> float:
    """WCAG contrast of an element's text colour against the first opaque background behind it."""
    return float(
        element.evaluate(
            """(el) => {
                const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
                const luminance = ([r, g, b]) => {
                    const [R, G, B] = [r, g, b].map((c) => {
                        c /= 255;
                        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
                    });
                    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
                };
                let node = el;
                let background = [255, 255, 255];
                while (node) {
                    const parts = rgb(getComputedStyle(node).backgroundColor);
                    if (parts.length < 4 || parts[3] === 1) { background = parts.slice(0, 3); break; }
                    node = node.parentElement;
                }
                const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background)];
                return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            }"""
        )
    )
