"""The connect link's pages, the app's redirect back, and "My connections", as a person's browser sees them.

The third-party app is the fault provider: a real OAuth server on 127.0.0.1 that approves at once.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from switchboard.connectors.connections.models import Connection, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import ConnectLink, UserGrant
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import fake_connection
from tests.identity.support import PASSWORD, make_user
from tests.support.fault_provider import FaultProvider
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

ALICE = "alice@example.com"
BOB = "bob@example.com"
BUILDER = "builder@example.com"


@pytest.fixture
async def alice(services: IdentityServices) -> UserOut:
    return await make_user(services, ALICE)


@pytest.fixture
async def bob(services: IdentityServices) -> UserOut:
    return await make_user(services, BOB)


@pytest.fixture
async def connection(
    connectors: ConnectorServices, services: IdentityServices, fake: FaultProvider
) -> Connection:
    builder = principal_of(await make_user(services, BUILDER, Role.BUILDER))
    project: Project = await connectors.projects.ensure("Sales tools")
    return await fake_connection(connectors, fake, project, builder)


async def sign_in(web: Browserless, email: str) -> None:
    assert (await web.sign_in(email, PASSWORD)).status_code == 303


async def continue_to_app(web: Browserless, link_path: str) -> httpx.Response:
    """Press "Continue to …" on the connect page."""
    start = await web.client.get(link_path)
    return await web.client.post(
        link_path, data={"_csrf_token": csrf_from(start.text)}, follow_redirects=False
    )


async def back_from_app(authorize_url: str) -> str:
    """The app approves at once; its redirect back to Switchboard, as a path with its query."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(authorize_url)
    assert answer.status_code in {302, 303}, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.netloc == "testserver.local"
    return f"{location.path}?{location.query}"


async def grant_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = await UserGrant.select()
    return rows


