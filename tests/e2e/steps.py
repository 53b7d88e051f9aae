"""What a person does in the browser, in the words they would use."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "switchboard-demo"
ADMIN = "admin@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"
FORBIDDEN = "You don't have access to this page"


def unique(prefix: str) -> str:
    """A name no other test uses, so tests sharing a server do not collide."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def expect_path(page: Page, pattern: str) -> None:
    """Wait until the address bar's path (and query) matches ``pattern``.

    Read from ``location`` itself: Playwright's ``page.url`` misses the history entries htmx pushes
    after a boosted form post.
    """
    page.wait_for_function(
        "pattern => new RegExp(pattern).test(location.pathname + location.search + location.hash)",
        arg=pattern,
    )


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect_path(page, r"^/(?!login)")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect_path(page, r"^/login$")


def expect_notice(page: Page, text: str) -> None:
    """The one-time notice that confirms a change (waiting for it: the old page may still show)."""
    expect(page.get_by_role("status")).to_have_text(text)


def expect_heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
