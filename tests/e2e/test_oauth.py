"""An MCP client set up in the console, and a person signing in to it in the browser.

Set SWITCHBOARD_SCREENSHOTS=<dir> to keep screenshots of the client and consent pages for a visual review.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_server import LiveServer
from tests.e2e.steps import ALICE, DEMO_PASSWORD, expect_heading, expect_notice, expect_path, unique
from tests.support.oauth import pkce_pair
from tests.support.postgres import free_port

SCREENSHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS")


class Callback:
    """A client's loopback redirect URI (RFC 8252): a tiny local server recording what it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/callback":  # such as the browser's /favicon.ico
                    self.send_error(404)
                    return
                query = parse_qs(parts.query)
                callback.received.append({key: values[0] for key, values in query.items()})
                body = b"<!doctype html><title>Done</title><h1>You can close this window.</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}/callback"
        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Callback:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def callback() -> Iterator[Callback]:
    with Callback() as server:
        yield server


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def authorize(page: Page, client_id: str, redirect_uri: str, resource: str = "") -> tuple[str, str]:
    """Open the authorization URL as the client sends the browser there; returns (state, verifier)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if resource:
        params["resource"] = resource
    page.goto(f"/oauth/authorize?{urlencode(params)}")
    return state, verifier


def expect_consent_page(page: Page, name: str, callback: Callback) -> None:
    expect_heading(page, f"Allow {name} to use Switchboard as you?")
    expect(page.get_by_text(f"{name} was created by an admin.")).to_be_visible()
    expect(page.locator(".redirect-host")).to_have_text(f"127.0.0.1:{callback.port}")
    expect(page.get_by_role("note")).to_contain_text("This address is on your own computer (loopback)")
    expect(page.locator(".scopes li code")).to_have_text(["mcp:tools:*", "offline_access"])


def callback_answer(page: Page, callback: Callback, number: int) -> dict[str, str]:
    """What the client's redirect URI received the ``number``-th time (the browser is sent there)."""
    expect_path(page, r"^/callback\?")
    assert len(callback.received) == number
    return callback.received[-1]


def test_an_admin_creates_a_client_a_person_denies_then_allows_it_and_revokes_it_under_my_apps(
    admin_page: Page, page: Page, callback: Callback, live_server: LiveServer
) -> None:
    name = unique("Desk agent")
    admin = admin_page
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    admin.goto("/console/clients")
    admin.get_by_label("Name", exact=True).fill(name)
    admin.get_by_label("Redirect URIs").fill(callback.uri)
    expect(admin.get_by_label("Authorization code and refresh token (people sign in)")).to_be_checked()
    expect(admin.get_by_label("Confidential (with a secret)")).to_be_checked()
    admin.get_by_role("button", name="Create client").click()

    expect_heading(admin, name)
    expect(admin.get_by_text("Copy the secret now: it is not shown again.")).to_be_visible()
    client_id = admin.get_by_label("Client ID", exact=True).input_value()
    secret = admin.get_by_label("Client secret", exact=True).input_value()
    assert client_id.startswith("sbc_")
    assert secret.startswith("sbs_")
    copy = admin.get_by_role("button", name="Copy the secret")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert admin.evaluate("navigator.clipboard.readText()") == secret
    screenshot(admin, "client-created")
    admin.get_by_role("navigation", name="Main").get_by_text("Admin", exact=True).click()
    admin.get_by_role("link", name="MCP clients").first.click()
    expect_heading(admin, "MCP clients")
    row = admin.get_by_role("row").filter(has=admin.get_by_role("link", name=name))
    expect(row.get_by_role("cell")).to_have_text(
        [
            name,
            "created by an admin",
            "Approved",
            "admin@example.com",
            "never",
            f"127.0.0.1:{callback.port}",
            "",
        ]
    )
    assert secret not in admin.content()
    screenshot(admin, "clients")

    # The person is not signed in: the sign-in page comes first, then the consent page.
    state, _ = authorize(page, client_id, callback.uri)
    expect_path(page, r"^/login\?next=")
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_consent_page(page, name, callback)
    screenshot(page, "consent")
    page.get_by_role("button", name="Deny").click()
    assert callback_answer(page, callback, 1) == {
        "error": "access_denied",
        "error_description": "The user denied the request.",
        "state": state,
        "iss": live_server.url,
    }

    state, verifier = authorize(page, client_id, callback.uri)
    expect_consent_page(page, name, callback)
    page.get_by_role("button", name="Allow").click()
    answer = callback_answer(page, callback, 2)
    assert sorted(answer) == ["code", "iss", "state"]
    assert (answer["state"], answer["iss"]) == (state, live_server.url)

    # The client exchanges the code with its secret, as a confidential client does.
    token = httpx.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": callback.uri,
            "code_verifier": verifier,
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer"

    # The person finds the client under My apps, and revokes it there.
    page.goto("/me/apps")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_role("cell").nth(2)).to_have_text("mcp:tools:* offline_access")
    screenshot(page, "my-apps")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Revoke {name}").click()
    expect_notice(page, f"{name} can no longer use Switchboard as you.")
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)
