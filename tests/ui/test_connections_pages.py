"""Console → Connections: projects, the connection form, its test, who connected, and deletion."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from uuid import UUID

import httpx
import pytest

from switchboard.connectors.connections.models import ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import ConnectLink
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.settings import Settings
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import callback_params, connect, provider_definition
from tests.identity.support import PASSWORD, make_user
from tests.support.connector_fixtures import allow_private
from tests.support.fault_provider import FaultProvider
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

BUILDER = "builder@example.com"
MEMBER = "member@example.com"
ADMIN = "admin@example.com"
SECRET = "s3cret-value-never-shown-9f8e7d"
FORBIDDEN = "Only builders and admins can open this."


@pytest.fixture
async def builder(services: IdentityServices) -> UserOut:
    return await make_user(services, BUILDER, Role.BUILDER)


@pytest.fixture
async def project(connectors: ConnectorServices) -> Project:
    return await connectors.projects.ensure("Sales tools")


@pytest.fixture
async def as_builder(web: Browserless, builder: UserOut, project: Project) -> Browserless:
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def post_form(web: Browserless, page_path: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """Post ``data`` (lists repeat a field, as a multi-select does) with the CSRF token of ``page_path``."""
    token = csrf_from((await web.client.get(page_path)).text)
    return await web.client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)


def demo_tasks_form(project: Project, **changes: Any) -> dict[str, Any]:
    return {
        "connector": "demo-tasks",
        "name": "Team tasks",
        "project_id": str(project.id),
        "mode": "end_user",
        "auth_type": "oauth2_authorization_code",
        "client_id": "switchboard",
        "client_secret": SECRET,
        "field.host": "https://tasks.example.com",
        "scopes": ["tasks:read", "tasks:write"],
        "other_scopes": "offline_access",
        "action": "save",
        **changes,
    }


async def create_demo_tasks(web: Browserless, project: Project, **changes: Any) -> httpx.Response:
    new = "/console/connections/new?connector=demo-tasks"
    return await post_form(web, new, "/console/connections/new", demo_tasks_form(project, **changes))


def connection_id_of(response: httpx.Response) -> UUID:
    assert response.status_code == 303, response.text
    return UUID(response.headers["location"].rsplit("/", 1)[1])


# --- who may ----------------------------------------------------------------------------------------


async def test_members_are_refused_every_connections_page_and_form_and_nothing_changes(
    web: Browserless, services: IdentityServices, connectors: ConnectorServices, project: Project
) -> None:
    builder = await make_user(services, BUILDER, Role.BUILDER)
    await make_user(services, MEMBER)
    await connectors.registry.save(provider_definition("test-app", "https://app.example.com"), actor=BUILDER)
    connection = await connectors.connections.create(
        _input(project, "test-app", fields={"host": "https://app.example.com"}), actor=principal_of(builder)
    )
    assert (await web.sign_in(MEMBER, PASSWORD)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    own = f"/console/connections/{connection.id}"
    requests = [
        ("GET", "/console/connections", {}),
        ("GET", "/console/connections/new?connector=demo-tasks", {}),
        ("GET", own, {}),
        ("GET", f"{own}/delete", {}),
        ("POST", "/console/connections/projects", {"project_name": "Shadow"}),
        ("POST", f"/console/connections/projects/{project.id}/delete", {}),
        ("POST", "/console/connections/new", demo_tasks_form(project)),
        ("POST", own, {"name": "Hijacked", "client_id": "x"}),
        ("POST", f"{own}/test", {}),
        ("POST", f"{own}/disconnect", {}),
        ("POST", f"{own}/delete", {"confirm": "yes"}),
    ]
    for method, path, data in requests:
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 403, f"{method} {path}"
        assert FORBIDDEN in Page(response.text).text, f"{method} {path}"

    assert [c.name for c in await connectors.connections.list_all()] == ["Test App"]
    assert [p.name for p in await connectors.projects.list_all()] == ["Sales tools"]
    menu = [a.text for a in Page((await web.client.get("/me")).text).all("a")]
    assert "Connectors" not in menu
    assert "Connections" not in menu


@pytest.mark.parametrize("role", [Role.BUILDER, Role.ADMIN])
async def test_builders_and_admins_find_connectors_and_connections_in_the_menu(
    web: Browserless, services: IdentityServices, role: Role
) -> None:
    email = f"{role.value}@example.com"
    await make_user(services, email, role)
    assert (await web.sign_in(email, PASSWORD)).status_code == 303

    page = Page((await web.client.get("/console/connections")).text)

    header = page.elements[: page.elements.index(page.by_id("main"))]
    menu = {e.text: e.attrs["href"] for e in header if e.tag == "a" and "/console/conn" in e.attrs["href"]}
    assert menu == {"Connectors": "/console/connectors", "Connections": "/console/connections"}
    assert page.all("h1")[0].text == "Connections"


def _input(project: Project, connector: str, **changes: Any) -> ConnectionInput:
    return ConnectionInput(
        name="Test App",
        project_id=project.id,
        connector=connector,
        mode=Mode.END_USER,
        client_id="client",
        client_secret=SECRET,
        scopes=("tasks:read",),
        **changes,
    )


# --- projects -----------------------------------------------------------------------------------------


async def test_a_builder_creates_a_project_and_a_bad_name_is_refused_next_to_the_field(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    page = "/console/connections"
    created = await post_form(as_builder, page, "/console/connections/projects", {"project_name": "Finance"})
    assert (created.status_code, created.headers["location"]) == (303, page)
    listing = Page((await as_builder.client.get(page)).text)
    assert "Project Finance created." in listing.text
    assert [h2.text for h2 in listing.all("h2")][:2] == ["Finance", "Sales tools"]

    taken = await post_form(as_builder, page, "/console/connections/projects", {"project_name": "finance"})
    empty = await post_form(as_builder, page, "/console/connections/projects", {"project_name": " "})

    assert taken.status_code == 409
    refused = Page(taken.text)
    assert refused.error_next_to(refused.field("project_name")) == "A project named 'finance' already exists."
    assert refused.field("project_name").attrs["value"] == "finance"
    assert empty.status_code == 422
    unnamed = Page(empty.text)
    assert unnamed.error_next_to(unnamed.field("project_name")) == "Enter a project name."
    assert [p.name for p in await connectors.projects.list_all()] == ["Finance", "Sales tools"]


async def test_only_an_empty_project_can_be_deleted(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    connection_id = connection_id_of(await create_demo_tasks(as_builder, project))
    page = "/console/connections"

    refused = await post_form(as_builder, page, f"/console/connections/projects/{project.id}/delete", {})

    assert refused.status_code == 409
    assert "Sales tools: Delete or move the project's connections first." in Page(refused.text).text
    await post_form(as_builder, page, f"/console/connections/{connection_id}/delete", {"confirm": "yes"})
    deleted = await post_form(as_builder, page, f"/console/connections/projects/{project.id}/delete", {})
    assert deleted.status_code == 303
    assert await connectors.projects.list_all() == []


# --- the connection form ------------------------------------------------------------------------------


async def test_a_new_demo_tasks_connection_is_pre_filled_with_the_demo_tasks_this_switchboard_serves(
    as_builder: Browserless, settings: Settings
) -> None:
    # The tests' Switchboard runs at http://testserver.local, not at the default http://127.0.0.1:8000.
    response = await as_builder.client.get("/console/connections/new?connector=demo-tasks")

    assert response.status_code == 200
    assert Page(response.text).field("field.host").attrs["value"] == f"{settings.base_url}/demo-tasks"


async def test_the_new_connection_form_is_the_end_users_connection_form(as_builder: Browserless) -> None:
    response = await as_builder.client.get("/console/connections/new?connector=demo-tasks")

    assert response.status_code == 200
    page = Page(response.text)
    assert page.all("h1")[0].text == "New Demo Tasks connection"
    labels = [page.label_for(control) for control in page.fillable_controls()]
    assert labels == [
        "Name",
        "Location",
        "Shared",
        "End user's connection",
        "Authentication type",
        "Client ID",
        "Client secret",
        "Host",
        "Scopes",
        "Other scopes",
        "Redirect URI",
    ]
    assert [o.text for o in page.all("option") if o.attrs.get("value") == "oauth2_authorization_code"] == [
        "OAuth 2.0 authorization code grant"
    ]
    assert "disabled" not in page.by_id("mode-shared").attrs
    assert "checked" in page.by_id("mode-end_user").attrs
    assert page.by_id("mode-hint").text == (
        "Shared: every caller uses the Demo Tasks account a builder connects here. "
        "End user's connection: each person connects their own account."
    )
    assert page.field("client_secret").attrs["type"] == "password"
    host = page.field("field.host")
    assert (host.attrs["placeholder"], host.attrs["value"]) == (
        "https://tasks.example.com",
        "http://testserver.local/demo-tasks",
    )
    assert page.by_id("field-host-hint").text == "Where Demo Tasks runs."
    scopes = page.field("scopes")
    assert "multiple" in scopes.attrs
    assert [(o.attrs["value"], o.text, "selected" in o.attrs) for o in page.all("option")[-2:]] == [
        ("tasks:read", "tasks:read — See your tasks", True),
        ("tasks:write", "tasks:write — Add tasks to your list", True),
    ]
    redirect_uri = page.by_id("redirect_uri")
    assert ("readonly" in redirect_uri.attrs, redirect_uri.attrs["value"]) == (
        True,
        "http://testserver.local/connections/callback",
    )
    assert "name" not in redirect_uri.attrs
    assert [
        (b.attrs.get("value"), b.text) for b in page.all("button") if b.attrs.get("name") == "action"
    ] == [
        ("save", "Save"),
        ("connect", "Connect"),
    ]
    assert page.form_of(scopes).attrs["hx-boost"] == "false"


async def test_saving_stores_the_connection_with_both_kinds_of_scopes_and_never_shows_the_secret(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    response = await create_demo_tasks(as_builder, project)

    connection = await connectors.connections.get(connection_id_of(response))
    assert (connection.name, connection.mode, connection.client_id) == (
        "Team tasks",
        Mode.END_USER,
        "switchboard",
    )
    assert connection.scopes == ("tasks:read", "tasks:write", "offline_access")
    assert connection.fields == {"host": "https://tasks.example.com"}
    assert (await connectors.connections.credentials(connection.id)).client_secret == SECRET
    shown = await as_builder.client.get(response.headers["location"])
    assert SECRET not in shown.text
    page = Page(shown.text)
    assert "Connection Team tasks created." in page.text
    assert page.field("client_secret").attrs["value"] == ""
    assert page.by_id("client_secret-hint").text == (
        "Client secret is stored. Leave blank to keep it; it is never shown again."
    )
    assert page.field("other_scopes").attrs["value"] == "offline_access"
    listing = await as_builder.client.get("/console/connections")
    assert SECRET not in listing.text
    (row,) = [r for r in Page(listing.text).all("tr") if "Team tasks" in r.text]
    assert (
        " ".join(row.text.split())
        == "Team tasks ✅ Demo Tasks End user's connection OAuth 2.0 authorization code grant 0"
    )


async def test_editing_with_a_blank_secret_keeps_the_stored_one(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    connection_id = connection_id_of(await create_demo_tasks(as_builder, project))
    page = f"/console/connections/{connection_id}"

    response = await post_form(
        as_builder,
        page,
        page,
        demo_tasks_form(project, name="Renamed tasks", client_secret="", scopes=["tasks:read"]),
    )

    assert (response.status_code, response.headers["location"]) == (303, page)
    connection = await connectors.connections.get(connection_id)
    assert (connection.name, connection.scopes) == ("Renamed tasks", ("tasks:read", "offline_access"))
    assert (await connectors.connections.credentials(connection_id)).client_secret == SECRET


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"client_id": ""}, "client_id", "Enter the Client ID."),
        ({"name": ""}, "name", "Enter a name for the connection."),
        ({"name": "x" * 81}, "name", "Name can have at most 80 characters."),
        (
            {"field.host": "ftp://tasks.example.com"},
            "field.host",
            "Host must be an https URL such as https://tasks.example.com.",
        ),
        ({"other_scopes": 'bad"scope'}, "other_scopes", "'bad\"scope' is not a valid scope."),
    ],
)
async def test_a_refused_form_shows_the_message_next_to_the_field_and_keeps_what_was_typed_except_secrets(
    as_builder: Browserless,
    connectors: ConnectorServices,
    project: Project,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = await create_demo_tasks(
        as_builder, project, **{"field.host": "https://typed.example.com", **changes}
    )

    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field(field)) == message
    if field != "name":
        assert page.field("name").attrs["value"] == "Team tasks"
    if field != "field.host":
        assert page.field("field.host").attrs["value"] == "https://typed.example.com"
    assert page.field("client_secret").attrs["value"] == ""
    assert SECRET not in response.text
    assert await connectors.connections.list_all() == []


async def test_a_second_connection_of_the_same_name_in_a_project_is_refused_next_to_the_name(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    connection_id_of(await create_demo_tasks(as_builder, project))

    response = await create_demo_tasks(as_builder, project, name="team TASKS")

    assert response.status_code == 409
    page = Page(response.text)
    assert (
        page.error_next_to(page.field("name")) == "The project already has a connection named 'team TASKS'."
    )
    assert page.field("name").attrs["value"] == "team TASKS"
    assert len(await connectors.connections.list_all()) == 1


async def test_a_connection_type_the_connector_cannot_offer_is_refused(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    new = "/console/connections/new?connector=http"
    data = {
        "connector": "http",
        "name": "Orders API",
        "project_id": str(project.id),
        "mode": "end_user",
        "auth_type": "bearer",
        "token": SECRET,
        "field.base_url": "https://orders.example.com/v1",
        "action": "save",
    }

    response = await post_form(as_builder, new, "/console/connections/new", data)

    assert response.status_code == 422
    page = Page(response.text)
    assert page.by_id("mode-error").text == (
        "An end user's connection needs an OAuth 2.0 authorization code grant (or token exchange); "
        "HTTP request does not offer one."
    )
    assert await connectors.connections.list_all() == []


async def test_a_shared_connection_of_the_generic_connector_takes_its_credentials_and_hides_them(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    new = "/console/connections/new?connector=http"
    form = Page((await as_builder.client.get(new)).text)
    auth_options = [
        o.text for o in form.all("option") if o.attrs.get("value") in {"none", "api_key", "bearer", "basic"}
    ]
    assert auth_options == [
        "No authentication",
        "API key",
        "Bearer token",
        "Basic (user name and password)",
    ]
    assert "checked" in form.by_id("mode-shared").attrs
    assert "disabled" in form.by_id("mode-end_user").attrs
    assert [b.text for b in form.all("button") if b.attrs.get("name") == "action"] == ["Save"]
    assert [form.label_for(form.field(name)) for name in ("api_key", "token", "username", "password")] == [
        "API key",
        "Token",
        "User name",
        "Password",
    ]
    data = {
        "connector": "http",
        "name": "Orders API",
        "project_id": str(project.id),
        "mode": "shared",
        "auth_type": "api_key",
        "api_key": SECRET,
        "field.base_url": "https://orders.example.com/v1",
        "action": "save",
    }

    missing = await post_form(as_builder, new, "/console/connections/new", {**data, "api_key": ""})
    saved = await post_form(as_builder, new, "/console/connections/new", data)

    refused = Page(missing.text)
    assert refused.error_next_to(refused.field("api_key")) == "Enter the API key."
    connection = await connectors.connections.get(connection_id_of(saved))
    assert (connection.mode, connection.auth_type, connection.secrets_set) == (
        Mode.SHARED,
        "api_key",
        ("api_key",),
    )
    assert SECRET not in (await as_builder.client.get(saved.headers["location"])).text


async def test_connect_saves_then_sends_the_builder_to_the_app_for_their_own_grant(
    as_builder: Browserless, connectors: ConnectorServices, project: Project, builder: UserOut
) -> None:
    response = await create_demo_tasks(as_builder, project, action="connect")

    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://tasks.example.com/authorize"
    params = dict(parse_qsl(target.query))
    assert (params["client_id"], params["scope"], params["redirect_uri"]) == (
        "switchboard",
        "tasks:read tasks:write offline_access",
        "http://testserver.local/connections/callback",
    )
    (connection,) = await connectors.connections.list_all()
    (link,) = await ConnectLink.select()
    assert (link["user"], link["redirect_to"]) == (builder.id, f"/console/connections/{connection.id}")


# --- test, who connected, delete ------------------------------------------------------------------


def fake_app_form(fake: FaultProvider, project: Project, mode: str = "end_user") -> dict[str, Any]:
    return {
        "name": "Test App",
        "project_id": str(project.id),
        "mode": mode,
        "client_id": fake.client_id,
        "field.host": fake.issuer,
        "scopes": ["tasks:read"],
        "action": "save",
    }


async def fake_app_connection(
    web: Browserless,
    fake: FaultProvider,
    connectors: ConnectorServices,
    project: Project,
    mode: str = "end_user",
) -> UUID:
    await connectors.registry.save(provider_definition("test-app", fake.issuer), actor=BUILDER)
    new = "/console/connections/new?connector=test-app"
    data = {
        **fake_app_form(fake, project, mode),
        "connector": "test-app",
        "client_secret": fake.client_secret,
    }
    connection_id = connection_id_of(await post_form(web, new, "/console/connections/new", data))
    # The fake app listens on 127.0.0.1: an admin allows the connection onto private addresses.
    await allow_private(connectors, await connectors.connections.get(connection_id))
    return connection_id


async def test_the_connection_page_lists_who_connected_without_any_token(
    as_builder: Browserless,
    services: IdentityServices,
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
) -> None:
    connection_id = await fake_app_connection(as_builder, fake, connectors, project)
    alice = await make_user(services, "alice@example.com")
    await connect(connectors, alice.id, connection_id)

    response = await as_builder.client.get(f"/console/connections/{connection_id}")

    page = Page(response.text)
    assert [t.attrs["class"] for t in page.all("table")] == ["connected-users"]
    rows = [" ".join(r.text.split()) for r in page.all("tr") if "alice@example.com" in r.text]
    assert len(rows) == 1
    assert rows[0].startswith("alice@example.com alice@example.com tasks:read Connected ")
    assert rows[0].endswith(" never")
    for token in (*fake.access_tokens, *fake.refresh_tokens, fake.client_secret):
        assert token not in response.text
    listing = Page((await as_builder.client.get("/console/connections")).text)
    (row,) = [r for r in listing.all("tr") if r.text.strip().startswith("Test App")]
    assert " ".join(row.text.split()).endswith("OAuth 2.0 authorization code grant 1")


async def test_testing_a_connection_shows_the_outcome(
    as_builder: Browserless,
    builder: UserOut,
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
) -> None:
    connection_id = await fake_app_connection(as_builder, fake, connectors, project)
    page = f"/console/connections/{connection_id}"

    before = await post_form(as_builder, page, f"{page}/test", {})
    await connect(connectors, builder.id, connection_id)
    after = await post_form(as_builder, page, f"{page}/test", {})

    assert before.status_code == 200
    assert Page(before.text).by_id("test-outcome").attrs["role"] == "alert"
    assert " ".join(Page(before.text).by_id("test-outcome").text.split()) == (
        "Test failed: You have not connected your own Test App account yet: use Connect, then test."
    )
    assert " ".join(Page(after.text).by_id("test-outcome").text.split()) == (
        "Test passed: Test App answers: connected as alice@example.com."
    )
    assert Page(after.text).by_id("test-outcome").attrs["role"] == "status"


async def test_a_builder_connects_a_shared_connection_with_their_account_then_disconnects_it(
    as_builder: Browserless, connectors: ConnectorServices, fake: FaultProvider, project: Project
) -> None:
    connection_id = await fake_app_connection(as_builder, fake, connectors, project, mode="shared")
    own = f"/console/connections/{connection_id}"
    fake.login = "ops@example.com"

    before = Page((await as_builder.client.get(own)).text)
    as_own = await post_form(as_builder, "/me/connections", f"/me/connections/{connection_id}/connect", {})
    going = await post_form(
        as_builder, own, own, {**fake_app_form(fake, project, "shared"), "action": "connect"}
    )
    callback = "/connections/callback?" + urlencode(await callback_params(going.headers["location"]))
    done = await as_builder.client.get(callback)
    after = await as_builder.client.get(own)
    tested = await post_form(as_builder, own, f"{own}/test", {})

    assert before.by_id("shared-not-connected").text.startswith(
        "Not connected: calls that use this connection"
    )
    assert as_own.status_code == 404
    assert done.status_code == 200
    assert own in [link.attrs.get("href") for link in Page(done.text).all("a")]
    assert " ".join(Page(done.text).by_id("connected").text.split()) == (
        "Every call through the shared connection Test App now uses this Test App account (ops@example.com)."
    )
    page = Page(after.text)
    shown = page.facts()
    assert [shown[term] for term in ("Account", "Connected by", "Status", "Scopes", "Refreshed")] == [
        "ops@example.com",
        BUILDER,
        "Connected",
        "tasks:read",
        "never",
    ]
    assert not page.all("table")
    for token in (*fake.access_tokens, *fake.refresh_tokens, fake.client_secret):
        assert token not in after.text
    assert " ".join(Page(tested.text).by_id("test-outcome").text.split()) == (
        "Test passed: Test App answers: connected as ops@example.com."
    )
    listing = Page((await as_builder.client.get("/console/connections")).text)
    (row,) = [r for r in listing.all("tr") if r.text.strip().startswith("Test App")]
    assert " ".join(row.text.split()).endswith(
        "Shared OAuth 2.0 authorization code grant Shared account connected"
    )

    gone = await post_form(as_builder, own, f"{own}/disconnect", {})

    assert gone.status_code == 303
    assert [r.form["token_type_hint"] for r in fake.requests_to("revocation")] == [
        "refresh_token",
        "access_token",
    ]
    assert Page((await as_builder.client.get(own)).text).by_id("shared-not-connected")


async def test_deleting_a_connection_asks_first(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    connection_id = connection_id_of(await create_demo_tasks(as_builder, project))
    page = f"/console/connections/{connection_id}"

    asked = await as_builder.client.get(f"{page}/delete")
    unconfirmed = await post_form(as_builder, page, f"{page}/delete", {})
    assert Page(asked.text).all("h1")[0].text == "Delete Team tasks?"
    assert (unconfirmed.status_code, Page(unconfirmed.text).all("h1")[0].text) == (200, "Delete Team tasks?")
    assert len(await connectors.connections.list_all()) == 1

    deleted = await post_form(as_builder, page, f"{page}/delete", {"confirm": "yes"})

    assert (deleted.status_code, deleted.headers["location"]) == (303, "/console/connections")
    assert await connectors.connections.list_all() == []
    assert (
        "Connection Team tasks deleted."
        in Page((await as_builder.client.get("/console/connections")).text).text
    )
    assert (await as_builder.client.get(page)).status_code == 404


# --- private addresses ------------------------------------------------------------------------------

LOCAL_TASKS = "http://127.0.0.1:8000/demo-tasks"


async def test_an_admin_allows_a_connection_onto_private_addresses_and_can_take_it_back(
    web: Browserless, services: IdentityServices, connectors: ConnectorServices, project: Project
) -> None:
    await make_user(services, ADMIN, Role.ADMIN)
    assert (await web.sign_in(ADMIN, PASSWORD)).status_code == 303
    form = Page((await web.client.get("/console/connections/new?connector=demo-tasks")).text)
    checkbox = form.field("allow_private")
    assert "checked" not in checkbox.attrs
    assert form.label_for(checkbox) == "Allow private network addresses"

    created = await create_demo_tasks(web, project, **{"field.host": LOCAL_TASKS, "allow_private": "1"})

    connection_id = connection_id_of(created)
    assert (await connectors.connections.get(connection_id)).private_origins == ("http://127.0.0.1:8000",)
    page_path = f"/console/connections/{connection_id}"
    page = Page((await web.client.get(page_path)).text)
    assert "checked" in page.field("allow_private").attrs
    assert page.facts()["Private addresses"] == "Allowed: http://127.0.0.1:8000"

    withdrawn = await post_form(
        web, page_path, page_path, demo_tasks_form(project, **{"field.host": LOCAL_TASKS})
    )

    assert withdrawn.status_code == 303
    assert (await connectors.connections.get(connection_id)).private_origins == ()
    assert Page((await web.client.get(page_path)).text).facts()["Private addresses"] == "Refused"


async def test_a_builder_can_neither_allow_private_addresses_nor_move_an_allowed_connection(
    as_builder: Browserless, connectors: ConnectorServices, project: Project
) -> None:
    assert (
        Page((await as_builder.client.get("/console/connections/new?connector=demo-tasks")).text).get_id(
            "allow_private"
        )
        is None
    )
    posted = await create_demo_tasks(as_builder, project, **{"field.host": LOCAL_TASKS, "allow_private": "1"})
    assert posted.status_code == 403
    assert Page(posted.text).by_id("form-error").text == "Only owners and admins can do this."
    assert await connectors.connections.list_all() == []

    connection_id = connection_id_of(
        await create_demo_tasks(as_builder, project, **{"field.host": LOCAL_TASKS})
    )
    await allow_private(connectors, await connectors.connections.get(connection_id))  # as an admin would
    page_path = f"/console/connections/{connection_id}"
    page = Page((await as_builder.client.get(page_path)).text)
    assert page.get_id("allow_private") is None
    assert page.facts()["Private addresses"] == "Allowed: http://127.0.0.1:8000"

    renamed = await post_form(
        as_builder,
        page_path,
        page_path,
        demo_tasks_form(project, name="Renamed", **{"field.host": LOCAL_TASKS}),
    )
    moved = await post_form(
        as_builder,
        page_path,
        page_path,
        demo_tasks_form(project, **{"field.host": "http://127.0.0.1:6379/x"}),
    )

    assert renamed.status_code == 303
    assert moved.status_code == 403
    assert Page(moved.text).by_id("form-error").text == (
        "An admin allowed Renamed onto private addresses at http://127.0.0.1:8000 only; only owners and "
        "admins can change where it connects."
    )
    connection = await connectors.connections.get(connection_id)
    assert (connection.name, connection.fields["host"], connection.private_origins) == (
        "Renamed",
        LOCAL_TASKS,
        ("http://127.0.0.1:8000",),
    )
