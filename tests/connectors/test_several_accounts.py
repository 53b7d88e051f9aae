"""A person's several accounts in one end user's connection: each named by them, one their default, the one
a call names used, each refreshed, revoked and audited on its own; nobody sees another person's accounts."""

from __future__ import annotations

from uuid import UUID

import pytest

from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.connections.models import Connected, Connection, GrantStatus, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.principal import Principal
from switchboard.identity.tables import AuditEvent
from switchboard.platform.core.errors import InvalidInput, NotFound
from tests.connectors.grant_support import callback_params, fake_connection, link_token
from tests.support.fault_provider import FaultProvider

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def connection(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> Connection:
    return await fake_connection(connectors, fake, project, builder)


async def connect_as(
    connectors: ConnectorServices, user_id: UUID, connection_id: UUID, label: str
) -> Connected:
    """The person connects an account under the name ``label`` ('': their default one)."""
    link = await connectors.grants.connect_link(user_id, connection_id, label=label)
    authorize_url = await connectors.connect.open_link(link_token(link), user_id)
    return await connectors.connect.finish(await callback_params(authorize_url), user_id)


async def accounts_of(
    connectors: ConnectorServices, user_id: UUID, connection_id: UUID
) -> list[tuple[str, bool]]:
    (row,) = [r for r in await connectors.accounts.for_user(user_id) if r.connection_id == connection_id]
    return [(account.label, account.is_default) for account in row.accounts]


async def grant_id(user_id: UUID, label: str) -> UUID:
    row = (
        await UserGrant.select(UserGrant.id)
        .where((UserGrant.user == user_id) & (UserGrant.label == label))
        .first()
    )
    assert row is not None
    return row["id"]


async def test_a_second_account_is_added_beside_the_first_which_stays_the_default(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    first = await connect_as(connectors, alice_id, connection.id, "")
    second = await connect_as(connectors, alice_id, connection.id, "Work")

    assert (first.label, second.label) == ("alice@example.com", "Work")
    assert await accounts_of(connectors, alice_id, connection.id) == [
        ("alice@example.com", True),
        ("Work", False),
    ]
    default = await connectors.grants.access_token(alice_id, connection.id)
    work = await connectors.grants.access_token(alice_id, connection.id, "work")  # case-blind
    assert default.access_token != work.access_token
    assert {default.access_token, work.access_token} <= set(fake.live_access_tokens())

    # Connecting "WORK" again replaces that account: still two.
    await connect_as(connectors, alice_id, connection.id, "WORK")
    assert await accounts_of(connectors, alice_id, connection.id) == [
        ("alice@example.com", True),
        ("Work", False),
    ]


async def test_renaming_keeps_names_unique_and_making_another_default_moves_the_default(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    await connect_as(connectors, alice_id, connection.id, "work")
    await connect_as(connectors, alice_id, connection.id, "personal")
    names = connectors.grants.accounts
    personal = await grant_id(alice_id, "personal")

    with pytest.raises(InvalidInput, match=r"You already have an account named 'work' here\."):
        await names.rename(alice_id, connection.id, personal, " WORK ")
    with pytest.raises(InvalidInput, match="Give the account a name"):
        await names.rename(alice_id, connection.id, personal, "   ")
    assert await names.rename(alice_id, connection.id, personal, "  home   laptop ") == "home laptop"
    await names.make_default(alice_id, connection.id, personal)

    assert await accounts_of(connectors, alice_id, connection.id) == [("work", False), ("home laptop", True)]
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.reason).where(
        AuditEvent.action.like("connection.account.%")
    )
    assert [(e["action"], e["reason"]) for e in events] == [
        ("connection.account.rename", "was 'personal'; account 'home laptop'"),
        ("connection.account.default", "account 'home laptop'"),
    ]


async def test_disconnecting_the_default_account_revokes_only_it_and_the_oldest_left_becomes_default(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    await connect_as(connectors, alice_id, connection.id, "work")
    await connect_as(connectors, alice_id, connection.id, "personal")
    await connect_as(connectors, alice_id, connection.id, "play")
    kept = await connectors.grants.access_token(alice_id, connection.id, "personal")

    await connectors.grants.disconnect(alice_id, connection.id, await grant_id(alice_id, "work"))

    assert await accounts_of(connectors, alice_id, connection.id) == [("personal", True), ("play", False)]
    assert len(fake.requests_to("revocation")) == 2  # the one account's refresh and access tokens
    assert kept.access_token in fake.live_access_tokens()
    assert (await connectors.grants.access_token(alice_id, connection.id)).access_token == kept.access_token
    (event,) = await AuditEvent.select(AuditEvent.reason).where(AuditEvent.action == "connection.disconnect")
    assert event["reason"] == "account 'work'"


async def test_one_account_needing_reconnection_leaves_the_others_working(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    await connect_as(connectors, alice_id, connection.id, "work")
    await connect_as(connectors, alice_id, connection.id, "personal")

    await connectors.grants.mark_needs_reconnect(alice_id, connection.id, "Refused.", "personal")

    assert await connectors.grants.access_token(alice_id, connection.id, "work")
    with pytest.raises(ConnectionRequired) as raised:
        await connectors.grants.access_token(alice_id, connection.id, "personal")
    assert "This tool needs your Test App account named 'personal'. Open http" in raised.value.message
    link = await connectors.connect.describe_link(link_token(raised.value.connect_url), alice_id)
    assert link.id == connection.id
    statuses = {a.label: a.status for r in await connectors.accounts.for_user(alice_id) for a in r.accounts}
    assert statuses == {"work": GrantStatus.CONNECTED, "personal": GrantStatus.NEEDS_RECONNECT}


async def test_a_call_naming_an_unknown_account_lists_only_the_callers_own_and_links_to_connect_it(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID, bob_id: UUID
) -> None:
    await connect_as(connectors, alice_id, connection.id, "work")
    await connect_as(connectors, bob_id, connection.id, "bobs-side-project")

    with pytest.raises(ConnectionRequired) as raised:
        await connectors.grants.access_token(alice_id, connection.id, "play")

    error = raised.value
    assert error.reason == "unknown_account"
    assert error.message.startswith(
        "You have no Test App account named 'play' in Test App; yours are 'work'. Open http"
    )
    assert "bobs-side-project" not in error.message
    authorize_url = await connectors.connect.open_link(link_token(error.connect_url), alice_id)
    connected = await connectors.connect.finish(await callback_params(authorize_url), alice_id)
    assert connected.label == "play"
    assert await accounts_of(connectors, alice_id, connection.id) == [("work", True), ("play", False)]


async def test_another_persons_accounts_can_be_neither_seen_renamed_made_default_nor_disconnected(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID, bob_id: UUID
) -> None:
    await connect_as(connectors, alice_id, connection.id, "work")
    await connect_as(connectors, alice_id, connection.id, "personal")
    await connect_as(connectors, bob_id, connection.id, "mine")
    alices = await grant_id(alice_id, "personal")

    with pytest.raises(NotFound):
        await connectors.grants.accounts.rename(bob_id, connection.id, alices, "stolen")
    with pytest.raises(NotFound):
        await connectors.grants.accounts.make_default(bob_id, connection.id, alices)
    with pytest.raises(NotFound):
        await connectors.grants.disconnect(bob_id, connection.id, alices)
    with pytest.raises(NotFound):
        await connectors.connect.personal.remove(bob_id, connection.id, alices)

    assert await accounts_of(connectors, bob_id, connection.id) == [("mine", True)]
    assert await accounts_of(connectors, alice_id, connection.id) == [("work", True), ("personal", False)]
