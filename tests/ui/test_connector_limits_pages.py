"""Console → Connectors against documents built to stall the server: they are refused at once with the
limit named next to the field, a stored one does not stall its page, and the server keeps answering
while a large legitimate definition is being read."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from switchboard.connectors.definitions.loading import MAX_DEPTH, MAX_SCHEMA_VALUES, MAX_VALUES
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import CustomConnector
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.connectors.oversized import (
    alias_bomb,
    deep_yaml,
    definition,
    large_definition,
    openapi_alias_bomb,
    reference_bomb,
)
from tests.identity.support import PASSWORD, make_user
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

BUILDER = "builder@example.com"
LIST = "/console/connectors"
TOO_MANY_VALUES = f"the document holds more than {MAX_VALUES:,} values once its YAML aliases are expanded"
WEATHER = """\
key: weather
name: Weather
base_url: https://api.weather.example.com
auth: {type: api_key, name: X-Key}
actions:
  - {name: today, title: Today, path: /today}
"""


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        secret_key=TEST_SECRET,
        database_url=db_url,
        data_dir=str(tmp_path),
        base_url="http://testserver.local",
        connectors_dir=str(tmp_path / "connectors"),
    )


@pytest.fixture
async def as_builder(web: Browserless, services: IdentityServices) -> Browserless:
    await make_user(services, BUILDER, Role.BUILDER)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    return web


async def timed_post(web: Browserless, action: str, data: dict[str, str]) -> tuple[httpx.Response, float]:
    token = csrf_from((await web.client.get(LIST)).text)
    started = time.monotonic()
    response = await web.client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)
    return response, time.monotonic() - started


async def custom_keys(connectors: ConnectorServices) -> list[str]:
    return [s.key for s in await connectors.registry.list() if s.origin == "custom"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (alias_bomb(6, 9), f"definition: {TOO_MANY_VALUES}"),
        (deep_yaml(200), f"definition: the document nests deeper than {MAX_DEPTH} levels"),
        (
            json.dumps(definition(reference_bomb(6, 9))),
            f"definition: `actions.go.input_schema`: the input schema holds more than {MAX_SCHEMA_VALUES:,} "
            "values once its references are expanded",
        ),
    ],
    ids=["alias bomb", "deep nesting", "reference bomb"],
)
async def test_a_definition_built_to_stall_the_server_is_refused_at_once_naming_the_limit(
    as_builder: Browserless, connectors: ConnectorServices, source: str, message: str
) -> None:
    response, seconds = await timed_post(as_builder, LIST, {"source": source})

    assert seconds < 2
    assert response.status_code == 400
    page = Page(response.text)
    field = page.field("source", form_action=LIST)
    assert page.error_next_to(field) == message
    assert await custom_keys(connectors) == []


async def test_an_openapi_alias_bomb_is_refused_at_once_next_to_the_document(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    response, seconds = await timed_post(as_builder, f"{LIST}/import", {"document": openapi_alias_bomb(6, 9)})

    assert seconds < 2
    assert response.status_code == 400
    page = Page(response.text)
    field = page.field("document", form_action=f"{LIST}/import")
    assert page.error_next_to(field) == f"OpenAPI document: {TOO_MANY_VALUES}"
    assert await custom_keys(connectors) == []


async def test_editing_a_connector_into_an_alias_bomb_is_refused_and_the_old_one_kept(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    await connectors.registry.save(WEATHER, actor=BUILDER)
    bomb = alias_bomb(6, 9).replace("key: bomb", "key: weather")

    token = csrf_from((await as_builder.client.get(f"{LIST}/weather")).text)
    started = time.monotonic()
    response = await as_builder.client.post(
        f"{LIST}/weather", data={"_csrf_token": token, "source": bomb}, follow_redirects=False
    )

    assert time.monotonic() - started < 2
    assert response.status_code == 400
    page = Page(response.text)
    assert page.error_next_to(page.field("source")) == f"definition: {TOO_MANY_VALUES}"
    assert (await connectors.registry.get("weather")).name == "Weather"


async def test_an_alias_bomb_stored_before_does_not_stall_its_page_or_the_list(
    as_builder: Browserless,
) -> None:
    now = datetime.now(UTC)
    await CustomConnector.insert(
        CustomConnector(
            key="bomb", source=alias_bomb(6, 9), created_by=BUILDER, created_at=now, updated_at=now
        )
    )

    started = time.monotonic()
    detail = await as_builder.client.get(f"{LIST}/bomb")
    listing = await as_builder.client.get(LIST)

    assert time.monotonic() - started < 2
    assert detail.status_code == 400
    assert f"custom connector 'bomb': {TOO_MANY_VALUES}" in Page(detail.text).text
    assert listing.status_code == 200
    assert f"custom connector 'bomb': {TOO_MANY_VALUES}" in Page(listing.text).text


async def probe(client: httpx.AsyncClient, busy: asyncio.Task[httpx.Response]) -> list[tuple[float, bool]]:
    """Ask /healthz every 50 ms until ``busy`` is done: how long each answer took from when it was due
    (a blocked event loop delays both the wake-up and the answer), and whether ``busy`` was still running."""
    probes: list[tuple[float, bool]] = []
    while not busy.done():
        due = time.monotonic() + 0.05
        await asyncio.sleep(0.05)
        response = await client.get("/healthz")
        assert response.status_code == 200
        probes.append((time.monotonic() - due, not busy.done()))
    return probes


async def test_the_server_keeps_answering_while_a_large_definition_is_saved_and_shown(
    as_builder: Browserless, connectors: ConnectorServices
) -> None:
    client = as_builder.client
    token = csrf_from((await client.get(LIST)).text)

    upload = {"file": ("large.json", large_definition().encode(), "application/json")}
    saving = asyncio.create_task(
        client.post(LIST, data={"_csrf_token": token, "source": ""}, files=upload, follow_redirects=False)
    )
    probes = await probe(client, saving)

    assert (await saving).status_code == 303
    assert any(running for _, running in probes), "the save ended before the first probe"
    assert max(seconds for seconds, _ in probes) < 0.5, probes

    showing = asyncio.create_task(client.get(f"{LIST}/large"))
    probes = await probe(client, showing)

    assert (await showing).status_code == 200
    assert any(running for _, running in probes), "the page was shown before the first probe"
    assert max(seconds for seconds, _ in probes) < 0.5, probes
