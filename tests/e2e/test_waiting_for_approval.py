"""A person authorizing a new MCP client that awaits approval: the waiting page continues to the consent
page by itself once an administrator approves the client in the console."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ALICE, DEMO_PASSWORD, expect_heading, unique
from tests.e2e.test_oauth import Callback, authorize, callback, callback_answer

__all__ = ["callback"]


def test_the_waiting_page_continues_to_consent_once_an_admin_approves_the_client(
    admin_page: Page, page: Page, callback: Callback, live_server: LiveServer
) -> None:
    name = unique("New agent")
    registered = httpx.post(
        f"{live_server.url}/oauth/register",
        json={"client_name": name, "redirect_uris": [callback.uri], "token_endpoint_auth_method": "none"},
    )
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]

    state, _ = authorize(page, client_id, callback.uri)
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "This app awaits approval")
    expect(
        page.get_by_text(
            f"An administrator must approve {name}. This page continues by itself once they do; "
            "you can leave it open."
        )
    ).to_be_visible()

    admin_page.goto("/console/users")
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
