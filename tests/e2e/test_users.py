"""Managing users in the console, and what the managed user then experiences."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.steps import FORBIDDEN, expect_heading, expect_notice, expect_path, sign_in, unique


def test_an_admin_creates_a_user_changes_the_role_resets_the_password_and_deactivates_them(
    admin_page: Page, another_browser: Callable[[], Page]
) -> None:
    page = admin_page
    email = f"{unique('dana')}@example.com"
    page.goto("/console/users")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill("Dana Demo")
    page.get_by_label("Password").fill("first-password-1")
    page.get_by_label("Role").select_option(label="Builder")
    page.get_by_role("button", name="Create user").click()

    expect_notice(page, f"User {email} created.")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=email))
    expect(row.get_by_role("cell")).to_have_text([email, "Dana Demo", "Builder", "", "Active"])

    row.get_by_role("link", name=email).click()
    expect_path(page, r"^/console/users/[0-9a-f-]{36}$")
    expect_heading(page, email)
    page.get_by_label("Role").select_option(label="Admin")
    page.get_by_role("button", name="Save changes").click()
    expect_notice(page, "Changes saved.")
    expect(page.get_by_label("Role")).to_have_value("admin")

    page.get_by_label("New password").fill("second-password-2")
    page.get_by_role("button", name="Reset password").click()
    expect_notice(page, "Password reset. Their other sessions were signed out.")

    # Dana's own browser: the old password no longer works, the new one does, and as an admin.
    dana = another_browser()
    dana.goto("/login")
    dana.get_by_label("Email").fill(email)
    dana.get_by_label("Password").fill("first-password-1")
    dana.get_by_role("button", name="Sign in").click()
    expect(dana.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    dana.get_by_label("Password").fill("second-password-2")
    dana.get_by_role("button", name="Sign in").click()
    expect_path(dana, r"^/console/users$")

    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Deactivate user").click()
    expect_notice(page, f"{email} was deactivated and signed out.")
    assert questions == [f"Deactivate {email}? They are signed out at once and cannot sign in."]
    expect(page.get_by_role("button", name="Reactivate user")).to_be_visible()

    # Deactivation ends Dana's session at once, and she cannot sign in again.
    dana.reload()
    expect_path(dana, r"^/login\?next=%2Fconsole%2Fusers$")
    dana.get_by_label("Email").fill(email)
    dana.get_by_label("Password").fill("second-password-2")
    dana.get_by_role("button", name="Sign in").click()
    expect(dana.get_by_role("alert")).to_have_text("Wrong e-mail or password.")

    page.get_by_role("navigation", name="Main").get_by_text("Admin", exact=True).click()
    page.get_by_role("link", name="Users", exact=True).first.click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=email))
    expect(row.get_by_role("cell")).to_have_text([email, "Dana Demo", "Admin", "", "Deactivated"])


def test_creating_a_user_with_a_taken_email_shows_the_message_at_the_field(admin_page: Page) -> None:
    page = admin_page
    page.goto("/console/users")
    page.get_by_label("Email").fill("ALICE@example.com")
    page.get_by_label("Name").fill("Alice Again")
    page.get_by_label("Password").fill("long-enough-1")
    page.get_by_role("button", name="Create user").click()

    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("A user with the e-mail alice@example.com already exists.")
    expect(email).to_have_value("ALICE@example.com")
    expect(page.get_by_label("Name")).to_have_value("Alice Again")
    expect_path(page, r"^/console/users$")


def test_an_api_token_is_shown_once_and_can_be_revoked(admin_page: Page) -> None:
    page = admin_page
    name = unique("nightly-export")
    page.goto("/console/api-tokens")
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Create token").click()

    token = page.get_by_label("Token", exact=True)
    expect(token).to_have_value(re.compile(r"^sbk_\S{20,}$"))
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Revoke {name}").click()
    expect_notice(page, "Token revoked. Scripts using it are refused from now on.")
    expect(page.get_by_role("cell", name=name)).to_have_count(0)


def test_an_admin_demoted_to_member_loses_the_console_on_their_next_click(
    admin_page: Page, another_browser: Callable[[], Page]
) -> None:
    page = admin_page
    email = f"{unique('erin')}@example.com"
    page.goto("/console/users")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("erins-password-1")
    page.get_by_label("Role").select_option(label="Admin")
    page.get_by_role("button", name="Create user").click()
    expect_notice(page, f"User {email} created.")

    erin = another_browser()
    sign_in(erin, email, "erins-password-1")
    expect_path(erin, r"^/console/users$")

    page.get_by_role("link", name=email).click()
    expect_heading(page, email)
    page.get_by_label("Role").select_option(label="Member")
    page.get_by_role("button", name="Save changes").click()
    expect_notice(page, "Changes saved.")

    erin.get_by_role("navigation", name="Main").get_by_text("Admin", exact=True).click()
    erin.get_by_role("link", name="Groups", exact=True).click()
    expect_heading(erin, FORBIDDEN)
