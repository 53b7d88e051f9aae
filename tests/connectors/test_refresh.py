"""Keeping a user's grant alive: refresh before expiry, once across processes; faults lose nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from switchboard.connectors.connections.errors import ConnectionRequired, ProviderError
from switchboard.connectors.connections.models import Connection, ConnectionInput, GrantStatus, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import UserService
from switchboard.identity.tables import AuditEvent
from switchboard.platform.core.settings import Settings
from tests.connectors.grant_support import connect, fake_connection
from tests.support.fault_provider import FaultProvider

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def connection(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> Connection:
    return await fake_connection(connectors, fake, project, builder)


@pytest.fixture
async def connected(connectors: ConnectorServices, connection: Connection, alice_id: UUID) -> Connection:
    await connect(connectors, alice_id, connection.id)
    return connection


async def _expire() -> None:
    """The stored access token is about to expire (within the refresh leeway)."""
    await UserGrant.update({UserGrant.expires_at: datetime.now(UTC) + timedelta(seconds=5)}).where(
        UserGrant.id.is_not_null()
    )


async def _stored() -> dict[str, Any]:
    row = await UserGrant.select(UserGrant.tokens, UserGrant.status, UserGrant.lease_until).first()
    assert row is not None
    return row


def _other_process(settings: Settings, connectors: ConnectorServices) -> ConnectorServices:
    """Services as a second Switchboard process has them: same database, its own locks and caches."""
    return ConnectorServices.from_settings(settings, audit=AuditLog(), sign=_unused, users=UserService())


async def _unused(claims: dict[str, Any]) -> str:
    raise AssertionError("nothing is signed here")


async def test_a_token_about_to_expire_is_refreshed_once_for_twenty_callers_in_two_processes(
    settings: Settings,
    connectors: ConnectorServices,
    fake: FaultProvider,
    connected: Connection,
    alice_id: UUID,
) -> None:
    other = _other_process(settings, connectors)
    await _expire()
    before = fake.live_access_tokens()

    tokens = await asyncio.gather(
        *[(connectors if n % 2 else other).grants.access_token(alice_id, connected.id) for n in range(20)]
    )
    await other.aclose()

    assert len(fake.requests_to("token", grant_type="refresh_token")) == 1
    assert {token.access_token for token in tokens} == {tokens[0].access_token}
    assert tokens[0].access_token not in before
    assert tokens[0].access_token in fake.live_access_tokens()
    row = await UserGrant.select(UserGrant.refreshed_at, UserGrant.lease_until).first()
    assert row is not None
    assert row["refreshed_at"] is not None
    assert row["lease_until"] is None


async def test_a_token_with_time_left_is_used_as_it_is(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    first = await connectors.grants.access_token(alice_id, connected.id)
    second = await connectors.grants.access_token(alice_id, connected.id)

    assert first == second
    assert fake.requests_to("token", grant_type="refresh_token") == []


async def test_the_old_refresh_token_is_kept_when_the_app_sends_no_new_one(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    (original,) = fake.refresh_tokens
    fake.fail("token", "no_refresh_token", times=1)
    await _expire()
    await connectors.grants.access_token(alice_id, connected.id)
    await _expire()

    await connectors.grants.access_token(alice_id, connected.id)

    refreshes = fake.requests_to("token", grant_type="refresh_token")
    assert [request.form["refresh_token"] for request in refreshes] == [original, original]


async def test_a_refused_refresh_marks_the_grant_for_reconnecting_and_offers_a_new_link(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    fake.revoke_everything()
    await _expire()

    with pytest.raises(ConnectionRequired) as required:
        await connectors.grants.access_token(alice_id, connected.id)

    assert required.value.reason == "needs_reconnect"
    assert required.value.connect_url.startswith("http://testserver.local/connect/")
    assert "to reconnect it" in required.value.message
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert mine.status is GrantStatus.NEEDS_RECONNECT
    assert mine.reason.startswith("Test App no longer accepts this grant (invalid_grant")
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.outcome).where(
        AuditEvent.action == "connection.refresh"
    )
    assert events == [{"action": "connection.refresh", "outcome": "refused"}]
    # The next call asks again, without another refresh attempt; reconnecting mends it.
    with pytest.raises(ConnectionRequired):
        await connectors.grants.access_token(alice_id, connected.id)
    assert len(fake.requests_to("token", grant_type="refresh_token")) == 1
    await connect(connectors, alice_id, connected.id)
    assert (
        await connectors.grants.access_token(alice_id, connected.id)
    ).access_token in fake.live_access_tokens()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("timeout", "Test App did not answer within 1 s at its token endpoint; try again in a moment."),
        ("status_500", "Test App failed to issue tokens (HTTP 500); try again in a moment."),
        ("status_503", "Test App failed to issue tokens (HTTP 503); try again in a moment."),
        (
            "malformed",
            "Test App's token endpoint answered without an access token; check the connector's token URL.",
        ),
    ],
)
async def test_a_provider_fault_during_refresh_gives_a_clear_error_and_loses_no_grant(
    connectors: ConnectorServices,
    fake: FaultProvider,
    connected: Connection,
    alice_id: UUID,
    fault: str,
    message: str,
) -> None:
    await _expire()
    before = await _stored()
    fake.fail("token", fault, times=1)  # type: ignore[arg-type]

    with pytest.raises(ProviderError) as failed:
        await connectors.grants.access_token(alice_id, connected.id)

    assert failed.value.message == message
    after = await _stored()
    assert (after["tokens"], after["status"], after["lease_until"]) == (before["tokens"], "connected", None)
    # Once the app is well again, the same grant refreshes.
    token = await connectors.grants.access_token(alice_id, connected.id)
    assert token.access_token in fake.live_access_tokens()


async def test_a_token_without_a_lifetime_is_kept_and_used_until_the_app_refuses_it(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    fake.fail("token", "no_expires_in", times=1)

    await connect(connectors, alice_id, connection.id)
    token = await connectors.grants.access_token(alice_id, connection.id)

    row = await UserGrant.select(UserGrant.expires_at).first()
    assert row == {"expires_at": None}
    assert token.access_token in fake.live_access_tokens()
    assert fake.requests_to("token", grant_type="refresh_token") == []


async def test_the_other_client_authentication_is_tried_when_the_app_refuses_one(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    fake.fail("token", "refuse_basic")

    await connect(connectors, alice_id, connection.id)
    await _expire()
    await connectors.grants.access_token(alice_id, connection.id)

    methods = [request.client_auth for request in fake.requests_to("token")]
    # Refused once with Basic, then the form; the refresh goes straight to what worked.
    assert methods == ["client_secret_basic", "client_secret_post", "client_secret_post"]


async def test_changing_the_connections_scopes_asks_everyone_to_reconnect(
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
    connected: Connection,
    alice_id: UUID,
) -> None:
    data = ConnectionInput(
        name=connected.name,
        project_id=project.id,
        connector=connected.connector,
        client_id=connected.client_id,
        scopes=("tasks:read", "tasks:write"),
        fields=connected.fields,
    )
    await connectors.connections.update(connected.id, data, actor=builder)

    with pytest.raises(ConnectionRequired) as required:
        await connectors.grants.access_token(alice_id, connected.id)

    assert required.value.reason == "needs_reconnect"
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert (mine.status, mine.reason) == (GrantStatus.NEEDS_RECONNECT, "The connection's scopes changed.")
    await connect(connectors, alice_id, connected.id)
    assert (await connectors.grants.access_token(alice_id, connected.id)).access_token


async def test_disconnect_revokes_at_the_app_and_deletes_the_tokens(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    (refresh_token,) = fake.refresh_tokens

    warning = await connectors.grants.disconnect(alice_id, connected.id)

    assert warning == ""
    revoked = [(r.form["token_type_hint"], r.form["token"]) for r in fake.requests_to("revocation")]
    assert revoked[0] == ("refresh_token", refresh_token)
    assert [hint for hint, _ in revoked] == ["refresh_token", "access_token"]
    assert fake.live_access_tokens() == []
    assert await UserGrant.count() == 0
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor).where(
        AuditEvent.action == "connection.disconnect"
    )
    assert events == [{"action": "connection.disconnect", "outcome": "ok", "actor": "alice@example.com"}]
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert mine.status is GrantStatus.NOT_CONNECTED


async def test_an_app_that_cannot_revoke_access_tokens_is_no_failure_once_the_refresh_token_is_revoked(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    fake.fail("revocation", "unsupported_token_type")

    warning = await connectors.grants.disconnect(alice_id, connected.id)

    assert warning == ""
    assert [r.form["token_type_hint"] for r in fake.requests_to("revocation")] == [
        "refresh_token",
        "access_token",
    ]
    assert fake.live_access_tokens() == []  # revoking the refresh token revoked them
    assert await UserGrant.count() == 0


async def test_disconnect_deletes_the_tokens_even_when_the_app_cannot_revoke_them_and_says_so(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    fake.fail("revocation", "status_503")

    warning = await connectors.grants.disconnect(alice_id, connected.id)

    assert warning.startswith("Test App failed to revoke the tokens (HTTP 503)")
    assert warning.endswith("Remove Switchboard's access in Test App too.")
    assert await UserGrant.count() == 0


async def test_stored_tokens_are_not_readable_without_the_key(
    connectors: ConnectorServices, fake: FaultProvider, connected: Connection, alice_id: UUID
) -> None:
    token = await connectors.grants.access_token(alice_id, connected.id)

    stored = await UserGrant.select().first()
    assert stored is not None
    raw = stored["tokens"]

    assert raw.startswith("v1.")
    assert token.access_token not in raw
    opened = connectors.grant_store.open(stored)
    assert opened is not None
    assert opened.access_token == token.access_token


async def test_tokens_sealed_with_a_secret_key_no_longer_configured_lead_to_reconnecting(
    settings: Settings, connectors: ConnectorServices, connected: Connection, alice_id: UUID
) -> None:
    changed = msgspec.structs.replace(
        settings, secret_key="another-secret-key-without-the-old-one-0123456789"
    )
    after = ConnectorServices.from_settings(changed, audit=AuditLog(), sign=_unused, users=UserService())

    with pytest.raises(ConnectionRequired) as required:
        await after.grants.access_token(alice_id, connected.id)
    await after.aclose()

    assert required.value.reason == "needs_reconnect"
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert mine.status is GrantStatus.NEEDS_RECONNECT
    assert mine.reason.startswith("The stored tokens were encrypted with an earlier secret key")
