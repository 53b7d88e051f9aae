"""A shared connection on a builder's own authorization code grant: connected once, used for every caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import SharedGrantMissing
from switchboard.connectors.connections.models import Connected, Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import ConnectLink, UserGrant
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import InvalidInput, NotFound, PermissionDenied
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import callback_params, connect, fake_connection, link_token
from tests.identity.support import make_user
from tests.support.fault_provider import FaultProvider

pytestmark = pytest.mark.both_engines

NOT_CONNECTED = (
    "The shared connection Test App is not connected to Test App: a builder connects it with Connect on its "
    "page in the console (Connections)."
)
AGAIN = (
    "The shared connection Test App must be connected again to Test App: a builder connects it with Connect "
    "on its page in the console (Connections)."
)


@pytest.fixture
async def shared(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> Connection:
    return await fake_connection(connectors, fake, project, builder, mode=Mode.SHARED)


@pytest.fixture
async def other_builder(services: IdentityServices) -> Principal:
    return principal_of(await make_user(services, "carol@example.com", Role.BUILDER))


async def connect_shared(
    connectors: ConnectorServices, fake: FaultProvider, builder: Principal, connection_id: UUID, login: str
) -> Connected:
    """What the console's Connect does for a builder: a link for them, the app's consent, the callback."""
    fake.login = login
    link = await connectors.grants.shared_connect_link(connection_id, builder, return_to="")
    authorize_url = await connectors.connect.open_link(link_token(link), builder.user_id)
    return await connectors.connect.finish(await callback_params(authorize_url), builder.user_id)


async def whoami(connectors: ConnectorServices, connection: Connection, caller: Caller) -> dict[str, Any]:
    """Whom the app sees calling through the connection."""
    definition = await connectors.connections.definition_of(connection)
    auth = await connectors.credentials.request_auth(connection.id, caller)
    output = (await connectors.runner.run(definition, "whoami", {}, auth)).output
    assert isinstance(output, dict)
    return output


async def test_every_caller_uses_the_account_the_builder_connected_and_it_is_nobodys_own_connection(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    alice_id: UUID,
    bob_id: UUID,
) -> None:
    connected = await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")

    assert (connected.account, connected.scopes) == ("ops@example.com", ("tasks:read",))
    for caller in (Caller(alice_id, "alice@example.com"), Caller(bob_id, "bob@example.com"), Caller(None)):
        assert (await whoami(connectors, shared, caller)) == {
            "sub": "ops@example.com",
            "email": "ops@example.com",
            "scope": "tasks:read",
        }
    (grant,) = await UserGrant.select(UserGrant.user, UserGrant.account)
    assert grant == {"user": builder.user_id, "account": "ops@example.com"}
    assert await connectors.accounts.for_user(alice_id) == []
    assert await connectors.accounts.for_user(builder.user_id) == []
    (row,) = await connectors.accounts.of_connection(shared.id)
    assert (row.user_email, row.account) == ("builder@example.com", "ops@example.com")


async def test_only_a_builder_can_start_connecting_a_shared_connection_and_not_as_their_own(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    shared: Connection,
    builder: Principal,
    alice_id: UUID,
    services: IdentityServices,
) -> None:
    member = principal_of(await make_user(services, "dave@example.com"))
    own = await fake_connection(connectors, fake, project, builder, name="Each user", mode=Mode.END_USER)

    with pytest.raises(PermissionDenied):
        await connectors.grants.shared_connect_link(shared.id, member, return_to="")
    with pytest.raises(NotFound) as as_own:
        await connectors.grants.connect_link(alice_id, shared.id)
    with pytest.raises(NotFound) as own_as_shared:
        await connectors.grants.shared_connect_link(own.id, builder, return_to="")

    assert as_own.value.message == "Test App is not connected by each user."
    assert own_as_shared.value.message == "Each user is not connected by a builder."
    assert await ConnectLink.count() == 0


async def test_an_unconnected_shared_connection_says_a_builder_must_connect_it_and_makes_no_link(
    connectors: ConnectorServices, shared: Connection, alice_id: UUID
) -> None:
    for caller in (Caller(alice_id, "alice@example.com"), Caller(None)):
        with pytest.raises(SharedGrantMissing) as missing:
            await connectors.credentials.request_auth(shared.id, caller)
        assert missing.value.message == NOT_CONNECTED
        assert (missing.value.code, missing.value.status) == ("connection_not_connected", 409)
    assert await ConnectLink.count() == 0


async def test_the_builder_who_connects_last_replaces_the_account(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    other_builder: Principal,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    await connect_shared(connectors, fake, other_builder, shared.id, "robot@example.com")

    assert (await UserGrant.select(UserGrant.user, UserGrant.account)) == [
        {"user": other_builder.user_id, "account": "robot@example.com"}
    ]
    assert (await whoami(connectors, shared, Caller(None)))["email"] == "robot@example.com"


async def test_changed_scopes_need_a_builder_to_connect_again_before_anyone_can_call(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    alice_id: UUID,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    data = ConnectionInput(
        name=shared.name,
        project_id=shared.project_id,
        connector=shared.connector,
        mode=Mode.SHARED,
        client_id=shared.client_id,
        scopes=("tasks:read", "tasks:write"),
        fields=shared.fields,
    )
    await connectors.connections.update(shared.id, data, actor=builder)

    with pytest.raises(SharedGrantMissing) as missing:
        await connectors.credentials.request_auth(shared.id, Caller(alice_id, "alice@example.com"))

    assert missing.value.message == AGAIN
    connected = await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    assert connected.scopes == ("tasks:read", "tasks:write")
    assert (await whoami(connectors, shared, Caller(None)))["scope"] == "tasks:read tasks:write"


async def test_the_shared_grant_is_refreshed_before_expiry_and_after_a_refusal_for_any_caller(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    alice_id: UUID,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    await UserGrant.update({UserGrant.expires_at: datetime.now(UTC) + timedelta(seconds=5)}).where(
        UserGrant.id.is_not_null()
    )

    auth = await connectors.credentials.request_auth(shared.id, Caller(None))
    fake.expire_access_tokens()
    alice = Caller(alice_id, "alice@example.com")
    renewed = await connectors.credentials.after_refusal(shared.id, alice, auth)

    assert len(fake.requests_to("token", grant_type="refresh_token")) == 2
    assert renewed is not None
    assert renewed.headers["Authorization"] != auth.headers["Authorization"]
    assert renewed.headers["Authorization"].removeprefix("Bearer ") in fake.live_access_tokens()
    (grant,) = await UserGrant.select(UserGrant.user, UserGrant.refreshed_at)
    assert grant["user"] == builder.user_id
    assert grant["refreshed_at"] is not None


async def test_a_builder_disconnects_the_shared_account_and_the_app_revokes_it(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    shared: Connection,
    builder: Principal,
    other_builder: Principal,
    alice_id: UUID,
    services: IdentityServices,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    own = await fake_connection(connectors, fake, project, builder, name="Each user", mode=Mode.END_USER)
    await connect(connectors, alice_id, own.id)
    member = principal_of(await make_user(services, "dave@example.com"))

    with pytest.raises(PermissionDenied):
        await connectors.grants.disconnect_shared(shared.id, member)
    with pytest.raises(InvalidInput) as not_shared:
        await connectors.grants.disconnect_shared(own.id, other_builder)
    warning = await connectors.grants.disconnect_shared(shared.id, other_builder)

    assert warning == ""
    assert not_shared.value.message == (
        "Each user is connected by each end user; they disconnect under My connections."
    )
    revoked = {r.form["token_type_hint"] for r in fake.requests_to("revocation")}
    assert revoked == {"refresh_token", "access_token"}
    assert [row["user"] for row in await UserGrant.select(UserGrant.user)] == [alice_id]
    with pytest.raises(SharedGrantMissing):
        await connectors.credentials.request_auth(shared.id, Caller(None))


async def test_a_shared_grant_lacking_a_scope_names_it_for_a_builder_and_makes_no_link(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    alice_id: UUID,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")
    links = await ConnectLink.count()
    alice = Caller(alice_id, "alice@example.com")
    auth = await connectors.credentials.request_auth(shared.id, alice)

    with pytest.raises(SharedGrantMissing) as more:
        await connectors.credentials.after_refusal(shared.id, alice, auth, ("tasks:write",))

    assert more.value.message == (
        "Test App needs more access (tasks:write) than the shared connection Test App was granted: a builder "
        "adds it to the connection's scopes and connects it again."
    )
    assert await ConnectLink.count() == links


async def test_the_shared_account_is_not_anyones_own_to_disconnect(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    other_builder: Principal,
    alice_id: UUID,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")

    for user_id in (alice_id, other_builder.user_id, builder.user_id):
        with pytest.raises(NotFound) as refused:
            await connectors.grants.disconnect(user_id, shared.id)
        assert refused.value.message == "Test App is not connected by each user."

    assert [row["user"] for row in await UserGrant.select(UserGrant.user)] == [builder.user_id]
    assert fake.requests_to("revocation") == []
    assert (await whoami(connectors, shared, Caller(alice_id, "alice@example.com")))[
        "email"
    ] == "ops@example.com"


async def test_the_audit_names_the_builder_who_disconnected_the_shared_account(
    connectors: ConnectorServices,
    fake: FaultProvider,
    shared: Connection,
    builder: Principal,
    other_builder: Principal,
    services: IdentityServices,
) -> None:
    await connect_shared(connectors, fake, builder, shared.id, "ops@example.com")

    await connectors.grants.disconnect_shared(shared.id, other_builder)

    (event,) = await services.oauth.audit.recent(action="connection.disconnect")
    assert (event.actor, event.subject, event.outcome) == ("carol@example.com", "Test App", "ok")
    assert event.reason == "the grant of builder@example.com"


async def test_deleting_a_connection_revokes_every_grant_and_names_who_deleted_it_not_the_grants_owners(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    other_builder: Principal,
    alice_id: UUID,
    bob_id: UUID,
    services: IdentityServices,
) -> None:
    own = await fake_connection(connectors, fake, project, builder, name="Each user", mode=Mode.END_USER)
    await connect(connectors, alice_id, own.id)
    await connect(connectors, bob_id, own.id)

    await connectors.grants.disconnect_everyone(own.id, actor=other_builder)

    events = await services.oauth.audit.recent(action="connection.disconnect")
    assert sorted((event.actor, event.subject, event.reason) for event in events) == [
        (
            "carol@example.com",
            "Each user",
            "the connection was deleted; the grant of alice@example.com; account 'ops@example.com'",
        ),
        (
            "carol@example.com",
            "Each user",
            "the connection was deleted; the grant of bob@example.com; account 'ops@example.com'",
        ),
    ]
    assert await UserGrant.count() == 0
    assert len(fake.requests_to("revocation")) == 4


async def test_deleting_a_connection_never_audits_its_grants_owners_as_having_disconnected(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    alice_id: UUID,
    services: IdentityServices,
) -> None:
    own = await fake_connection(connectors, fake, project, builder, name="Each user", mode=Mode.END_USER)
    await connect(connectors, alice_id, own.id)

    await connectors.lifecycle.delete(own.id, actor=builder)

    (event,) = await services.oauth.audit.recent(action="connection.disconnect")
    assert event.actor != "alice@example.com"
    assert (
        event.reason
        == "the connection was deleted; the grant of alice@example.com; account 'ops@example.com'"
    )
    assert await UserGrant.count() == 0
