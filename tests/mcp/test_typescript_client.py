"""The official MCP TypeScript SDK client (``@modelcontextprotocol/sdk`` 1.x, on Node 22) against a live
Switchboard serving the demo.

The client knows only the demo server's URL. Its ``OAuthClientProvider`` discovers the authorization
server from the 401, registers itself, and sends the person to the authorization URL with PKCE. The test is
the person, over HTTP as a browser would be: an admin approves the new client, the person signs in and
answers the consent page, and the URL the browser is sent back to goes to the client.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import require_component
from tests.e2e.live_server import LiveServer, ServerFailed
from tests.support.runner import sqlite_url
from tests.support.ts_client import TypeScriptClient, missing_sdk, sdk_version
from tests.support.web import DEMO_PASSWORD, csrf_from

REDIRECT_URI = "http://127.0.0.1:8765/callback"
ADMIN, ALICE, BOB = "admin@example.com", "alice@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Switchboard with the demo data (Alice in Sales, Bob in no group; new clients await approval)."""
    problem = missing_sdk()
    if problem:
        require_component("Node 22 and the MCP TypeScript SDK", problem)
    data_dir: Path = tmp_path_factory.mktemp("ts_client")
    server = LiveServer(sqlite_url(data_dir / "switchboard.db"), data_dir)
    try:
        server.start()
    except ServerFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@contextmanager
def signed_in(server: LiveServer, email: str) -> Iterator[httpx.Client]:
    """A browser (cookies, no JavaScript) in which ``email`` has signed in."""
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        page = browser.get("/login")
        answer = browser.post(
            "/login", data={"_csrf_token": csrf_from(page.text), "email": email, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        yield browser


def approve(server: LiveServer, client_name: str) -> None:
    """An admin approves the new client on the console's Clients page."""
    with signed_in(server, ADMIN) as admin:
        listing = admin.get("/console/clients")
        found = re.search(rf'href="(/console/clients/[0-9a-f-]+)">{re.escape(client_name)}<', listing.text)
        assert found, f"{client_name} is not listed"
        detail = admin.get(found.group(1))
        answer = admin.post(f"{found.group(1)}/approve", data={"_csrf_token": csrf_from(detail.text)})
        assert answer.status_code == 303, answer.text


def consent(browser: httpx.Client, authorization_url: str, decision: str = "allow") -> httpx.Response:
    """Open the authorization URL as the signed-in person and answer the consent page when it is shown."""
    page = browser.get(authorization_url)
    if page.status_code != 200 or 'name="decision"' not in page.text:
        return page
    request = re.search(r'name="request" value="([^"]*)"', page.text)
    assert request, page.text
    return browser.post(
        "/oauth/authorize",
        data={
            "_csrf_token": csrf_from(page.text),
            "request": html.unescape(request.group(1)),
            "decision": decision,
        },
    )


def test_the_typescript_sdk_client_signs_alice_in_calls_whoami_and_refreshes(live_server: LiveServer) -> None:
    url = f"{live_server.url}/mcp/demo"
    name = "TypeScript SDK client"
    with TypeScriptClient(url, REDIRECT_URI, name) as client, signed_in(live_server, ALICE) as alice:
        authorization_url = client.authorization_url()
        query = parse_qs(urlsplit(authorization_url).query)
        approve(live_server, name)
        answer = consent(alice, authorization_url)
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{REDIRECT_URI}?code="), location
        client.redirected_to(location)
        result = client.next_message()["result"]

    assert sdk_version().startswith("1.")
    assert query["code_challenge_method"] == ["S256"]
    assert parse_qs(urlsplit(location).query)["state"] == query["state"]
    assert query["resource"] == [url]
    assert query["client_id"] == [result["client_id"]]
    assert query["scope"] == ["mcp:tools:* offline_access"]
    assert result["tools"] == ["create_task", "list_tasks", "whoami"]
    assert result["protocol_version"] == "2025-11-25"
    assert result["whoami"]["is_error"] is False
    assert ALICE in result["whoami"]["text"]
    assert "Sales" in result["whoami"]["text"]
    # offline_access brought a refresh token; with the access token unusable, the client refreshes and
    # the new token works.
    assert result["refresh_token"] is True
    assert result["token_grants"] == [["authorization_code", 200], ["refresh_token", 200]]
    assert (result["refreshed"], result["rotated"]) == (True, True)
    assert result["whoami_after_refresh"] == result["whoami"]


def test_a_person_without_access_is_refused_and_the_client_hears_access_denied(
    live_server: LiveServer,
) -> None:
    """Bob is in no group that uses the demo server: the page tells him why, and his browser goes back to
    the client by itself (its ``Refresh`` header) with ``error=access_denied``; the client gets no token."""
    url = f"{live_server.url}/mcp/demo"
    name = "TypeScript SDK client for Bob"
    with TypeScriptClient(url, REDIRECT_URI, name) as client, signed_in(live_server, BOB) as bob:
        authorization_url = client.authorization_url()
        approve(live_server, name)
        answer = consent(bob, authorization_url)
        assert answer.status_code == 403, answer.text
        assert "You do not have access" in answer.text
        seconds, _, location = answer.headers["refresh"].partition("; url=")
        assert seconds == "6"
        assert location.startswith(f"{REDIRECT_URI}?"), location
        client.redirected_to(location)
        denied = client.next_message()["denied"]

    assert denied["error"] == "access_denied"
    assert denied["error_description"]
    assert denied["has_tokens"] is False
    assert parse_qs(urlsplit(location).query)["state"] == parse_qs(urlsplit(authorization_url).query)["state"]
