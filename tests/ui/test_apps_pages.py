"""My apps: the clients a person allowed, and revoking them (only their own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import msgspec
import pytest
from litestar import Litestar

from switchboard.identity.oauth.models import RegistrationPolicy
from switchboard.identity.oauth.resources import ProtectedResource, StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.oauth.verifier import InvalidToken
from switchboard.identity.tables import OAuthGrant
from switchboard.platform.mcp.audit import ToolCall
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient
from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import ALICE, BOB, Demo
from tests.ui.html import Page

pytestmark = pytest.mark.both_engines

SCOPES = "mcp:tools:echo offline_access"


@pytest.fixture
def build_options() -> dict[str, Any]:
    """An app with one MCP server that tokens can be issued for."""
    resources = StaticResources(
        [ProtectedResource(url=RESOURCE, name="Test server", scopes=("mcp:tools:echo",))]
    )
    return {"resources": resources}


@pytest.fixture
def oauth_server(app_services: Services) -> AuthorizationServer:
    return app_services.identity.oauth


@pytest.fixture
async def alice(web: Browserless, demo: Demo) -> Browserless:
    assert (await web.sign_in(ALICE)).status_code == 303
    return web


@pytest.fixture
async def bob(app: Litestar, demo: Demo) -> AsyncIterator[Browserless]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        browser = Browserless(http)
        assert (await browser.sign_in(BOB)).status_code == 303
        yield browser


class Authorized:
    """A client Alice allowed, with the tokens it got."""

    def __init__(self, client_id: str, access_token: str, refresh_token: str) -> None:
        self.client_id = client_id
        self.access_token = access_token
        self.refresh_token = refresh_token


@pytest.fixture
async def claude(
    client: httpx.AsyncClient, alice: Browserless, oauth_server: AuthorizationServer
) -> Authorized:
    """Claude, registered as a public client and allowed by Alice for the test server."""
    await oauth_server.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)
    oauth = OAuthClient(client)
    registered = await oauth.registered(client_name="Claude", token_endpoint_auth_method="none")
    attempt = await oauth.authorize(alice, registered["client_id"], scope=SCOPES)
    assert "code" in attempt.callback, attempt.location
    answer = await oauth.exchange(attempt)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    return Authorized(registered["client_id"], tokens["access_token"], tokens["refresh_token"])


async def refresh(client: httpx.AsyncClient, app: Authorized) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": app.refresh_token, "client_id": app.client_id}
    return await client.post("/oauth/token", data=data)


def rows(html: str) -> list[str]:
    """The apps table's rows as a person reads them."""
    return [" ".join(row.text.split()) for row in Page(html).all("tr")[1:]]


async def test_my_apps_lists_the_apps_a_person_allowed_with_servers_scopes_and_last_use(
    alice: Browserless, claude: Authorized
) -> None:
    response = await alice.client.get("/me/apps")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    [row] = rows(response.text)
    assert row.startswith(f"Claude registered dynamically {RESOURCE} mcp:tools:echo offline_access ")
    assert row.endswith(" UTC Revoke")
    assert "never" not in row, "the token exchange used the grant"
    page = Page(response.text)
    assert [a.text for a in page.all("a") if a.attrs.get("aria-current") == "page"] == ["My apps"]
    hidden = [i.attrs["value"] for i in page.all("input") if i.attrs.get("name") == "client_id"]
    assert hidden == [claude.client_id]


async def test_someone_who_allowed_nothing_sees_an_empty_list(bob: Browserless, claude: Authorized) -> None:
    response = await bob.client.get("/me/apps")
    assert response.status_code == 200
    assert rows(response.text) == []
    assert "You have not allowed any app yet." in Page(response.text).text


