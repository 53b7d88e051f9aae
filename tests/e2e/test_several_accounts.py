"""Several accounts of one app in a real browser: a person connects Demo Tasks, then another Demo Tasks
account under the name "work" from My connections, and makes it their default."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from switchboard.platform.demo import DEMO_TASKS_CONNECTION
from tests.e2e.steps import ALICE, BOB, DEMO_PASSWORD, expect_heading, expect_notice, sign_in
from tests.e2e.test_connections import sign_in_to_demo_tasks_and_allow


def allow_at_demo_tasks(page: Page, email: str) -> None:
    """Demo Tasks asks the person to sign in, unless they still are there (as someone else, here)."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("Sign in to Demo Tasks|to use your Demo Tasks account"))
    if heading.inner_text() == "Sign in to Demo Tasks":
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    expect(heading).to_contain_text("to use your Demo Tasks account?")
    page.get_by_role("button", name="Allow").click()


def test_a_person_connects_a_second_account_by_name_and_makes_it_their_default(page: Page) -> None:
    sign_in(page, BOB)
    page.goto("/me/connections")
    page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION).get_by_role(
        "button", name="Connect"
    ).click()
    sign_in_to_demo_tasks_and_allow(page, BOB)
    page.get_by_role("link", name="Back to My connections").click()

    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    row.get_by_text("Connect another account").click()
    row.get_by_label("Name for the new account").fill("work")
    row.get_by_role("button", name="Continue to Demo Tasks").click()
    allow_at_demo_tasks(page, ALICE)
    expect(page.get_by_role("status")).to_contain_text("is connected as work.")
    page.get_by_role("link", name="Back to My connections").click()

    first, work = page.locator(f'tr[data-account="{BOB}"]'), page.locator('tr[data-account="work"]')
    expect(first).to_contain_text("Default")
    expect(work).to_contain_text("Connected")
    work.get_by_role("button", name="Make work the default Demo Tasks account").click()

    expect_notice(page, "work is now your default account there.")
    expect(work).to_contain_text("Default")
    expect(first).not_to_contain_text("Default")
    expect(first.get_by_role("button", name=f"Make {BOB} the default Demo Tasks account")).to_be_visible()

    # As other tests expect to find Bob: not connected.
    for account in (first, work):
        page.once("dialog", lambda dialog: dialog.accept())
        account.get_by_role("button", name="Disconnect").click()
        expect(account).to_have_count(0)
    expect_heading(page, "My connections")
    expect(page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)).to_contain_text("Not connected")
