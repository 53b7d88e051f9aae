"""Several accounts of one app under My connections: connect another under a name, rename one, make one
the default, disconnect one while the others stay; another person's accounts and a forged form are
refused. The app is the fault provider, a real OAuth server on 127.0.0.1 that approves at once."""

from __future__ import annotations

from uuid import UUID

import pytest

from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import fake_connection
from tests.identity.support import make_user
from tests.support.fault_provider import FaultProvider
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page
from tests.ui.test_connect_pages import ALICE, BOB, BUILDER, back_from_app, my_rows, sign_in

MINE = "/me/connections"


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


async def connect_named(web: Browserless, connection: Connection, label: str) -> None:
    """Press Connect (no name) or "Connect another account" with ``label``, and come back from the app."""
    page = await web.client.get(MINE)
    data = {"_csrf_token": csrf_from(page.text)} | ({"label": label} if label else {})
    pressed = await web.client.post(f"{MINE}/{connection.id}/connect", data=data, follow_redirects=False)
    assert pressed.status_code == 303, pressed.text
    done = await web.client.get(await back_from_app(pressed.headers["location"]))
    assert done.status_code == 200


def accounts(html: str) -> list[tuple[str, str, str]]:
    """Each account row: its Account cell, its Status cell, and whether it offers Make default."""
    return [(row[2], row[4], "Make default" if "Make default" in row[5] else "") for row in my_rows(html)]


def alerts(html: str) -> list[str]:
    return [element.text for element in Page(html).elements if element.attrs.get("role") == "alert"]


async def grant_of(user_id: UUID, label: str) -> UUID:
    row = (
        await UserGrant.select(UserGrant.id)
        .where((UserGrant.user == user_id) & (UserGrant.label == label))
        .first()
    )
    assert row is not None
    return row["id"]


async def test_a_person_connects_another_account_renames_it_makes_it_default_and_disconnects_the_first(
    web: Browserless, connection: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)
    await connect_named(web, connection, "")
    await connect_named(web, connection, "Work")

    listed = await web.client.get(MINE)
    assert accounts(listed.text) == [
        (f"{ALICE} Default", "Connected", ""),
        (f"Work {ALICE}", "Connected", "Make default"),
    ]

    work = await grant_of(alice.id, "Work")
    renamed = await web.client.post(
        f"{MINE}/{connection.id}/accounts/{work}/rename",
        data={"_csrf_token": csrf_from(listed.text), "label": "office"},
        follow_redirects=False,
    )
    assert (renamed.status_code, renamed.headers["location"]) == (303, MINE)
    made = await web.client.post(
        f"{MINE}/{connection.id}/accounts/{work}/default",
        data={"_csrf_token": csrf_from(listed.text)},
        follow_redirects=False,
    )
    assert made.status_code == 303
    listed = await web.client.get(MINE)
    assert "office is now your default account there." in Page(listed.text).text
    assert accounts(listed.text) == [
        (ALICE, "Connected", "Make default"),
        (f"office {ALICE} Default", "Connected", ""),
    ]

    first = await grant_of(alice.id, ALICE)
    gone = await web.client.post(
        f"{MINE}/{connection.id}/disconnect",
        data={"_csrf_token": csrf_from(listed.text), "grant_id": str(first)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    listed = await web.client.get(MINE)
    assert f"Disconnected Test App ({ALICE})." in Page(listed.text).text
    assert accounts(listed.text) == [(f"office {ALICE}", "Connected", "")]


async def test_a_name_already_taken_is_refused_and_says_so(
    web: Browserless, connection: Connection, alice: UserOut
) -> None:
    await sign_in(web, ALICE)
    await connect_named(web, connection, "work")
    await connect_named(web, connection, "personal")
    listed = await web.client.get(MINE)

    refused = await web.client.post(
        f"{MINE}/{connection.id}/accounts/{await grant_of(alice.id, 'personal')}/rename",
        data={"_csrf_token": csrf_from(listed.text), "label": "Work"},
    )

    assert refused.status_code == 422
    assert alerts(refused.text) == ["You already have an account named 'work' here."]

    # "Connect another account" under a name already taken replaces nothing: it is refused first.
    another = await web.client.post(
        f"{MINE}/{connection.id}/connect",
        data={"_csrf_token": csrf_from(listed.text), "label": "WORK", "new": "1"},
        follow_redirects=False,
    )
    assert another.status_code == 422
    assert alerts(another.text) == [
        "You already have an account named 'WORK' here: choose another name, or use that account's Reconnect."
    ]
    assert [row["label"] for row in await UserGrant.select(UserGrant.label).order_by(UserGrant.label)] == [
        "personal",
        "work",
    ]


async def test_another_persons_account_and_a_forged_form_are_refused(
    web: Browserless, connection: Connection, alice: UserOut, bob: UserOut
) -> None:
    await sign_in(web, ALICE)
    await connect_named(web, connection, "work")
    await connect_named(web, connection, "personal")
    alices = await grant_of(alice.id, "personal")
    await web.client.post("/logout", data={"_csrf_token": csrf_from((await web.client.get(MINE)).text)})

    await sign_in(web, BOB)
    page = await web.client.get(MINE)
    assert my_rows(page.text) == [
        ["🔌 Test App", "Test App Sales tools", "—", "—", "Not connected", "Connect"]
    ]
    token = csrf_from(page.text)
    for action, data in (
        (f"accounts/{alices}/rename", {"label": "stolen"}),
        (f"accounts/{alices}/default", {}),
        ("disconnect", {"grant_id": str(alices)}),
    ):
        response = await web.client.post(
            f"{MINE}/{connection.id}/{action}", data={"_csrf_token": token} | data
        )
        assert response.status_code == 404, action
        assert alerts(response.text) == ["You have no such account."]

    forged = await web.client.post(
        f"{MINE}/{connection.id}/accounts/{alices}/default", data={"_csrf_token": "forged"}
    )
    assert forged.status_code == 403
    rows = await UserGrant.select(UserGrant.label, UserGrant.is_default).where(UserGrant.user == alice.id)
    assert sorted((r["label"], r["is_default"]) for r in rows) == [("personal", False), ("work", True)]
