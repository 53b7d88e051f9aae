"""End users connect their own Demo Tasks account in a real browser: from My connections, and from a
connect link a tool gave them (made here the way the tool layer makes it)."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import DEMO_TASKS_CONNECTION
from tests.e2e.live_server import SECRET_KEY, LiveServer
from tests.e2e.steps import ALICE, BOB, DEMO_PASSWORD, expect_heading, expect_path, sign_in
from tests.support.runner import run_async


def make_connect_link(server: LiveServer, email: str) -> str:
    """What a tool answers when it needs the caller's Demo Tasks account: a link for that person only."""

    async def work() -> str:
        settings = Settings(
            secret_key=SECRET_KEY,
            base_url=server.url,
            database_url=server.env["SWITCHBOARD_DATABASE_URL"],
            data_dir=str(server.data_dir),
        )
        database = Database(settings.database_url, pool_size=1)
        await database.connect()
        identity = IdentityServices.from_settings(settings)
        connectors = ConnectorServices.from_settings(
            settings, audit=identity.oauth.audit, sign=identity.oauth.keys.sign_assertion
        )
        try:
            user = await identity.users.find_by_email(email)
            assert user is not None
            (connection,) = [
                c for c in await connectors.connections.list_all() if c.name == DEMO_TASKS_CONNECTION
            ]
            return await connectors.grants.connect_link(UUID(str(user.id)), connection.id)
        finally:
            await connectors.aclose()
            await database.close()

    return run_async(work())


def sign_in_to_demo_tasks_and_allow(page: Page, email: str) -> None:
    """Demo Tasks is another app: its own sign-in page and its own consent."""
    expect_heading(page, "Sign in to Demo Tasks")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("to use your Demo Tasks account?")
    page.get_by_role("button", name="Allow").click()


def test_a_person_connects_demo_tasks_from_my_connections_then_disconnects(page: Page) -> None:
    sign_in(page, BOB)
    page.goto("/me/connections")
    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    expect(row).to_contain_text("Not connected")

    row.get_by_role("button", name="Connect").click()
    sign_in_to_demo_tasks_and_allow(page, BOB)

    expect_heading(page, "Demo Tasks connected")
    expect(page.get_by_role("status")).to_have_text(
        f"Your Demo Tasks account {BOB} is connected. You can return to your assistant."
    )
    page.get_by_role("link", name="Back to My connections").click()
    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    expect(row).to_contain_text("Connected")
    expect(row).to_contain_text(BOB)
    expect(row).to_contain_text("tasks:write")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)).to_contain_text("Not connected")


def test_a_connect_link_works_once_and_only_for_the_person_it_was_made_for(
    live_server: LiveServer, page: Page, another_browser: object
) -> None:
    link = make_connect_link(live_server, ALICE)
    assert link.startswith(f"{live_server.url}/connect/")
    bobs_page = another_browser()  # type: ignore[operator]
    sign_in(bobs_page, BOB)

    bobs_page.goto(link)
    expect(bobs_page.get_by_role("alert")).to_have_text(
        "This connect link was made for another account. Sign in as the person who asked for it."
    )

    # Alice opens it not yet signed in: she signs in to Switchboard first, then comes back to it.
    page.goto(link)
    expect_path(page, r"^/login")
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "Connect your Demo Tasks account")
    expect(page.get_by_text("tasks:write")).to_be_visible()
    page.get_by_role("button", name="Continue to Demo Tasks").click()
    sign_in_to_demo_tasks_and_allow(page, ALICE)
    expect_heading(page, "Demo Tasks connected")

    page.goto(link)
    expect(page.get_by_role("alert")).to_have_text(
        "This connect link was already used. Ask your assistant for a new one."
    )
