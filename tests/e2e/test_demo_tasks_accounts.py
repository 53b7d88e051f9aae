"""Demo Tasks in the demo, for people an operator adds after the seed: the Host a builder's new Demo Tasks
connection starts with, and an account of their own for each new person, who connects it in a real
browser with the password Switchboard gave them."""

from __future__ import annotations

import subprocess

from playwright.sync_api import Page, expect

from switchboard.platform.demo import DEMO_TASKS_CONNECTION
from tests.e2e.live_server import LiveServer, switchboard_command
from tests.e2e.steps import expect_heading, sign_in, unique


def test_a_new_demo_tasks_connection_starts_at_the_demo_tasks_of_this_server(
    live_server: LiveServer, admin_page: Page
) -> None:
    # The server runs on a port of its own, not on the default 8000.
    admin_page.goto("/console/connections/new?connector=demo-tasks")

    expect(admin_page.get_by_label("Host")).to_have_value(f"{live_server.url}/demo-tasks")


def test_a_person_created_on_the_command_line_connects_their_own_demo_tasks_account(
    live_server: LiveServer, page: Page
) -> None:
    email = f"{unique('carol')}@example.com".lower()
    password = "carols-own-password"
    created = subprocess.run(
        [*switchboard_command(), "users", "create", email, "--password", password, "--name", "Carol"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    sign_in(page, email, password)
    page.goto("/me/connections")

    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    row.get_by_role("button", name="Connect").click()
    expect_heading(page, "Sign in to Demo Tasks")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()

    expect_heading(page, "Demo Tasks connected")
    expect(page.get_by_role("status")).to_have_text(
        f"Your Demo Tasks account {email} is connected. You can return to your assistant."
    )
