"""A client's compatibility, as an admin reads it in the console and a person under My apps (their own
clients only): protocol version, connect links as a prompt or as text, refresh token, client name and
version, last use and last error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.audit import AuditEntry
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.mcp.access import McpCaller
from switchboard.platform.mcp.audit import ToolCall
from switchboard.platform.mcp.client_sightings import ClientSightings
from switchboard.platform.mcp.models import McpServer, ServerCreate
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.oauth import OAuthClient
from tests.support.web import Browserless
from tests.ui import test_apps_pages
from tests.ui.conftest import ADMIN, ALICE, BOB, Demo
from tests.ui.html import Page
from tests.ui.test_apps_pages import Authorized

pytestmark = pytest.mark.both_engines

# My apps' fixtures: the test server, Alice and Bob signed in, and Claude, which Alice allowed.
build_options = test_apps_pages.build_options
oauth_server = test_apps_pages.oauth_server
alice = test_apps_pages.alice
bob = test_apps_pages.bob
claude = test_apps_pages.claude


@pytest.fixture
async def admin(app: Litestar, demo: Demo) -> AsyncIterator[Browserless]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51008))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        browser = Browserless(http)
        assert (await browser.sign_in(ADMIN)).status_code == 303
        yield browser


def initialize(*, url: bool, name: str, version: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {"elicitation": {"url": {}}} if url else {},
            "clientInfo": {"name": name, "version": version},
        },
    }


@pytest.fixture
async def seen(
    app_services: Services, demo: Demo, claude: Authorized, bob: Browserless, client: httpx.AsyncClient
) -> McpServer:
    """Alice's Claude (a refresh token, no URL elicitation, a failed call then a refusal) and Bob's Claude
    (allowed without offline_access, URL elicitation) seen on the server ``demo``."""
    server = await app_services.mcp.servers.create(ServerCreate(slug="demo", name="Demo"), actor=SETUP)
    await OAuthClient(client).authorize(bob, claude.client_id, scope="mcp:tools:echo")
    sightings = ClientSightings()
    for email, url, version in ((ALICE, False, "0.9.1"), (BOB, True, "1.0")):
        user_id = (await demo.user(email)).id
        caller = McpCaller(server=server, user_id=user_id, email=email, client_id=claude.client_id, scopes=())
        await sightings.seen(caller, initialize(url=url, name="Claude Code", version=version), "")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await app_services.mcp.calls.record(
        ToolCall(
            id=uuid4(),
            at=an_hour_ago,
            server_slug="demo",
            tool="list_tasks",
            user_email=ALICE,
            client_id=claude.client_id,
            outcome="failed",
            duration_ms=120,
            message="Demo Tasks answered 500.",
        )
    )
    await app_services.identity.oauth.audit.record(
        AuditEntry(
            action="mcp.refused",
            outcome="refused",
            actor=ALICE,
            subject=ALICE,
            client_id=claude.client_id,
            reason="insufficient_scope: the token lacks mcp:tools:create_task",
            object_type="server",
            object_id="demo",
        )
    )
    return server


def diagnostics(html: str) -> list[dict[str, str]]:
    """The compatibility table's rows, each cell by its class, as a person reads it."""
    page = Page(html)
    tables = [t for t in page.all("table") if "client-diagnostics" in t.attrs.get("class", "")]
    if not tables:
        return []
    rows: list[dict[str, str]] = []
    for element in page.elements[page.elements.index(tables[0]) :]:
        if element.tag == "tr" and element.text.strip() and not rows_header(element):
            rows.append({})
        elif element.tag == "td" and rows:
            rows[-1][element.attrs.get("class", "").split()[0]] = " ".join(element.text.split())
    return rows


def rows_header(element: Any) -> bool:
    return "Server" in element.text and "Protocol" in element.text


async def client_pk(oauth: AuthorizationServer, client_id: str) -> UUID:
    return (await oauth.clients.get(client_id)).id


