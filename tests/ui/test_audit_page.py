"""Console → Audit: recent authorization-server events, newest first, filtered and paged."""

from __future__ import annotations

import pytest

from switchboard.identity.oauth.audit import AuditEntry
from switchboard.identity.oauth.models import RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.html import Page

HEADER = ["Time", "Action", "Outcome", "Actor", "Subject", "Client", "Grant type", "Scopes", "Reason"]


@pytest.fixture
def oauth(app_services: Services) -> AuthorizationServer:
    return app_services.identity.oauth


def table(html: str) -> list[list[str]]:
    """The events table: one list of cell texts per row, the header first."""
    rows: list[list[str]] = []
    for element in Page(html).elements:
        if element.tag == "tr":
            rows.append([])
        elif element.tag in {"td", "th"}:
            rows[-1].append(" ".join(element.text.split()))
    return rows


def pager(html: str) -> dict[str, str]:
    return {a.text: a.attrs["href"] for a in Page(html).all("a") if a.attrs.get("rel") in {"prev", "next"}}


async def test_events_are_listed_newest_first_with_every_detail(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    await oauth.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)
    created = await oauth.clients.create_static(
        StaticClientCreate(name="Reporter", grant_types=["client_credentials"]), actor=SETUP
    )
    await oauth.audit.record(
        AuditEntry(
            action="token.refused",
            outcome="refused",
            subject="alice@example.com",
            client_id=created.client.client_id,
            client_name="Reporter",
            grant_type="client_credentials",
            scope="mcp:tools:*",
            reason="invalid_client: The client secret is wrong.",
        )
    )
    response = await as_admin.client.get("/console/audit")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    rows = table(response.text)
    assert rows[0] == HEADER
    assert [row[1] for row in rows[1:]] == ["token.refused", "client.created", "policy.changed"]
    refused = rows[1]
    assert refused[0].endswith(" UTC")
    assert refused[1:] == [
        "token.refused",
        "refused",
        "—",
        "alice@example.com",
        f"Reporter {created.client.client_id}",
        "client_credentials",
        "mcp:tools:*",
        "invalid_client: The client secret is wrong.",
    ]
    assert rows[3][1:] == ["policy.changed", "ok", "—", "—", "—", "—", "—", "registration open"]
    assert pager(response.text) == {}
    current = [a.text for a in Page(response.text).all("a") if a.attrs.get("aria-current") == "page"]
    assert current == ["Audit"]


async def test_the_action_filter_shows_only_matching_events_and_stays_selected(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    for action in ("token.issued", "client.approved", "token.refused", "consent.granted"):
        await oauth.audit.record(AuditEntry(action=action, actor="admin@example.com"))
    tokens = await as_admin.client.get("/console/audit", params={"action": "token."})
    assert [row[1] for row in table(tokens.text)[1:]] == ["token.refused", "token.issued"]
    selected = [o.attrs["value"] for o in Page(tokens.text).all("option") if "selected" in o.attrs]
    assert selected == ["token."]
    one = await as_admin.client.get("/console/audit", params={"action": "consent.granted"})
    assert [row[1] for row in table(one.text)[1:]] == ["consent.granted"]
    none = await as_admin.client.get("/console/audit", params={"action": "client.deleted"})
    assert table(none.text) == []
    assert "No events yet." in Page(none.text).text

    made_up = await as_admin.client.get("/console/audit", params={"action": "%"})
    assert made_up.status_code == 422
    assert "Choose one of the listed kinds of events." in Page(made_up.text).text


async def test_older_and_newer_page_through_the_events_keeping_the_filter(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    for number in range(55):
        await oauth.audit.record(AuditEntry(action="token.issued", subject=f"user{number}@example.com"))
    await oauth.audit.record(AuditEntry(action="client.deleted", reason="never used"))

    first = await as_admin.client.get("/console/audit", params={"action": "token.issued"})
    subjects = [row[4] for row in table(first.text)[1:]]
    assert subjects == [f"user{number}@example.com" for number in range(54, 4, -1)]
    assert pager(first.text) == {"Older": "/console/audit?offset=50&action=token.issued"}

    second = await as_admin.client.get(pager(first.text)["Older"])
    assert [row[4] for row in table(second.text)[1:]] == [
        f"user{number}@example.com" for number in range(4, -1, -1)
    ]
    assert pager(second.text) == {"Newer": "/console/audit?offset=0&action=token.issued"}

    beyond = await as_admin.client.get("/console/audit", params={"offset": "500"})
    assert "No older events." in Page(beyond.text).text
    negative = await as_admin.client.get("/console/audit", params={"offset": "-1"})
    assert negative.status_code == 400
