"""Every change to connectors, connections and remote MCP servers is in the audit trail: who made it (never
the owner of what was changed), to what, and what changed, without any secret."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.connectors.connections.models import Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from tests.identity.support import PASSWORD, make_user, signed_in
from tests.support.remote_mcp import FilesServer
from tests.support.web import Browserless, csrf_from

BUILDER = "builder@example.com"
ADMIN = "admin@example.com"
SECRET = "s3cret-value-never-recorded-71c2"
FILES_TOKEN = "files-token-never-recorded-0b9d"
WEATHER = """\
key: weather
name: Weather
base_url: https://api.weather.example.com
auth: {type: api_key, name: X-Key}
actions:
  - {name: today, title: Today's forecast, path: /today}
"""
PETS = """\
openapi: 3.1.0
info: {title: Pet Store, version: "1"}
servers: [{url: "https://pets.example.com/v1"}]
paths:
  /pets:
    get: {operationId: listPets, responses: {"200": {description: ok}}}
"""


async def trail(services: IdentityServices, object_type: str) -> list[AuditRecord]:
    """The records about one kind of object, oldest first."""
    records = await services.oauth.audit.search(limit=1000)
    return [record for record in reversed(records) if record.object_type == object_type]


def summary(records: list[AuditRecord]) -> list[tuple[str, str, str, str]]:
    return [(r.action, r.actor, r.object_name, r.reason) for r in records]


def nowhere(records: list[AuditRecord], *secrets: str) -> bool:
    values = [str(getattr(record, field)) for record in records for field in record.__struct_fields__]
    return not any(secret in value for secret in secrets for value in values)


async def post_form(web: Browserless, page_path: str, action: str, data: dict[str, Any]) -> httpx.Response:
    token = csrf_from((await web.client.get(page_path)).text)
    return await web.client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)


@pytest.fixture
async def as_builder(web: Browserless, services: IdentityServices) -> Browserless:
    await make_user(services, BUILDER, Role.BUILDER)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    web.client.headers["user-agent"] = "Safari/18"
    return web


async def test_connectors_added_edited_imported_and_deleted_in_the_console_are_audited(
    services: IdentityServices, as_builder: Browserless
) -> None:
    listing = "/console/connectors"
    assert (await post_form(as_builder, listing, listing, {"source": WEATHER})).status_code == 303
    page = f"{listing}/weather"
    edited = await post_form(
        as_builder, page, page, {"source": WEATHER.replace("name: Weather", "name: Forecasts")}
    )
    assert edited.status_code == 303
    imported = await post_form(as_builder, listing, f"{listing}/import", {"document": PETS, "key": "pets"})
    assert imported.status_code == 303
    deleted = await post_form(as_builder, page, f"{page}/delete", {"confirm": "yes"})
    assert deleted.status_code == 303

    records = await trail(services, "connector")
    assert summary(records) == [
        ("connector.created", BUILDER, "Weather", ""),
        ("connector.changed", BUILDER, "Forecasts", ""),
        ("connector.imported", BUILDER, "Pet Store", "from an OpenAPI document"),
        ("connector.deleted", BUILDER, "weather", ""),
    ]
    assert [r.object_id for r in records] == ["weather", "weather", "pets", "weather"]
    assert {(r.ip_address, r.user_agent, r.outcome) for r in records} == {("127.0.0.1", "Safari/18", "ok")}


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
        "scopes": ["tasks:read"],
        "other_scopes": "",
        "action": "save",
        **changes,
    }


async def test_a_connection_s_changes_name_who_made_each_and_what_changed_but_no_secret(
    services: IdentityServices,
    connectors: ConnectorServices,
    web: Browserless,
    open_second_browser: Browserless,
) -> None:
    project = await connectors.projects.ensure("Sales tools")
    await make_user(services, BUILDER, Role.BUILDER)
    await make_user(services, ADMIN, Role.ADMIN)
    assert (await web.sign_in(BUILDER, PASSWORD)).status_code == 303
    new = "/console/connections/new?connector=demo-tasks"
    created = await post_form(web, new, "/console/connections/new", demo_tasks_form(project))
    assert created.status_code == 303, created.text
    page = created.headers["location"]
    changed = demo_tasks_form(project, name="Tasks", client_secret="", scopes=["tasks:read", "tasks:write"])
    assert (await post_form(web, page, page, changed)).status_code == 303
    unchanged = demo_tasks_form(project, name="Tasks", client_secret="", scopes=["tasks:read", "tasks:write"])
    assert (await post_form(web, page, page, unchanged)).status_code == 303

    admin = open_second_browser
    assert (await admin.sign_in(ADMIN, PASSWORD)).status_code == 303
    local = {
        "field.host": "http://127.0.0.1:8000/tasks",
        "allow_private": "1",
        "client_secret": "new-" + SECRET,
    }
    allowed = await post_form(admin, page, page, demo_tasks_form(project, name="Tasks", **local))
    assert allowed.status_code == 303, allowed.text
    assert (await post_form(admin, page, f"{page}/delete", {"confirm": "yes"})).status_code == 303

    records = await trail(services, "connection")
    assert summary(records) == [
        ("connection.created", BUILDER, "Team tasks", "demo-tasks in project Sales tools, end_user"),
        ("connection.changed", BUILDER, "Tasks", "name: Team tasks → Tasks; scopes: +tasks:write"),
        (
            "connection.changed",
            ADMIN,
            "Tasks",
            "scopes: -tasks:write; fields changed: host; secrets entered: client_secret; "
            "private addresses allowed at http://127.0.0.1:8000",
        ),
        ("connection.deleted", ADMIN, "Tasks", ""),
    ]
    assert len({r.object_id for r in records}) == 1
    assert nowhere(records, SECRET)


@pytest.fixture
async def open_second_browser(app: Litestar) -> AsyncIterator[Browserless]:
    """Another browser, from another address."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.2", 51001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield Browserless(client)


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    with FilesServer(token=FILES_TOKEN, stateful=True) as server:
        yield server.endpoint


async def test_a_remote_server_added_changed_and_removed_over_the_api_is_audited(
    services: IdentityServices, web: Browserless, files_endpoint: str
) -> None:
    await make_user(services, ADMIN, Role.ADMIN)
    client = await signed_in(web, ADMIN)
    api = "/api/v1/remote-servers"
    body = {
        "key": "files",
        "name": "Files",
        "endpoint": files_endpoint,
        "allow_private": True,
        "auth": {"mode": "token", "token": FILES_TOKEN},
    }
    assert (await client.post(api, json=body)).status_code == 201
    renamed = await client.patch(
        f"{api}/files", json={"name": "Shared files", "auth": {"token": FILES_TOKEN}}
    )
    assert renamed.status_code == 200, renamed.text
    # Taking the allowance back is an admin's decision too, and recorded as such.
    withdrawn = await client.patch(f"{api}/files", json={"allow_private": False})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await client.delete(f"{api}/files")).status_code == 204

    records = await trail(services, "remote_server")
    assert summary(records) == [
        (
            "remote_server.created",
            ADMIN,
            "Files",
            f"endpoint {files_endpoint}; auth token; private addresses allowed",
        ),
        (
            "remote_server.changed",
            ADMIN,
            "Shared files",
            "name: Files → Shared files; secrets entered: token",
        ),
        ("remote_server.allowance_changed", ADMIN, "Shared files", "private addresses no longer allowed"),
        ("remote_server.deleted", ADMIN, "Shared files", f"endpoint {files_endpoint}"),
    ]
    assert {r.object_id for r in records} == {"files"}
    assert nowhere(records, FILES_TOKEN)