async def test_revoking_an_app_ends_its_grant_and_removes_it_from_the_list(
    alice: Browserless, claude: Authorized, client: httpx.AsyncClient, oauth_server: AuthorizationServer
) -> None:
    revoked = await alice.submit("/me/apps", "/me/apps/revoke", {"client_id": claude.client_id})
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/me/apps")
    after = await alice.client.get("/me/apps")
    assert "Claude can no longer use Switchboard as you." in Page(after.text).text
    assert rows(after.text) == []

    refused = await refresh(client, claude)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    with pytest.raises(InvalidToken):
        await oauth_server.verifier.verify(claude.access_token, audience=RESOURCE)
    events = [(e.actor, e.client_name) for e in await oauth_server.audit.recent(action="consent.revoked")]
    assert events == [(ALICE, "Claude")]

    # The consent is gone too: the next authorization asks again.
    again = await OAuthClient(client).authorize(alice, claude.client_id, scope=SCOPES, decision=None)
    assert again.response.status_code == 200
    assert 'name="decision"' in again.response.text


async def test_nobody_can_revoke_an_app_someone_else_allowed(
    bob: Browserless,
    alice: Browserless,
    claude: Authorized,
    client: httpx.AsyncClient,
    oauth_server: AuthorizationServer,
) -> None:
    answer = await bob.submit("/me/apps", "/me/apps/revoke", {"client_id": claude.client_id})
    assert answer.status_code == 404
    page = Page(answer.text)
    assert page.all("h1")[0].text == "My apps"
    assert [p.text for p in page.all("p") if p.attrs.get("role") == "alert"] == [
        "You have not authorized this app."
    ]
    assert len(rows((await alice.client.get("/me/apps")).text)) == 1
    assert (await refresh(client, claude)).status_code == 200
    await oauth_server.verifier.verify(claude.access_token, audience=RESOURCE)
    assert await oauth_server.audit.recent(action="consent.revoked") == []

    unknown = await bob.submit("/me/apps", "/me/apps/revoke", {"client_id": "sbc_no-such-client"})
    assert unknown.status_code == 404
    assert "There is no such app." in Page(unknown.text).text


async def test_a_signed_out_visitor_is_sent_to_sign_in_and_revokes_nothing(
    client: httpx.AsyncClient, claude: Authorized, oauth_server: AuthorizationServer
) -> None:
    token = csrf_from((await client.get("/me/apps")).text)
    client.cookies.delete("sb_session")
    page = await client.get("/me/apps", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fme%2Fapps")
    post = await client.post(
        "/me/apps/revoke", data={"_csrf_token": token, "client_id": claude.client_id}, follow_redirects=False
    )
    assert (post.status_code, post.headers["location"]) == (303, "/login?next=%2Fme%2Fapps%2Frevoke")
    assert (await refresh(client, claude)).status_code == 200


async def test_a_revoke_without_the_forms_token_is_refused_and_keeps_the_app(
    alice: Browserless, claude: Authorized, client: httpx.AsyncClient
) -> None:
    await alice.client.get("/me/apps")
    forged = await alice.client.post("/me/apps/revoke", data={"client_id": claude.client_id})
    assert forged.status_code == 403
    assert Page(forged.text).all("h1")[0].text == "This form has expired"
    assert len(rows((await alice.client.get("/me/apps")).text)) == 1
    assert (await refresh(client, claude)).status_code == 200


async def test_my_apps_shows_an_apps_last_tool_call_as_its_last_use(
    alice: Browserless, claude: Authorized, app_services: Services
) -> None:
    """A token is refreshed now and then; the app keeps calling tools with it in between."""
    refreshed = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    await OAuthGrant.update({OAuthGrant.last_used_at: refreshed}, force=True)  # Alice's only grant
    before = rows((await alice.client.get("/me/apps")).text)
    assert before[0].endswith(" 2026-01-05 10:00 UTC Revoke"), before
    call = ToolCall(
        id=uuid4(),
        at=refreshed + timedelta(minutes=42),
        server_slug="demo",
        tool="echo",
        user_email=ALICE,
        client_id=claude.client_id,
        client_name="Claude",
        outcome="ok",
        duration_ms=5,
    )
    await app_services.mcp.calls.record(call)
    await app_services.mcp.calls.record(
        msgspec.structs.replace(call, id=uuid4(), at=refreshed + timedelta(hours=2), user_email=BOB)
    )
    [row] = rows((await alice.client.get("/me/apps")).text)
    assert row.endswith(" 2026-01-05 10:42 UTC Revoke"), row
