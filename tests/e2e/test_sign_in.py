"""Signing in and out in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.steps import ADMIN, ALICE, BOB, DEMO_PASSWORD, expect_heading, expect_path, sign_in, sign_out


def test_the_demo_admin_signs_in_and_lands_on_the_user_list(page: Page) -> None:
    page.goto("/")
    expect_path(page, r"^/login$")
    expect(page).to_have_title("Sign in · Switchboard")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect_path(page, r"^/console/users$")
    expect_heading(page, "Users")
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_text("Admin", exact=True).click()  # the console's admin pages are grouped
    for link in ("Users", "Groups", "API tokens", "My profile", "My connections"):
        expect(menu.get_by_role("link", name=link, exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Users", exact=True)).to_have_attribute("aria-current", "page")
    for email in (ADMIN, ALICE, BOB):
        expect(page.get_by_role("link", name=email)).to_be_visible()
    expect(page.get_by_text("Signed in as admin@example.com (Owner)")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message_and_the_email_kept(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(BOB)
    page.get_by_label("Password").fill("not-bobs-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect_path(page, r"^/login$")
    expect(page.get_by_label("Email")).to_have_value(BOB)
    expect(page.get_by_label("Password")).to_have_value("")

    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_path(page, r"^/me$")
    expect_heading(page, "My profile")


def test_the_sign_in_form_can_be_completed_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/login")
    email, password = page.get_by_label("Email"), page.get_by_label("Password")
    expect(email).to_be_focused()  # autofocus: typing can start at once
    page.keyboard.type(ALICE)
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(password).to_be_focused()
    page.keyboard.press("Enter")

    expect_path(page, r"^/me$")
    expect_heading(page, "My profile")


def test_the_skip_link_is_the_first_stop_for_keyboard_users(admin_page: Page) -> None:
    page = admin_page
    page.goto("/console/users")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect_path(page, r"^/console/users#main$")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name=ADMIN)).to_be_focused()


def test_after_signing_out_neither_the_console_nor_the_back_button_shows_console_pages(page: Page) -> None:
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_text("Admin", exact=True).click()
    page.get_by_role("link", name="Groups", exact=True).click()
    expect_path(page, r"^/console/groups$")
    expect(page.get_by_role("link", name="Sales")).to_be_visible()
    sign_out(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    for _ in range(2):  # back to the group list, then to the user list
        page.go_back()
        expect_heading(page, "Sign in to Switchboard")
        expect(page.get_by_role("link", name="Sales")).to_have_count(0)
        expect(page.get_by_role("link", name=ALICE)).to_have_count(0)
    page.goto("/console/users")
    expect_path(page, r"^/login\?next=%2Fconsole%2Fusers$")


def test_a_visitor_sent_to_sign_in_lands_on_the_page_they_asked_for(page: Page) -> None:
    page.goto("/console/groups")
    expect_path(page, r"^/login\?next=%2Fconsole%2Fgroups$")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_path(page, r"^/console/groups$")
    expect_heading(page, "Groups")
