"""Adding a remote MCP server in the console, in Chromium: Discover shows what the server asks for, Add
server lists its tools, List tools again, Edit settings, and Remove with its confirmation. The remote
server is the official MCP SDK's (tests/support/remote_mcp.py), on this machine: the admin allows private
addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.steps import expect_heading, expect_notice, expect_path, unique
from tests.support.remote_mcp import FilesServer


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    with FilesServer() as server:
        yield server.endpoint


def test_an_admin_discovers_and_adds_a_remote_server_then_removes_it(
    admin_page: Page, files_endpoint: str
) -> None:
    page = admin_page
    key = unique("files").replace("-", "_")
    page.goto("/console/remote-servers")
    page.get_by_role("button", name="Add remote server").click()
    page.get_by_label("Endpoint URL").fill(files_endpoint)
    page.get_by_label("Allow private network addresses").check()
    page.get_by_role("button", name="Discover").click()

    discovery = page.get_by_role("region", name="What the server asks for")
    expect(discovery).to_contain_text("Needs authorization")
    expect(discovery.locator("dd").first).to_have_text("No")
    expect(page.get_by_label("Endpoint URL")).to_have_value(files_endpoint)
    expect(page.get_by_label("Authentication")).to_contain_text("As discovered (None)")

    page.get_by_label("Key").fill(key)
    page.get_by_label("Name").fill("Files")
    page.get_by_role("button", name="Add server").click()

    expect_notice(page, "Remote server Files added with 3 tools.")
    expect_path(page, f"^/console/remote-servers/{key}$")
    expect_heading(page, "Files")
    tools = page.get_by_role("table")
    expect(tools.get_by_role("row")).to_have_count(4)
    expect(tools.get_by_role("row").nth(1)).to_contain_text("search_files")
    expect(tools.get_by_role("row").nth(2)).to_contain_text("Destructive")

    page.get_by_role("button", name="List tools again").click()
    expect_notice(page, "Tools listed again: 3 tools.")

    # A name that would break out of a script written around it stays a name.
    name = "Team's files'); document.body.dataset.injected = ('yes"
    page.get_by_role("button", name="Edit settings").click()
    expect_heading(page, "Edit Files")
    expect(page.get_by_label("Endpoint URL")).to_have_value(files_endpoint)
    expect(page.get_by_label("Allow private network addresses")).to_be_checked()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Save").click()
    expect_notice(page, f"Remote server {name} saved.")
    expect_heading(page, name)

    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Remove server").click()
    expect_notice(page, f"Remote server {name} removed.")
    assert questions == [f"Remove {name} and its connector?"]
    assert page.evaluate("document.body.dataset.injected") is None
    expect(page.get_by_role("link", name=name)).to_have_count(0)
