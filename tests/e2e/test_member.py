"""What a member sees: their own profile and connections, never the console."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.steps import ALICE, FORBIDDEN, expect_heading, expect_path, sign_in, sign_out


def test_a_member_sees_only_their_own_pages_and_is_refused_the_console(page: Page) -> None:
    sign_in(page, ALICE)
    expect_path(page, r"^/me$")
    expect_heading(page, "My profile")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_have_text(
        ["Switchboard", "My profile", "My connections", "My servers", "My apps"]
    )
    expect(menu.get_by_role("button")).to_have_text(["Sign out"])
    facts = page.locator("dl")
    expect(facts).to_contain_text(ALICE)
    expect(facts).to_contain_text("Alice Anders")
    expect(facts).to_contain_text("Member")
    expect(facts).to_contain_text("Sales")

    menu.get_by_role("link", name="My connections").click()
    expect_path(page, r"^/me/connections$")
    expect_heading(page, "My connections")
    # The demo's end user's connection (whether Alice has connected it depends on other tests).
    expect(page.get_by_role("row").filter(has_text="Demo Tasks")).to_have_count(1)

    for path in ("/console/users", "/console/groups", "/console/api-tokens"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403
        expect_heading(page, FORBIDDEN)
        expect(page.get_by_text("Only owners and admins can open this.")).to_be_visible()
        expect(menu.get_by_role("link", name="Users")).to_have_count(0)

    sign_out(page)
    page.goto("/me")
    expect_path(page, r"^/login\?next=%2Fme$")


def test_a_member_opens_my_servers_and_copies_the_claude_set_up(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, ALICE)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My servers").click()
    expect_path(page, r"^/me/servers$")
    expect_heading(page, "My servers")
    expect(page.get_by_role("heading", level=2)).to_have_text(["Demo"])
    demo = page.get_by_role("main")
    url = demo.get_by_role("textbox", name="Demo server URL")
    expect(url).to_have_value(re.compile(r"^http://[^/]+/mcp/demo$"))
    copy = demo.get_by_role("button", name="Copy the Claude configuration for Demo")
    copy.click()
    expect(copy).to_have_text("Copied")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard == f"claude mcp add --transport http demo {url.input_value()}"
