"""Managing MCP servers in the console: create one, let a group use it, give it a tool, copy its URL,
create an API token, and read the tool-call audit log."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Dialog, Locator, Page, expect

from tests.e2e.steps import ALICE, FORBIDDEN, expect_heading, expect_notice, expect_path, sign_in, unique


def tabs(page: Page) -> Locator:
    """The server page's tabs: Overview, End user access, Tools, API tokens."""
    return page.get_by_role("navigation", name="Server")


def test_an_admin_creates_a_server_adds_a_group_in_the_dialog_attaches_a_tool_and_copies_the_url(
    admin_page: Page,
) -> None:
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    name = unique("Finance")
    slug = name.lower()
    page.goto("/console/servers")
    page.get_by_role("button", name="New MCP server").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Instructions for the model").fill("Use these for invoices.")
    expect(page.get_by_label("Identity (verified users)")).to_be_checked()
    page.get_by_role("button", name="Create server").click()

    expect_notice(page, f"MCP server {name} created. Add the user groups who may use it, then attach tools.")
    expect_path(page, r"^/console/servers/[0-9a-f-]{36}/access$")
    expect_heading(page, name)
    expect(tabs(page).get_by_role("link", name="End user access")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No user group may use this server yet.")).to_be_visible()

    # The "Add user groups" dialog: a multi-select of the groups, and Add.
    dialog = page.get_by_role("dialog", name="Add user groups")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Add user groups").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("User groups").select_option(label="Sales")
    dialog.get_by_role("button", name="Add").click()
    expect_notice(page, f"Sales may now use {name}.")
    groups = page.get_by_role("table")
    expect(groups.get_by_role("link", name="Sales")).to_be_visible()

    tabs(page).get_by_role("link", name="Tools").click()
    expect(page.get_by_text("No tools yet.")).to_be_visible()
    page.get_by_label("Published recipe").select_option(label="whoami — Who am I (Demo, v1)")
    page.get_by_role("group", name="Hints for clients", exact=True).get_by_label("Read-only").check()
    page.get_by_role("button", name="Attach tool").click()
    expect_notice(page, "Tool whoami attached.")
    expect(page.get_by_label("Scope of whoami")).to_have_value("mcp:tools:whoami")
    expect(page.get_by_role("row", name=re.compile("whoami")).get_by_label("Read-only")).to_be_checked()

    tabs(page).get_by_role("link", name="Overview").click()
    url = page.get_by_label("Server URL", exact=True)
    expect(url).to_have_value(re.compile(rf"^http://127\.0\.0\.1:\d+/mcp/{slug}$"))
    page.get_by_role("button", name="Copy the server URL").click()
    expect(page.get_by_role("button", name="Copy the server URL")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url.input_value()
    cursor = json.loads(page.get_by_label("Cursor configuration", exact=True).input_value())
    assert cursor == {"mcpServers": {slug: {"url": url.input_value()}}}
    for client in ("Claude", "VS Code", "MCP Inspector"):
        expect(page.get_by_label(f"{client} configuration", exact=True)).to_be_visible()
    expect(page.get_by_text("Members of Sales may use it.")).to_be_visible()

    page.once("dialog", lambda question: question.accept())
    page.get_by_role("button", name="Delete server").click()
    expect_notice(page, f"MCP server {name} deleted.")
    expect_path(page, r"^/console/servers$")
    expect(page.get_by_role("link", name=name)).to_have_count(0)


def test_a_token_server_s_api_token_is_shown_once_and_revoked_after_a_confirmation(admin_page: Page) -> None:
    page = admin_page
    name = unique("Nightly")
    page.goto("/console/servers/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Slug").fill(name.lower())
    page.get_by_label("Token (API tokens)").check()
    page.get_by_role("button", name="Create server").click()
    expect_notice(page, f"MCP server {name} created. Attach tools and create an API token.")

    tabs(page).get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("Reports job")
    page.get_by_role("button", name="Create API token").click()
    secret = page.get_by_label("API token", exact=True)
    expect(secret).to_have_value(re.compile(r"^sbt_"))
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    value = secret.input_value()

    page.reload()
    expect(page.get_by_label("API token", exact=True)).to_have_count(0)
    assert value not in page.content()
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.get_by_role("button", name="Revoke Reports job").click()
    expect_notice(page, "API token Reports job revoked.")
    assert questions == ["Revoke the API token Reports job?"]
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()


def test_the_tool_call_log_filters_and_exports_csv(admin_page: Page, tmp_path: Path) -> None:
    page = admin_page
    page.goto("/console/tool-calls")
    expect_heading(page, "Tool calls")
    page.get_by_label("Outcome").select_option(label="Rate limited")
    page.get_by_label("User email").fill("nobody@example.com")
    page.get_by_role("button", name="Filter").click()
    expect_path(page, r"^/console/tool-calls\?.*outcome=rate_limited")
    expect(page.get_by_text("No tool calls match these filters.")).to_be_visible()
    expect(page.get_by_label("Outcome")).to_have_value("rate_limited")

    page.get_by_label("From (UTC)").fill("2026-11-20")
    page.get_by_label("To (UTC)").fill("2026-11-19")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("To (UTC)")).to_have_accessible_description(
        "The last day comes before the first."
    )

    page.goto("/console/tool-calls")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "calls.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("tool-calls-")
    header = next(csv.reader(io.StringIO(saved.read_text())))
    assert header == [
        "time",
        "server",
        "tool",
        "user",
        "client",
        "outcome",
        "duration_ms",
        "run_id",
        "message",
        "client_name",
        "scope",
        "ip_address",
        "user_agent",
    ]


def test_a_member_is_refused_the_server_pages(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/console/servers")
    expect_path(page, r"^/login")
    sign_in(page, ALICE)
    expect(page.get_by_role("link", name="MCP servers")).to_have_count(0)
    page.goto("/console/servers")
    expect_heading(page, FORBIDDEN)
