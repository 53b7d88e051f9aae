"""Console → Connectors: the list, adding a definition or an OpenAPI document, reading, editing, deleting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

BUILDER = "builder@example.com"
LIST = "/console/connectors"
WEATHER = """\
key: weather
name: Weather
description: Forecasts by city.
icon: "🌦"
base_url: https://api.weather.example.com
auth: {type: api_key, name: X-Key}
fields:
  - {key: region, label: Region, required: false, help: Where the forecasts are for.}
actions:
  - name: today
    title: Today's forecast
    path: /today/{city}
    input_schema:
      type: object
      properties: {city: {type: string}}
      required: [city]
"""
PETS = """\
openapi: 3.1.0
info: {title: Pet Store, version: "1"}
servers: [{url: "https://pets.example.com/v1"}]
paths:
  /pets:
    get: {operationId: listPets, responses: {"200": {description: ok}}}
    post: {operationId: createPet, responses: {"201": {description: ok}}}
"""


@pytest.fixture
def connectors_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "connectors"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(db_url: str, tmp_path: Path, connectors_dir: Path) -> Settings:
    return Settings(
        secret_key=TEST_SECRET,
        database_url=db_url,
        data_dir=str(tmp_path),
        base_url="http://testserver.local",
        connectors_dir=str(connectors_dir),
    )


@pytest.fixture
async def as_builder(web: Browserless, services: IdentityServices) -> Browserless:
    await make_user(services, BUILDER, Role.BUILDER)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def post(
    web: Browserless, page_path: str, action: str, data: dict[str, str], **kwargs: Any
) -> httpx.Response:
    token = csrf_from((await web.client.get(page_path)).text)
    return await web.client.post(
        action, data={"_csrf_token": token, **data}, follow_redirects=False, **kwargs
    )


def table_rows(html: str) -> list[str]:
    return [" ".join(row.text.split()) for row in Page(html).all("tr")[1:]]


async def test_members_are_refused_every_connectors_page_and_form_and_nothing_changes(
    web: Browserless, services: IdentityServices, connectors: ConnectorServices
) -> None:
    await connectors.registry.save(WEATHER, actor=BUILDER)
    await make_user(services, "member@example.com")
    assert (await web.sign_in("member@example.com", PASSWORD)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    requests = [
        ("GET", LIST, {}),
        ("GET", f"{LIST}/github", {}),
        ("GET", f"{LIST}/weather/delete", {}),
        ("POST", LIST, {"source": WEATHER.replace("weather", "storm")}),
        ("POST", f"{LIST}/import", {"document": PETS}),
        ("POST", f"{LIST}/weather", {"source": WEATHER.replace("Weather", "Hijacked")}),
        ("POST", f"{LIST}/weather/delete", {"confirm": "yes"}),
    ]
    for method, path, data in requests:
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 403, f"{method} {path}"
        assert "Only builders and admins can open this." in Page(response.text).text

    assert [(s.key, s.name) for s in await connectors.registry.list() if s.origin == "custom"] == [
        ("weather", "Weather")
    ]


async def test_the_list_shows_every_connector_with_its_authentication_and_source(
    as_builder: Browserless,
) -> None:
    response = await as_builder.client.get(LIST)

    assert response.status_code == 200
    page = Page(response.text)
    assert page.all("h1")[0].text == "Connectors"
    rows = table_rows(response.text)
    (github,) = [row for row in rows if " github " in row]
    assert github.startswith("🐙 GitHub Repositories and issues")
    assert github.endswith("github OAuth 2.0 authorization code grant Built in 3")
    assert any(row.endswith("demo-tasks OAuth 2.0 authorization code grant Built in 2") for row in rows)
    assert any(row.endswith("http No authentication Built in 1") for row in rows)
    for name in ("source", "file"):
        assert page.label_for(page.field(name, form_action=LIST))
    assert [
        page.label_for(page.field(n, form_action=f"{LIST}/import")) for n in ("document", "file", "key")
    ] == [
        "OpenAPI document (YAML or JSON)",
        "Or a file",
        "Key (optional)",
    ]
    assert page.duplicate_ids() == []


async def test_a_builder_adds_a_connector_by_pasting_its_definition(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    response = await post(as_builder, LIST, LIST, {"source": WEATHER})

    assert (response.status_code, response.headers["location"]) == (303, f"{LIST}/weather")
    detail = await as_builder.client.get(f"{LIST}/weather")
    page = Page(detail.text)
    assert page.all("h1")[0].text == "Weather"
    assert "Connector Weather saved." in page.text
    assert page.facts() == {
        "Key": "weather",
        "Source": "Added in the console",
        "Authentication": "API key",
        "API address": "https://api.weather.example.com",
        "Region": "region · text, optional Where the forecasts are for.",
    }
    assert table_rows(detail.text) == ["Today's forecast today GET /today/{city} city* string"]
    assert page.field("source").text == WEATHER
    assert [a.attrs["href"] for a in page.all("a") if a.text == "Delete connector"] == [
        f"{LIST}/weather/delete"
    ]
    assert (await connectors.registry.get("weather")).name == "Weather"


async def test_a_definition_can_come_from_a_file(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    response = await post(
        as_builder,
        LIST,
        LIST,
        {"source": ""},
        files={"file": ("weather.yaml", WEATHER.encode(), "application/yaml")},
    )

    assert response.status_code == 303
    assert (await connectors.registry.get("weather")).actions[0].name == "today"


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        (
            WEATHER.replace("path: /today", "path: today"),
            422,
            "definition: `actions.today.path`: a path starts with /",
        ),
        (
            WEATHER.replace("    path: /today", "    method: FETCH\n    path: /today"),
            422,
            "definition: `actions.today.method` must be one of DELETE, GET, PATCH, POST, PUT; got 'FETCH'.",
        ),
        (
            WEATHER.replace("description: Forecasts by city.", "description: Forecasts: by city."),
            422,
            "definition: line 3, column 23: mapping values are not allowed in this context "
            "(a value with a colon in it needs quotes)",
        ),
        (
            WEATHER.replace("key: weather", "key: github"),
            409,
            "The key 'github' belongs to a built-in connector; choose another key.",
        ),
        ("", 422, "Paste the document or choose a file."),
    ],
)
async def test_a_refused_definition_is_explained_next_to_it_and_kept(
    as_builder: Browserless, connectors: ConnectorServices, source: str, status: int, message: str
) -> None:
    response = await post(as_builder, LIST, LIST, {"source": source})

    assert response.status_code == status
    page = Page(response.text)
    field = page.field("source", form_action=LIST)
    assert page.error_next_to(field) == message
    assert field.text == source
    assert [s.key for s in await connectors.registry.list() if s.origin == "custom"] == []


async def test_a_file_that_is_not_text_is_refused_next_to_the_file_field(as_builder: Browserless) -> None:
    response = await post(
        as_builder, LIST, LIST, {}, files={"file": ("weather.yaml", b"\xff\xfe\x00", "text/yaml")}
    )

    assert response.status_code == 422
    page = Page(response.text)
    assert (
        page.error_next_to(page.field("file", form_action=LIST))
        == "The file is not UTF-8 text (YAML or JSON)."
    )


async def test_an_openapi_document_becomes_a_connector_with_one_action_per_operation(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    response = await post(as_builder, LIST, f"{LIST}/import", {"document": PETS, "key": "pets"})

    assert (response.status_code, response.headers["location"]) == (303, f"{LIST}/pets")
    page = Page((await as_builder.client.get(f"{LIST}/pets")).text)
    assert "Connector Pet Store imported with 2 actions." in page.text
    assert [a.name for a in (await connectors.registry.get("pets")).actions] == ["list_pets", "create_pet"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"document": "swagger: '2.0'\ninfo: {title: Old}"},
            "document",
            "this is a Swagger 2.0 document; only OpenAPI 3.0 and 3.1 can be imported. "
            "Convert it to OpenAPI 3 first (the Swagger Editor can) - at `swagger`",
        ),
        (
            {"document": PETS, "key": "Bad Key"},
            "key",
            "OpenAPI document: `key` must be lower-case letters, digits, - and _, starting with a letter "
            "(at most 63); got 'Bad Key'.",
        ),
    ],
)
async def test_a_refused_openapi_import_is_explained_next_to_the_field_at_fault(
    as_builder: Browserless, connectors: ConnectorServices, data: dict[str, str], field: str, message: str
) -> None:
    response = await post(as_builder, LIST, f"{LIST}/import", data)

    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field(field, form_action=f"{LIST}/import")) == message
    assert page.field("document", form_action=f"{LIST}/import").text == data["document"]
    assert [s.key for s in await connectors.registry.list() if s.origin == "custom"] == []


async def test_a_built_in_connector_shows_its_provider_scopes_actions_and_definition_but_cannot_be_edited(
    as_builder: Browserless,
) -> None:
    response = await as_builder.client.get(f"{LIST}/github")

    assert response.status_code == 200
    page = Page(response.text)
    shown = page.facts()
    assert (shown["Source"], shown["Authentication"]) == ("Built in", "OAuth 2.0 authorization code grant")
    assert shown["Authorize URL"] == "{web_url}/login/oauth/authorize"
    assert shown["Token URL"] == "{web_url}/login/oauth/access_token"
    assert shown["Revocation URL"] == "none: people remove access in the app itself"
    assert shown["Userinfo URL"] == "{api_url}/user"
    assert shown["Client authentication"] == "client_secret_post"
    assert shown["GitHub address"] == (
        "web_url · URL, required default https://github.com "
        "Where people sign in. For GitHub Enterprise Server use https://HOSTNAME."
    )
    scopes = [" ".join(li.text.split()) for li in page.all("li") if li.text.startswith("repo")]
    assert (
        scopes[0]
        == "repo — Read and write public and private repositories, their issues and settings (default)"
    )
    rows = table_rows(response.text)
    assert rows[0].startswith("List my repositories list_my_repositories Repositories the signed-in person")
    assert rows[0].endswith(
        "GET /user/repos visibility string, affiliation string, sort string, direction string, "
        "per_page integer, page integer"
    )
    assert rows[2].endswith(
        "POST /repos/{owner}/{repo}/issues owner* string, repo* string, title* string, body string, "
        "labels array, assignees array"
    )
    assert "key: github" in page.all("pre")[0].text
    assert page.all("textarea") == []
    assert "Delete connector" not in page.text
    edit = await post(as_builder, f"{LIST}/github", f"{LIST}/github", {"source": "key: github"})
    assert edit.status_code == 422
    assert "Only connectors added in the console can be edited here." in Page(edit.text).text


async def test_editing_a_custom_connector_saves_it_but_its_key_cannot_change(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    await connectors.registry.save(WEATHER, actor=BUILDER)
    page = f"{LIST}/weather"

    renamed = await post(
        as_builder, page, page, {"source": WEATHER.replace("name: Weather", "name: Forecasts")}
    )
    rekeyed_source = WEATHER.replace("key: weather", "key: storm")
    rekeyed = await post(as_builder, page, page, {"source": rekeyed_source})

    assert (renamed.status_code, renamed.headers["location"]) == (303, page)
    assert (await connectors.registry.get("weather")).name == "Forecasts"
    assert rekeyed.status_code == 422
    refused = Page(rekeyed.text)
    assert refused.error_next_to(refused.field("source")) == (
        "The key must stay 'weather'; add a connector to use another key."
    )
    assert refused.field("source").text == rekeyed_source.strip()
    assert [s.key for s in await connectors.registry.list() if s.origin == "custom"] == ["weather"]


async def test_deleting_a_custom_connector_asks_first_and_is_refused_while_a_connection_uses_it(
    as_builder: Browserless, services: IdentityServices, connectors: ConnectorServices
) -> None:
    await connectors.registry.save(WEATHER, actor=BUILDER)
    user = await services.users.find_by_email(BUILDER)
    assert user is not None
    builder = principal_of(user)
    project = await connectors.projects.ensure("Sales tools")
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Weather", project_id=project.id, connector="weather", mode=Mode.SHARED, api_key="k"
        ),
        actor=builder,
    )
    page = f"{LIST}/weather"

    asked = await as_builder.client.get(f"{page}/delete")
    unconfirmed = await post(as_builder, page, f"{page}/delete", {})
    used = await post(as_builder, page, f"{page}/delete", {"confirm": "yes"})

    assert Page(asked.text).all("h1")[0].text == "Delete Weather?"
    assert (unconfirmed.status_code, Page(unconfirmed.text).all("h1")[0].text) == (200, "Delete Weather?")
    assert used.status_code == 409
    assert "1 connection uses 'weather'; delete them first." in Page(used.text).text
    await connectors.connections.delete(connection.id, actor=builder)
    deleted = await post(as_builder, page, f"{page}/delete", {"confirm": "yes"})
    assert (deleted.status_code, deleted.headers["location"]) == (303, LIST)
    assert "Connector Weather deleted." in Page((await as_builder.client.get(LIST)).text).text
    assert (await as_builder.client.get(page)).status_code == 404


async def test_definitions_in_the_folder_that_cannot_be_used_are_listed_with_the_field_at_fault(
    as_builder: Browserless, connectors_dir: Path
) -> None:
    (connectors_dir / "broken.yaml").write_text(WEATHER.replace("path: /today", "path: today"))
    (connectors_dir / "storm.yaml").write_text(WEATHER.replace("key: weather", "key: storm"))

    response = await as_builder.client.get(LIST)

    page = Page(response.text)
    problems = [
        " ".join(li.text.split()) for li in page.all("li") if "form-error" in li.attrs.get("class", "")
    ]
    assert problems == ["broken.yaml: `actions.today.path`: a path starts with /"]
    assert any(row.endswith("storm API key Connectors folder 1") for row in table_rows(response.text))


async def test_every_connectors_and_connections_page_labels_its_fields_and_has_one_heading(
    as_builder: Browserless, services: IdentityServices, connectors: ConnectorServices
) -> None:
    await connectors.registry.save(WEATHER, actor=BUILDER)
    user = await services.users.find_by_email(BUILDER)
    assert user is not None
    project = await connectors.projects.ensure("Sales tools")
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Weather", project_id=project.id, connector="weather", mode=Mode.SHARED, api_key="k"
        ),
        actor=principal_of(user),
    )
    paths = [
        LIST,
        f"{LIST}/github",
        f"{LIST}/weather",
        f"{LIST}/weather/delete",
        "/console/connections",
        "/console/connections/new?connector=github",
        "/console/connections/new?connector=http",
        f"/console/connections/{connection.id}",
        f"/console/connections/{connection.id}/delete",
        "/me/connections",
    ]
    for path in paths:
        response = await as_builder.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        page = Page(response.text)
        assert len(page.all("h1")) == 1, path
        assert page.duplicate_ids() == [], path
        for control in page.fillable_controls():
            assert page.label_for(control), f"{path}: {control} has no <label for>"
