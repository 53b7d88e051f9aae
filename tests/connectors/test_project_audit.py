"""Projects made and deleted are in the audit trail: who did it, to which project, and from where; a
refused change records nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.services import Services
from tests.identity.support import make_user, signed_in
from tests.support.web import Browserless, csrf_from

BUILDER = "builder@example.com"
BUILDER_IP = "203.0.113.44"
BROWSER = "Safari/18 (builder)"
LISTING = "/console/connections"


@pytest.fixture
def connectors(app_services: Services) -> ConnectorServices:
    return app_services.connectors


@pytest.fixture
async def builder(app: Litestar, services: IdentityServices) -> AsyncIterator[Browserless]:
    await make_user(services, BUILDER, Role.BUILDER)
    transport = httpx.ASGITransport(app=app, client=(BUILDER_IP, 50700))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", headers={"user-agent": BROWSER}
    ) as http:
        browser = Browserless(http)
        await signed_in(browser, BUILDER)
        yield browser


async def post(browser: Browserless, action: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from((await browser.client.get(LISTING)).text)
    return await browser.client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)


async def project_records(services: IdentityServices) -> list[AuditRecord]:
    """The records about projects, oldest first."""
    records = await services.oauth.audit.search(limit=1000)
    return [record for record in reversed(records) if record.action.startswith("project.")]


async def test_a_project_made_and_deleted_in_the_console_is_recorded_with_who_and_where_from(
    builder: Browserless, services: IdentityServices, connectors: ConnectorServices
) -> None:
    created = await post(
        builder, f"{LISTING}/projects", {"project_name": "Finance", "project_description": "Books"}
    )
    assert created.status_code == 303
    (finance,) = await connectors.projects.list_all()
    deleted = await post(builder, f"{LISTING}/projects/{finance.id}/delete", {})
    assert deleted.status_code == 303

    assert [
        (r.action, r.actor, r.object_type, r.object_id, r.object_name, r.outcome, r.ip_address, r.user_agent)
        for r in await project_records(services)
    ] == [
        ("project.created", BUILDER, "project", str(finance.id), "Finance", "ok", BUILDER_IP, BROWSER),
        ("project.deleted", BUILDER, "project", str(finance.id), "Finance", "ok", BUILDER_IP, BROWSER),
    ]


async def test_a_project_refused_records_nothing(
    builder: Browserless, services: IdentityServices, connectors: ConnectorServices
) -> None:
    assert (await post(builder, f"{LISTING}/projects", {"project_name": "Finance"})).status_code == 303
    taken = await post(builder, f"{LISTING}/projects", {"project_name": "FINANCE"})
    assert taken.status_code == 409
    unnamed = await post(builder, f"{LISTING}/projects", {"project_name": " "})
    assert unnamed.status_code == 422

    assert [(r.action, r.object_name) for r in await project_records(services)] == [
        ("project.created", "Finance")
    ]


async def test_a_project_made_for_whoever_needs_it_is_recorded_as_made_by_switchboard(
    services: IdentityServices, connectors: ConnectorServices
) -> None:
    made = await connectors.projects.ensure()
    await connectors.projects.ensure()

    assert [(r.action, r.actor, r.object_id, r.object_name) for r in await project_records(services)] == [
        ("project.created", "", str(made.id), "Default")
    ]
