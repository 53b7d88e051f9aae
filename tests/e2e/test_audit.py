"""The Audit section in Chromium: a change made in the console is found with the filters and in the CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.steps import ADMIN, expect_heading, expect_notice, expect_path, unique


def test_an_admin_finds_a_change_they_made_and_downloads_it(admin_page: Page, tmp_path: Path) -> None:
    page = admin_page
    name = unique("=Auditors")  # a spreadsheet formula, were it not kept as text
    page.goto("/console/groups")
    page.get_by_label("Group name").fill(name)
    page.get_by_role("button", name="Create group").click()
    expect_notice(page, f"Group {name} created.")

    page.goto("/console/audit")
    expect_heading(page, "Audit")
    expect(page.get_by_role("navigation", name="Audit").get_by_role("link", name="Events")).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("Object type").select_option(label="Group")
    page.get_by_label("Object name or id contains").fill(name)
    page.get_by_role("button", name="Filter").click()
    expect_path(page, r"^/console/audit\?.*object_type=group")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and the one change
    expect(rows.nth(1)).to_contain_text("group.created")
    expect(rows.nth(1)).to_contain_text(ADMIN)
    expect(rows.nth(1)).to_contain_text(name)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    records = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["action"], r["actor"], r["object_name"]) for r in records] == [
        ("group.created", ADMIN, "'" + name)
    ]

    page.get_by_role("navigation", name="Audit").get_by_role("link", name="Tool calls").click()
    expect_heading(page, "Tool calls")
