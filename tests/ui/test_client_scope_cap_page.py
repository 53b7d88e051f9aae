"""Console → MCP clients → a client → Scope cap: admins limit what a client may get; nobody else can."""

from __future__ import annotations

import httpx
import pytest

from switchboard.identity.oauth.models import Client, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import ADMIN, Demo
from tests.ui.html import Page
from tests.ui.test_access import DEMO_PASSWORD, FORBIDDEN_TITLE


@pytest.fixture
def oauth(app_services: Services) -> AuthorizationServer:
    return app_services.identity.oauth


async def _service_client(oauth: AuthorizationServer) -> tuple[Client, str]:
    created = await oauth.clients.create_static(
        StaticClientCreate(name="Ticket bot", grant_types=["client_credentials"]), actor=SETUP
    )
    assert created.client_secret
    return created.client, created.client_secret


async def _cap(browser: Browserless, client: Client, value: str) -> httpx.Response:
    page = await browser.client.get(f"/console/clients/{client.id}")
    data = {"_csrf_token": csrf_from(page.text), "scope_cap": value}
    return await browser.client.post(
        f"/console/clients/{client.id}/scopes", data=data, follow_redirects=False
    )


async def _token_scope(http: httpx.AsyncClient, client: Client, secret: str, scope: str) -> str:
    data = {"grant_type": "client_credentials", "scope": scope}
    answer = await http.post("/oauth/token", data=data, auth=(client.client_id, secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["scope"])


async def test_an_admin_caps_a_client_and_its_tokens_carry_no_more(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    client, secret = await _service_client(oauth)
    assert await _token_scope(as_admin.client, client, secret, "mcp:tools:*") == "mcp:tools:*"

    saved = await _cap(as_admin, client, "  mcp:tools:search_tickets \n mcp:tools:search_tickets ")
    assert (saved.status_code, saved.headers["location"]) == (303, f"/console/clients/{client.id}")
    page = Page((await as_admin.client.get(f"/console/clients/{client.id}")).text)
    assert "Ticket bot may now get at most: mcp:tools:search_tickets." in page.text
    assert page.facts()["Scope cap"] == "mcp:tools:search_tickets"
    assert page.by_id("scope_cap").attrs["value"] == "mcp:tools:search_tickets"
    assert (await oauth.clients.get(client.client_id)).scope_cap == ("mcp:tools:search_tickets",)
    asked = await _token_scope(as_admin.client, client, secret, "mcp:tools:* mcp:tools:delete_tickets")
    assert asked == "mcp:tools:search_tickets"
    (event,) = await oauth.audit.recent(action="client.scopes_capped")
    assert (event.actor, event.client_id, event.client_name, event.scope, event.reason) == (
        ADMIN,
        client.client_id,
        "Ticket bot",
        "mcp:tools:search_tickets",
        "no cap before",
    )

    removed = await _cap(as_admin, client, "")
    assert removed.status_code == 303
    page = Page((await as_admin.client.get(f"/console/clients/{client.id}")).text)
    assert "Ticket bot may get any scope people allow it." in page.text
    assert page.facts()["Scope cap"] == "none"
    assert (await oauth.clients.get(client.client_id)).scope_cap == ()
    assert await _token_scope(as_admin.client, client, secret, "mcp:tools:*") == "mcp:tools:*"


async def test_a_refused_cap_shows_why_keeps_the_input_and_changes_nothing(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    client, _ = await _service_client(oauth)
    response = await _cap(as_admin, client, "mcp:tools:search offline_access")
    assert response.status_code == 422
    page = Page(response.text)
    assert page.by_id("scope_cap-error").text == (
        "offline_access is not capped: refresh tokens follow the client's grant types."
    )
    assert page.by_id("scope_cap").attrs["value"] == "mcp:tools:search offline_access"
    assert page.by_id("scope_cap").attrs["aria-invalid"] == "true"
    assert (await oauth.clients.get(client.client_id)).scope_cap == ()
    assert await oauth.audit.recent(action="client.scopes_capped") == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BUILDER])
async def test_members_and_builders_cannot_cap_a_client(
    web: Browserless, demo: Demo, oauth: AuthorizationServer, role: Role
) -> None:
    client, secret = await _service_client(oauth)
    email = f"{role.value}@example.com"
    await demo.services.users.create(UserCreate(email=email, password=DEMO_PASSWORD, role=role), actor=SETUP)
    assert (await web.sign_in(email)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    response = await web.client.post(
        f"/console/clients/{client.id}/scopes",
        data={"_csrf_token": token, "scope_cap": "mcp:tools:nothing"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    page = Page(response.text)
    assert page.all("h1")[0].text == FORBIDDEN_TITLE
    assert (await oauth.clients.get(client.client_id)).scope_cap == ()
    assert await oauth.audit.recent(action="client.scopes_capped") == []
    assert await _token_scope(web.client, client, secret, "mcp:tools:*") == "mcp:tools:*"
