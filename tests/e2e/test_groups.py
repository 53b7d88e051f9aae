"""Managing end-user groups in the console."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.steps import BOB, expect_heading, expect_notice, expect_path, unique


def test_an_admin_creates_renames_fills_empties_and_deletes_a_group(admin_page: Page) -> None:
    page = admin_page
    name, new_name = unique("Support"), unique("Customer Care")
    page.goto("/console/groups")
    page.get_by_label("Group name").fill(name)
    page.get_by_label("Description").fill("First-line support")
    page.get_by_role("button", name="Create group").click()

    expect_notice(page, f"Group {name} created.")
    expect_path(page, r"^/console/groups/[0-9a-f-]{36}$")
    group_path = page.evaluate("location.pathname")
    expect_heading(page, name)
    expect(page.get_by_text("No members yet.")).to_be_visible()

    page.get_by_label("Group name").fill(new_name)
    page.get_by_role("button", name="Save group").click()
    expect_notice(page, "Group saved.")
    expect_heading(page, new_name)
    expect(page.get_by_label("Description")).to_have_value("First-line support")

    page.get_by_label("Add member by email").fill(BOB.upper())
    page.get_by_role("button", name="Add member").click()
    expect_notice(page, f"{BOB} added.")
    members = page.get_by_role("table")
    expect(members.get_by_role("row")).to_have_count(2)  # header and Bob
    expect(members.get_by_role("cell", name=BOB, exact=True)).to_be_visible()
    expect(members.get_by_role("cell", name="Bob Berg")).to_be_visible()

    page.get_by_role("button", name=f"Remove {BOB}").click()
    expect_notice(page, f"{BOB} removed.")
    expect(page.get_by_text("No members yet.")).to_be_visible()

    # Cancelling the confirmation keeps the group; accepting it deletes it.
    questions: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    answer(accept=False)
    page.get_by_role("button", name="Delete group").click()
    expect_path(page, f"^{re.escape(group_path)}$")
    expect_heading(page, new_name)
    answer(accept=True)
    page.get_by_role("button", name="Delete group").click()
    expect_notice(page, f"Group {new_name} deleted.")
    expect_path(page, r"^/console/groups$")
    assert questions == [f"Delete the group {new_name}?"] * 2
    expect(page.get_by_role("link", name=new_name)).to_have_count(0)
    expect(page.get_by_role("link", name="Sales")).to_be_visible()


def test_a_group_name_taken_in_another_case_is_refused_at_the_field(admin_page: Page) -> None:
    page = admin_page
    page.goto("/console/groups")
    page.get_by_label("Group name").fill("SALES")
    page.get_by_role("button", name="Create group").click()

    field = page.get_by_label("Group name")
    expect(field).to_have_accessible_description("A group named 'SALES' already exists.")
    expect(field).to_have_value("SALES")
    expect(page.get_by_role("link", name="SALES", exact=True)).to_have_count(0)