async def test_a_signed_out_person_opening_a_link_signs_in_first_and_comes_back_to_it(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path

    response = await web.client.get(link, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(link, safe='')}"
    signed_in = await web.submit("/login", "/login", {"email": ALICE, "password": PASSWORD, "next": link})
    assert signed_in.headers["location"] == link


async def test_the_connect_page_names_the_app_the_connection_the_scopes_and_the_account(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)

    response = await web.client.get(link)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert page.all("h1")[0].text == "Connect your Test App account"
    details = " ".join(page.all("dl")[0].text.split())
    assert "Connection Test App in Sales tools" in details
    assert "It will be allowed to tasks:read" in details
    assert f"Your Switchboard account {ALICE}" in details
    (button,) = [b for b in page.all("button") if b.text == "Continue to Test App"]
    form = page.form_of(button)
    assert (form.attrs["method"], form.attrs["action"], form.attrs["hx-boost"]) == ("post", link, "false")
    # Showing the page does not spend the link.
    assert await ConnectLink.count().where(ConnectLink.opened_at.is_not_null()) == 0


async def test_continue_sends_the_person_to_the_app_once_and_the_link_cannot_be_used_again(
    web: Browserless,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice: UserOut,
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)

    response = await continue_to_app(web, link)

    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == fake.authorize_url
    params = dict(parse_qsl(target.query))
    assert (params["client_id"], params["code_challenge_method"], params["scope"]) == (
        fake.client_id,
        "S256",
        "tasks:read",
    )
    again = await continue_to_app(web, link)
    assert again.status_code == 403
    page = Page(again.text)
    assert page.all("h1")[0].text == "This connect link cannot be used"
    assert "This connect link was already used. Ask your assistant for a new one." in page.text


async def test_another_signed_in_person_is_refused_the_link_and_nothing_is_stored(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut, bob: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, BOB)

    shown = await web.client.get(link)
    token = csrf_from((await web.client.get("/me/connections")).text)
    pressed = await web.client.post(link, data={"_csrf_token": token}, follow_redirects=False)

    refusal = "This connect link was made for another account. Sign in as the person who asked for it."
    for response in (shown, pressed):
        assert response.status_code == 403
        assert refusal in Page(response.text).text
    assert await grant_rows() == []
    assert await ConnectLink.count().where(ConnectLink.opened_at.is_not_null()) == 0
    # Alice can still use her link.
    web.client.cookies.clear()
    await sign_in(web, ALICE)
    assert (await continue_to_app(web, link)).status_code == 303


async def test_an_unknown_link_is_refused_with_a_way_forward(web: Browserless, alice: UserOut) -> None:
    await sign_in(web, ALICE)

    response = await web.client.get("/connect/not-a-real-link")

    assert response.status_code == 403
    page = Page(response.text)
    assert "This connect link is not valid. Ask your assistant for a new one." in page.text
    assert [a.attrs["href"] for a in page.all("a") if a.text == "Go to My connections"] == ["/me/connections"]


async def test_coming_back_from_the_app_shows_the_account_is_connected_and_never_the_tokens(
    web: Browserless,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice: UserOut,
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)
    callback = await back_from_app((await continue_to_app(web, link)).headers["location"])

    response = await web.client.get(callback)

    assert response.status_code == 200, response.text
    page = Page(response.text)
    assert page.all("h1")[0].text == "Test App connected"
    assert f"Your Test App account {ALICE} is connected. You can return to your assistant." in page.text
    assert [a.attrs["href"] for a in page.all("a") if a.text == "Back to My connections"] == [
        "/me/connections"
    ]
    (grant,) = await grant_rows()
    assert (grant["account"], grant["scopes"]) == (ALICE, "tasks:read")
    mine = await web.client.get("/me/connections")
    for html in (response.text, mine.text):
        for token in (*fake.access_tokens, *fake.refresh_tokens):
            assert token not in html


async def test_a_signed_out_person_coming_back_signs_in_first_and_returns_to_the_same_address(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)
    callback = await back_from_app((await continue_to_app(web, link)).headers["location"])
    web.client.cookies.clear()

    response = await web.client.get(callback, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(callback, safe='')}"
    assert await grant_rows() == []
    signed_in = await web.submit("/login", "/login", {"email": ALICE, "password": PASSWORD, "next": callback})
    assert signed_in.headers["location"] == callback
    assert (await web.client.get(callback)).status_code == 200
    assert len(await grant_rows()) == 1


async def test_a_tampered_state_is_refused_and_nothing_is_stored(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)
    callback = await back_from_app((await continue_to_app(web, link)).headers["location"])
    tampered = callback.replace("state=", "state=x")

    response = await web.client.get(tampered)

    assert response.status_code == 403
    page = Page(response.text)
    assert page.all("h1")[0].text == "Your account was not connected"
    assert "This sign-in answer does not match a connection in progress; start again." in page.text
    assert await grant_rows() == []


async def test_the_answer_of_another_issuer_is_refused(
    web: Browserless,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice: UserOut,
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)
    fake.fail("authorize", "wrong_iss")

    response = await web.client.get(
        await back_from_app((await continue_to_app(web, link)).headers["location"])
    )

    assert response.status_code == 403
    assert "not from Test App; nothing was stored." in Page(response.text).text
    assert await grant_rows() == []


async def test_an_app_failing_to_exchange_the_code_is_shown_as_a_bad_gateway_and_nothing_is_stored(
    web: Browserless,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice: UserOut,
) -> None:
    link = urlsplit(await connectors.grants.connect_link(alice.id, connection.id)).path
    await sign_in(web, ALICE)
    callback = await back_from_app((await continue_to_app(web, link)).headers["location"])
    fake.fail("token", "status_500")

    response = await web.client.get(callback)

    assert response.status_code == 502
    page = Page(response.text)
    assert page.all("h1")[0].text == "The app did not answer as expected"
    assert "Test App" in page.by_id("main").text
    assert "Traceback" not in response.text
    assert await grant_rows() == []


# --- My connections --------------------------------------------------------------------------------


def my_rows(html: str) -> list[list[str]]:
    """Each row of the My connections table as the texts of its cells."""
    page = Page(html)
    cells = [element for element in page.elements if element.tag in {"td", "tr"}]
    rows: list[list[str]] = []
    for element in cells:
        if element.tag == "tr":
            rows.append([])
        elif rows:
            rows[-1].append(" ".join(element.text.split()))
    return [row for row in rows if row]


def buttons(html: str) -> list[str]:
    return [b.text for b in Page(html).all("button") if b.text != "Sign out"]


async def test_my_connections_says_so_when_no_app_needs_the_persons_account(
    web: Browserless, alice: UserOut
) -> None:
    await sign_in(web, ALICE)

    response = await web.client.get("/me/connections")

    assert response.status_code == 200
    page = Page(response.text)
    assert page.all("h1")[0].text == "My connections"
    assert "You have not connected any apps yet." in page.text
    assert page.all("table") == []


async def test_my_connections_offers_connect_until_connected_then_reconnect_and_disconnect(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)

    before = await web.client.get("/me/connections")
    assert my_rows(before.text) == [
        ["🔌 Test App", "Test App Sales tools", "—", "—", "Not connected", "Connect"]
    ]
    assert buttons(before.text) == ["Connect"]

    pressed = await web.client.post(
        f"/me/connections/{connection.id}/connect",
        data={"_csrf_token": csrf_from(before.text)},
        follow_redirects=False,
    )
    assert pressed.status_code == 303
    callback = await back_from_app(pressed.headers["location"])
    done = await web.client.get(callback)
    assert [a.text for a in Page(done.text).all("a") if a.attrs["href"] == "/me/connections"][-1] == (
        "Back to My connections"
    )

    after = await web.client.get("/me/connections")
    assert my_rows(after.text) == [
        [
            "🔌 Test App",
            "Test App Sales tools",
            ALICE,
            "tasks:read",
            "Connected",
            "Reconnect Disconnect Rename Name of this account Save name "
            "Connect another account Name for the new account Continue to Test App",
        ]
    ]


async def test_a_connection_that_needs_reconnecting_says_why(
    web: Browserless, connectors: ConnectorServices, connection: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)
    start = await web.client.get("/me/connections")
    pressed = await web.client.post(
        f"/me/connections/{connection.id}/connect",
        data={"_csrf_token": csrf_from(start.text)},
        follow_redirects=False,
    )
    await web.client.get(await back_from_app(pressed.headers["location"]))
    await connectors.grants.mark_needs_reconnect(alice.id, connection.id, "Test App refused the token.")

    response = await web.client.get("/me/connections")

    (row,) = my_rows(response.text)
    assert row[4] == "Needs reconnect Test App refused the token."
    assert buttons(response.text) == ["Reconnect", "Disconnect", "Save name", "Continue to Test App"]


async def test_disconnecting_revokes_at_the_app_and_says_so(
    web: Browserless,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice: UserOut,
) -> None:
    await sign_in(web, ALICE)
    start = await web.client.get("/me/connections")
    pressed = await web.client.post(
        f"/me/connections/{connection.id}/connect",
        data={"_csrf_token": csrf_from(start.text)},
        follow_redirects=False,
    )
    await web.client.get(await back_from_app(pressed.headers["location"]))

    response = await web.submit("/me/connections", f"/me/connections/{connection.id}/disconnect", {})

    assert (response.status_code, response.headers["location"]) == (303, "/me/connections")
    after = await web.client.get("/me/connections")
    assert "Disconnected Test App." in Page(after.text).text
    assert my_rows(after.text)[0][4] == "Not connected"
    assert len(fake.requests_to("revocation")) == 2
    assert await grant_rows() == []


async def test_disconnecting_what_is_not_connected_is_refused_on_the_page(
    web: Browserless, connection: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)

    response = await web.submit("/me/connections", f"/me/connections/{connection.id}/disconnect", {})

    assert response.status_code == 404
    page = Page(response.text)
    assert page.all("h1")[0].text == "My connections"
    assert "You have not connected Test App." in page.text


async def test_my_connections_needs_a_sign_in(web: Browserless, connection: Connection) -> None:
    response = await web.client.get("/me/connections", follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, "/login?next=%2Fme%2Fconnections")


# --- Shared connections are not anyone's own -----------------------------------------------------------


@pytest.fixture
async def shared(
    connectors: ConnectorServices, services: IdentityServices, fake: FaultProvider
) -> Connection:
    """A shared connection that a builder connected with the account ops@example.com."""
    builder = principal_of(await make_user(services, "ops-builder@example.com", Role.BUILDER))
    project: Project = await connectors.projects.ensure("Sales tools")
    connection = await fake_connection(
        connectors, fake, project, builder, name="Team tasks", mode=Mode.SHARED
    )
    fake.login = "ops@example.com"
    link = await connectors.grants.shared_connect_link(connection.id, builder, return_to="")
    authorize_url = await connectors.connect.open_link(link.rsplit("/", 1)[1], builder.user_id)
    async with httpx.AsyncClient() as http:
        answer = await http.get(authorize_url)
    params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    await connectors.connect.finish(params, builder.user_id)
    return connection


@pytest.mark.parametrize("email", [ALICE, BUILDER])
async def test_nobody_disconnects_a_shared_connection_from_my_connections(
    web: Browserless,
    services: IdentityServices,
    fake: FaultProvider,
    shared: Connection,
    alice: UserOut,
    email: str,
) -> None:
    if email == BUILDER:
        await make_user(services, BUILDER, Role.BUILDER)
    await sign_in(web, email)
    grants_before = await grant_rows()

    disconnect = await web.submit("/me/connections", f"/me/connections/{shared.id}/disconnect", {})
    connect = await web.submit("/me/connections", f"/me/connections/{shared.id}/connect", {})

    assert disconnect.status_code == 404, disconnect.text
    page = Page(disconnect.text)
    assert page.all("h1")[0].text == "My connections"
    (alert,) = [p for p in page.all("p") if p.attrs.get("role") == "alert"]
    assert alert.text == "Team tasks is not connected by each user."
    assert connect.status_code == 404
    assert "Team tasks is not connected by each user." in Page(connect.text).text
    # The builder's grant is still there and still works for every caller; the app revoked nothing.
    assert await grant_rows() == grants_before
    assert [(row["account"], row["status"]) for row in grants_before] == [("ops@example.com", "connected")]
    assert fake.requests_to("revocation") == []
    assert await services.oauth.audit.recent(action="connection.disconnect") == []


async def test_a_builder_disconnects_the_shared_account_in_the_console_and_the_audit_names_them(
    web: Browserless, services: IdentityServices, fake: FaultProvider, shared: Connection
) -> None:
    await make_user(services, BUILDER, Role.BUILDER)
    await sign_in(web, BUILDER)
    page = f"/console/connections/{shared.id}"

    response = await web.submit(page, f"{page}/disconnect", {})

    assert (response.status_code, response.headers["location"]) == (303, page)
    assert await grant_rows() == []
    assert len(fake.requests_to("revocation")) == 2
    (event,) = await services.oauth.audit.recent(action="connection.disconnect")
    assert (event.actor, event.subject, event.outcome) == (BUILDER, "Team tasks", "ok")
    assert event.reason == "the grant of ops-builder@example.com"
