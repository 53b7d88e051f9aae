"""A person authorizing a new MCP client that awaits approval: the waiting page continues to the consent
page by itself once an administrator approves the client in the console. A refusal reaches the client as
``error=access_denied``: by itself for an approved client, through a link the person follows for one no
administrator vouched for."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ALICE, BOB, DEMO_PASSWORD, expect_heading, unique
from tests.e2e.test_oauth import Callback, authorize, callback, callback_answer

__all__ = ["callback"]


def _register(live_server: LiveServer, name: str, callback: Callback) -> str:
    registered = httpx.post(
        f"{live_server.url}/oauth/register",
        json={"client_name": name, "redirect_uris": [callback.uri], "token_endpoint_auth_method": "none"},
    )
    assert registered.status_code == 201, registered.text
    return str(registered.json()["client_id"])


def _sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_waiting_page_continues_to_consent_once_an_admin_approves_the_client(
    admin_page: Page, page: Page, callback: Callback, live_server: LiveServer
) -> None:
    name = unique("New agent")
    client_id = _register(live_server, name, callback)

    state, _ = authorize(page, client_id, callback.uri)
    _sign_in(page, ALICE)
    expect_heading(page, "This app awaits approval")
    expect(
        page.get_by_text(
            f"An administrator must approve {name}. This page continues by itself once they do; "
            "you can leave it open."
        )
    ).to_be_visible()

    admin_page.goto("/console/users")
    # The closed Admin group shows that clients await approval; opened, MCP clients says how many.
    admin_group = admin_page.get_by_role("navigation", name="Main").locator("details", has_text="Admin")
    expect(admin_group.locator("mark.awaiting-approval")).to_be_attached()
    admin_group.get_by_text("Admin", exact=True).click()
    entry = admin_page.get_by_role("link", name=re.compile(r"^MCP clients"))
    expect(entry.locator("mark")).to_have_text(re.compile(r"^\d+ awaiting approval$"))
    entry.click()
    admin_page.get_by_role("button", name=f"Approve {name}").click()

    # Alice's page, left open, reaches the consent page of the same request.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Allow {name} to use Switchboard as you?", timeout=15_000
    )
    page.get_by_role("button", name="Allow").click()
    answer = callback_answer(page, callback, 1)
    assert sorted(answer) == ["code", "iss", "state"]
    assert answer["state"] == state


def test_a_client_refused_while_the_person_waits_hears_access_denied_through_the_link_they_follow(
    admin_page: Page, page: Page, callback: Callback, live_server: LiveServer
) -> None:
    name = unique("Unwanted agent")
    client_id = _register(live_server, name, callback)
    state, _ = authorize(page, client_id, callback.uri)
    _sign_in(page, ALICE)
    expect_heading(page, "This app awaits approval")

    admin_page.goto("/console/clients")
    admin_page.get_by_role("button", name=f"Refuse {name}").click()

    # The waiting page learns of the refusal by itself; nobody vouched for the redirect URI, so the
    # person is shown where the link leads and follows it.
    expect(page.get_by_role("heading", level=1)).to_have_text("This app was refused", timeout=15_000)
    expect(page.locator(".redirect-host")).to_have_text(f"127.0.0.1:{callback.port}")
    assert callback.received == []
    page.get_by_role("button", name=f"Return to {name}").click()
    assert callback_answer(page, callback, 1) == {
        "error": "access_denied",
        "error_description": f"An administrator refused {name}; it cannot sign in.",
        "state": state,
        "iss": live_server.url,
    }


def test_a_person_without_access_is_told_why_then_taken_back_to_the_client(
    admin_page: Page, page: Page, callback: Callback, live_server: LiveServer
) -> None:
    name = unique("Approved agent")
    client_id = _register(live_server, name, callback)
    admin_page.goto("/console/clients")
    admin_page.get_by_role("button", name=f"Approve {name}").click()
    expect(admin_page.get_by_role("button", name=f"Approve {name}")).to_have_count(0)

    state, _ = authorize(page, client_id, callback.uri, resource=f"{live_server.url}/mcp/demo")
    _sign_in(page, BOB)
    expect_heading(page, "You do not have access")
    expect(page.get_by_text(f"Switchboard takes you back to {name} in 6 seconds")).to_be_visible()
    # Nothing to press: the browser goes back to the client, which hears why.
    expect(page).to_have_url(re.compile(rf"^{re.escape(callback.uri)}\?"), timeout=15_000)
    answer = callback_answer(page, callback, 1)
    assert answer["error"] == "access_denied"
    assert answer["error_description"].startswith("You are not in a group that may use the MCP server")
    assert (answer["state"], answer["iss"]) == (state, live_server.url)