async def test_an_admin_reads_each_person_s_compatibility_with_a_client(
    admin: Browserless, seen: McpServer, claude: Authorized, oauth_server: AuthorizationServer
) -> None:
    pk = await client_pk(oauth_server, claude.client_id)
    detail = await admin.client.get(f"/console/clients/{pk}")
    links = [a.attrs["href"] for a in Page(detail.text).all("a") if a.text == "Compatibility"]
    assert links == [f"/console/clients/{pk}/diagnostics"]

    response = await admin.client.get(links[0])

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    by_person = {row["person"]: row for row in diagnostics(response.text)}
    assert set(by_person) == {ALICE, BOB}
    alice_row, bob_row = by_person[ALICE], by_person[BOB]
    assert (alice_row["server"], alice_row["client-info"], alice_row["protocol"]) == (
        "demo Demo",
        "Claude Code 0.9.1",
        "2025-11-25",
    )
    assert alice_row["url-elicitation"] == (
        "As text: the client did not declare URL elicitation, so the person gets the connect link as text "
        "in the tool's answer, to open in a browser, instead of a clickable prompt."
    )
    assert alice_row["refresh-token"] == "Yes: the client keeps working when its access token expires."
    assert alice_row["last-error"].endswith(
        "UTC Refused: insufficient_scope: the token lacks mcp:tools:create_task"
    )
    assert bob_row["url-elicitation"].startswith("Clickable: the client declared URL elicitation")
    assert bob_row["refresh-token"] == (
        "No: the person must sign in again when the access token expires. "
        "The client should ask for the offline_access scope."
    )
    assert bob_row["last-error"] == "none"


async def test_my_apps_shows_a_person_their_own_clients_compatibility_only(
    alice: Browserless, bob: Browserless, seen: McpServer
) -> None:
    alice_page = await alice.client.get("/me/apps")
    bob_page = await bob.client.get("/me/apps")

    [alice_row] = diagnostics(alice_page.text)
    assert (alice_row["app"], alice_row["client-info"], alice_row["url-elicitation"][:8]) == (
        "Claude",
        "Claude Code 0.9.1",
        "As text:",
    )
    assert "person" not in alice_row
    assert alice_row["last-error"].endswith(
        "Refused: insufficient_scope: the token lacks mcp:tools:create_task"
    )
    [bob_row] = diagnostics(bob_page.text)
    assert (bob_row["client-info"], bob_row["url-elicitation"][:10], bob_row["last-error"]) == (
        "Claude Code 1.0",
        "Clickable:",
        "none",
    )
    assert "insufficient_scope" not in bob_page.text
    assert "0.9.1" not in bob_page.text


async def test_a_member_cannot_open_a_client_s_compatibility_page(
    alice: Browserless, seen: McpServer, claude: Authorized, oauth_server: AuthorizationServer
) -> None:
    pk = await client_pk(oauth_server, claude.client_id)
    response = await alice.client.get(f"/console/clients/{pk}/diagnostics", follow_redirects=False)
    assert response.status_code == 403
    assert "Only owners and admins can open this." in Page(response.text).text
    assert BOB not in response.text


async def test_a_signed_out_visitor_is_sent_to_sign_in(
    client: httpx.AsyncClient, seen: McpServer, claude: Authorized, oauth_server: AuthorizationServer
) -> None:
    pk = await client_pk(oauth_server, claude.client_id)
    client.cookies.clear()
    response = await client.get(f"/console/clients/{pk}/diagnostics", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_a_service_account_s_compatibility_says_it_needs_no_refresh_token(
    admin: Browserless, app_services: Services, oauth_server: AuthorizationServer
) -> None:
    server = await app_services.mcp.servers.create(ServerCreate(slug="nightly", name="Nightly"), actor=SETUP)
    created = await oauth_server.clients.create_static(
        StaticClientCreate(name="Nightly report", grant_types=["client_credentials"]), actor=SETUP
    )
    account = created.client
    assert account.service_account_id is not None
    assert account.service_account_email is not None
    caller = McpCaller(
        server=server,
        user_id=account.service_account_id,
        email=account.service_account_email,
        client_id=account.client_id,
        scopes=(),
        service_account=True,
    )
    await ClientSightings().seen(caller, initialize(url=False, name="cron", version="1"), "")

    response = await admin.client.get(f"/console/clients/{account.id}/diagnostics")

    [row] = diagnostics(response.text)
    assert (row["person"], row["client-info"]) == (account.service_account_email, "cron 1")
    assert row["refresh-token"] == (
        "Not needed: the client calls as itself (client credentials) and gets a new access token on its own."
    )
