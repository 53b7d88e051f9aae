"""The demo's published recipes against the real Demo Tasks: a caller without a connection gets a link for
them alone; after connecting in the browser, the same call creates a task in their own list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from playwright.sync_api import Page, expect

from switchboard.identity.schemas import UserCreate
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import DEMO_PROJECT
from switchboard.platform.services import Services
from switchboard.recipes.outcomes import Outcome, RunReport
from tests.e2e.live_server import SECRET_KEY, LiveServer
from tests.e2e.steps import DEMO_PASSWORD, expect_heading, sign_in, unique
from tests.e2e.test_connections import sign_in_to_demo_tasks_and_allow
from tests.support.actors import SETUP
from tests.support.runner import run_async

T = TypeVar("T")
# Demo Tasks gives every Switchboard user an account with the same password: the one its sign-in
# page is given in these tests.
PASSWORD = DEMO_PASSWORD


def with_services(server: LiveServer, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``work`` with the services on the live server's database, as the server holds them."""

    async def main() -> T:
        settings = Settings(
            secret_key=SECRET_KEY,
            base_url=server.url,
            database_url=server.env["SWITCHBOARD_DATABASE_URL"],
            data_dir=str(server.data_dir),
        )
        database = Database(settings.database_url, pool_size=1)
        await database.connect()
        services = Services.build(settings, database=database)
        try:
            return await work(services)
        finally:
            await services.connectors.aclose()
            await database.close()

    return run_async(main())


def call_tool(server: LiveServer, email: str, tool: str, inputs: dict[str, Any]) -> RunReport:
    async def work(services: Services) -> RunReport:
        recipes = services.recipes
        user = await services.identity.users.find_by_email(email)
        assert user is not None
        [recipe] = [
            r
            for r in await recipes.recipes.list_all()
            if r.tool_name == tool and r.project_name == DEMO_PROJECT
        ]
        return await recipes.running.call_tool(recipe.id, inputs, await recipes.running.caller(user.id))

    return with_services(server, work)


def test_create_task_runs_with_the_callers_own_demo_tasks_account_once_connected(
    page: Page, live_server: LiveServer
) -> None:
    email = f"{unique('carol')}@example.com".lower()
    with_services(live_server, lambda services: _make_user(services, email))
    title = unique("Call the printer people")

    first = call_tool(live_server, email, "create_task", {"title": title})
    assert first.outcome is Outcome.CONNECTION_REQUIRED, first.message
    assert first.connect_url.startswith(live_server.url + "/connect/")

    sign_in(page, email, PASSWORD)
    page.goto(first.connect_url)
    page.get_by_role("button", name="Continue to Demo Tasks").click()
    sign_in_to_demo_tasks_and_allow(page, email)
    expect_heading(page, "Demo Tasks connected")

    created = call_tool(live_server, email, "create_task", {"title": title})
    assert created.outcome is Outcome.SUCCEEDED, created.message
    assert created.result is not None
    assert created.result.text == f"Created the task “{title}”."
    listed = call_tool(live_server, email, "list_tasks", {})
    assert listed.result is not None
    assert f"- {title}" in listed.result.text.splitlines()
    assert [task["title"] for task in listed.result.structured["tasks"]] == [title]

    page.goto("/demo-tasks/")
    expect(page.get_by_text(title)).to_be_visible()


async def _make_user(services: Services, email: str) -> None:
    """A Switchboard user, who gets an account of the same e-mail in Demo Tasks (another app, with its own
    accounts)."""
    await services.identity.users.create(
        UserCreate(email=email, password=PASSWORD, name="Carol"), actor=SETUP
    )
