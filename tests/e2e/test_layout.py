"""Every page loads cleanly and fits the screen, from a phone to a desktop.

Set SWITCHBOARD_SCREENSHOTS=<dir> to keep a full-page screenshot of each page for a visual review.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ADMIN, ALICE, expect_heading, expect_path, sign_in

SCREENSHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS")
PHONE = {"width": 375, "height": 740}
PHONE_390 = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def overflowing(page: Page) -> list[str]:
    """Elements that stick out of the viewport sideways (what makes a page scroll horizontally)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          return [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .filter(e => !e.parentElement.closest('.table-wrap'))
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`);
        }"""
    )


def console_pages(page: Page) -> list[tuple[str, str]]:
    """(name, path) of each page an admin opens, found by following the console's own links."""
    page.goto("/console/users")
    user_path = page.get_by_role("link", name=ALICE).get_attribute("href")
    page.goto("/console/groups")
    group_path = page.get_by_role("link", name="Sales", exact=True).get_attribute("href")
    page.goto("/console/servers")
    server_path = page.get_by_role("link", name="Demo", exact=True).get_attribute("href")
    assert user_path
    assert group_path
    assert server_path
    return [
        ("users", "/console/users"),
        ("user", user_path),
        ("groups", "/console/groups"),
        ("group", group_path),
        ("api-tokens", "/console/api-tokens"),
        ("servers", "/console/servers"),
        ("server", server_path),
        ("server-access", f"{server_path}/access"),
        ("server-tools", f"{server_path}/tools"),
        ("server-tokens", f"{server_path}/tokens"),
        ("new-server", "/console/servers/new"),
        ("remote-servers", "/console/remote-servers"),
        ("new-remote-server", "/console/remote-servers/new"),
        ("audit", "/console/audit"),
        ("tool-calls", "/console/tool-calls"),
        ("me", "/me"),
        ("connections", "/me/connections"),
        ("not-found", "/no/such/page"),
    ]


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_screen_and_loads_without_browser_errors(
    admin_page: Page, live_server: LiveServer, screen: dict[str, int], request: pytest.FixtureRequest
) -> None:
    page = admin_page
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # The browser reports the not-found page's own 404 status; that one is expected.
        if message.type == "error" and not message.location.get("url", "").endswith("/no/such/page"):
            problems.append(f"console error: {message.text} at {message.location.get('url')}")

    def on_response(response: Response) -> None:
        if response.url.startswith(live_server.url + "/static/") and response.status != 200:
            problems.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("response", on_response)
    page.set_viewport_size(screen)

    pages = console_pages(page)
    for name, path in pages:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert overflowing(page) == [], f"{name} scrolls sideways on a {screen['width']}px screen"
        # The style sheets applied: the header's rule comes from app.css.
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).borderBottomStyle"
        ) == ("solid")
        if SCREENSHOTS:
            engine = request.node.callspec.params["live_server"]
            folder = Path(SCREENSHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=folder / f"{engine}-{screen['width']}-{name}.png", full_page=True)
    page.context.clear_cookies()
    page.goto("/login")
    expect_heading(page, "Sign in to Switchboard")
    assert overflowing(page) == []
    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / f"{screen['width']}-login.png", full_page=True)
    assert problems == []


def rows(page: Page) -> int:
    """How many rows the main navigation's visible items take."""
    return page.evaluate(
        """() => {
          const nav = document.querySelector('nav[aria-label="Main"]');
          const items = [...nav.querySelectorAll("a, summary, button, input[type=button]")]
            .filter(e => e.checkVisibility({visibilityProperty: true}));
          const middles = items.map(e => e.getBoundingClientRect()).map(r => (r.top + r.bottom) / 2);
          middles.sort((a, b) => a - b);
          return middles.filter((middle, i) => i === 0 || middle - middles[i - 1] > 16).length;
        }"""
    )


@pytest.mark.parametrize(
    ("email", "groups"), [(ADMIN, ["Admin", "Build"]), (ALICE, [])], ids=["admin", "member"]
)
def test_on_a_desktop_the_menu_is_one_row_with_sign_out_on_it(
    page: Page, email: str, groups: list[str]
) -> None:
    sign_in(page, email)
    menu = page.get_by_role("navigation", name="Main")

    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / f"menu-desktop-{email}.png")
    assert rows(page) == 1
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    expect(menu.get_by_role("button", name="Menu")).to_have_count(0)
    expect(menu.locator("summary")).to_have_text(groups)
    if groups:
        # A grouped link is one click away, and the group says where the page is.
        expect(menu.get_by_role("link", name="Groups", exact=True)).to_be_hidden()
        menu.get_by_text("Admin", exact=True).click()
        menu.get_by_role("link", name="Groups", exact=True).click()
        expect_path(page, r"^/console/groups$")
        expect(menu.locator("summary.current")).to_have_text("Admin")
        assert rows(page) == 1


def test_on_a_phone_the_menu_opens_every_link_and_signs_out(page: Page) -> None:
    page.set_viewport_size(PHONE_390)
    sign_in(page, ADMIN)
    menu = page.get_by_role("navigation", name="Main")
    hrefs = menu.locator("#site-menu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")

    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / "menu-phone-closed.png")
    assert rows(page) == 1
    expect(menu.get_by_role("button", name="Sign out")).to_be_hidden()
    menu.get_by_role("button", name="Menu").focus()  # opened from the keyboard
    page.keyboard.press("Enter")
    for group in ("Admin", "Build"):
        menu.get_by_text(group, exact=True).click()
    for href in hrefs:
        expect(menu.locator(f'#site-menu a[href="{href}"]')).to_be_visible()
    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / "menu-phone-open.png")
    assert overflowing(page) == []
    assert len(hrefs) == 15

    menu.get_by_role("button", name="Sign out").click()
    expect_path(page, r"^/login")
