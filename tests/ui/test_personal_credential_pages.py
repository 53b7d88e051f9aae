"""Entering one's own API key under My connections and through a tool's connect link, as a browser does:
set, replace, remove; never shown again; nobody else's, and never without the page's CSRF token."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from tests.connectors.conftest import principal_of
from tests.connectors.personal_support import key_definition, personal_connection
from tests.identity.support import PASSWORD, make_user
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

ALICE = "alice@example.com"
BOB = "bob@example.com"
KEY = "alice-key-0123456789abcdef"


@pytest.fixture
async def alice(services: IdentityServices) -> UserOut:
    return await make_user(services, ALICE)


@pytest.fixture
async def bob(services: IdentityServices) -> UserOut:
    return await make_user(services, BOB)


@pytest.fixture
async def keyed(connectors: ConnectorServices, services: IdentityServices) -> Connection:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    project: Project = await connectors.projects.ensure("Sales tools")
    return await personal_connection(connectors, project, builder, "http://127.0.0.1:9")


async def sign_in(web: Browserless, email: str) -> None:
    web.client.cookies.clear()
    assert (await web.sign_in(email, PASSWORD)).status_code == 303


async def headers_for(connectors: ConnectorServices, connection: Connection, user: UserOut) -> dict[str, str]:
    return (await connectors.credentials.request_auth(connection.id, Caller(user.id))).headers


async def test_a_person_sets_replaces_and_removes_their_key_and_never_sees_it_again(
    web: Browserless, connectors: ConnectorServices, keyed: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)
    before = await web.client.get("/me/connections")
    assert "Enter your API key" in Page(before.text).text

    saved = await web.client.post(
        f"/me/connections/{keyed.id}/credential",
        data={"_csrf_token": csrf_from(before.text), "api_key": KEY},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    after = await web.client.get("/me/connections")
    text = Page(after.text).text
    assert "Your API key is set (since" in text
    assert "Replace your API key" in text
    assert KEY not in after.text
    assert KEY not in str(await UserGrant.select())
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": KEY}

    replaced = await web.client.post(
        f"/me/connections/{keyed.id}/credential",
        data={"_csrf_token": csrf_from(after.text), "api_key": "second-key"},
        follow_redirects=False,
    )
    assert replaced.status_code == 303
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": "second-key"}

    page = await web.client.get("/me/connections")
    removed = await web.client.post(
        f"/me/connections/{keyed.id}/disconnect",
        data={"_csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert await UserGrant.select() == []
    assert "Enter your API key" in Page((await web.client.get("/me/connections")).text).text


async def test_another_person_cannot_replace_or_remove_someones_key_and_a_wrong_csrf_token_is_refused(
    web: Browserless, connectors: ConnectorServices, keyed: Connection, alice: UserOut, bob: UserOut
) -> None:
    await connectors.connect.personal.save(alice.id, keyed.id, secret=KEY)

    await sign_in(web, BOB)
    page = await web.client.get("/me/connections")
    assert "Enter your API key" in Page(page.text).text  # Bob sees his own row, not Alice's key
    assert "is set" not in Page(page.text).text
    refused = await web.client.post(
        f"/me/connections/{keyed.id}/disconnect", data={"_csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 404
    forged = await web.client.post(
        f"/me/connections/{keyed.id}/credential",
        data={"_csrf_token": "not-the-token", "api_key": "bobs"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    # Bob saving a key stores his own; Alice's stays hers.
    await web.client.post(
        f"/me/connections/{keyed.id}/credential",
        data={"_csrf_token": csrf_from(page.text), "api_key": "bob-key"},
        follow_redirects=False,
    )
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": KEY}
    assert await headers_for(connectors, keyed, bob) == {"X-API-Key": "bob-key"}

    web.client.cookies.clear()
    anonymous = await web.client.post(
        f"/me/connections/{keyed.id}/credential", data={"api_key": "x"}, follow_redirects=False
    )
    assert anonymous.status_code in {302, 303, 401, 403}
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": KEY}


async def test_a_tools_connect_link_opens_the_enter_your_key_form_for_its_person_only(
    web: Browserless, connectors: ConnectorServices, keyed: Connection, alice: UserOut, bob: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, keyed.id)).path

    await sign_in(web, BOB)
    assert (await web.client.get(link)).status_code in {400, 403}

    await sign_in(web, ALICE)
    form = await web.client.get(link)
    assert form.status_code == 200
    assert Page(form.text).all("h1")[0].text == "Enter your Keyed App API key"
    empty = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": ""})
    assert empty.status_code == 400
    assert "Enter your API key." in Page(empty.text).text
    done = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": KEY})
    assert done.status_code == 200
    assert "Keyed App connected" in Page(done.text).text
    assert KEY not in done.text
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": KEY}
    again = await web.client.post(link, data={"_csrf_token": csrf_from(form.text), "api_key": "other"})
    assert again.status_code in {400, 403, 410}
    assert await headers_for(connectors, keyed, alice) == {"X-API-Key": KEY}


async def test_a_builder_creates_an_end_users_connection_for_an_api_key_app_without_entering_a_key(
    web: Browserless, connectors: ConnectorServices, services: IdentityServices, alice: UserOut
) -> None:
    builder = principal_of(await make_user(services, "maker@example.com", Role.BUILDER))
    project = await connectors.projects.ensure("Sales tools")
    await connectors.registry.save(key_definition("form-app"), actor=builder.email)
    await sign_in(web, "maker@example.com")
    form = await web.client.get("/console/connections/new?connector=form-app")
    assert form.status_code == 200
    assert "each person enters their own under My connections" in Page(form.text).text
    created = await web.client.post(
        "/console/connections/new",
        data={
            "_csrf_token": csrf_from(form.text),
            "connector": "form-app",
            "name": "Form App",
            "project_id": str(project.id),
            "mode": "end_user",
            "auth_type": "api_key",
            "field.host": "https://form-app.example.com",
            "action": "save",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, Page(created.text).text
    (connection,) = [c for c in await connectors.connections.list_all() if c.name == "Form App"]
    assert (connection.mode.value, connection.auth_type) == ("end_user", "api_key")

    await sign_in(web, ALICE)
    mine = Page((await web.client.get("/me/connections")).text).text
    assert "Form App" in mine
    assert "Enter your API key" in mine
