"""Per-person API keys and logins: an end user's connection whose app has no OAuth, each person entering
their own key once. Stored sealed, applied to that person's calls only, audited without the secret."""

from __future__ import annotations

import base64

import pytest

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired, LinkRefused
from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import InvalidInput, NotFound
from tests.connectors.conftest import principal_of
from tests.connectors.grant_support import link_token
from tests.connectors.personal_support import key_definition, personal_connection
from tests.identity.support import make_user

pytestmark = pytest.mark.both_engines

KEY = "alice-secret-key-0123456789"


async def test_each_person_enters_their_own_key_kept_sealed_and_used_for_their_calls_only(
    connectors: ConnectorServices, services: IdentityServices
) -> None:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    bob = await make_user(services, "bob@example.com")
    project = await connectors.projects.ensure("Sales tools")
    connection = await personal_connection(connectors, project, builder, "http://127.0.0.1:9")

    # Without a key, the call answers with Alice's own connect link.
    with pytest.raises(ConnectionRequired) as asked:
        await connectors.credentials.request_auth(connection.id, Caller(alice.id))
    assert asked.value.connect_url.startswith("http://testserver.local/connect/")
    assert "Open http://testserver.local/connect/" in asked.value.message
    assert "API key" in asked.value.message

    await connectors.connect.personal.save(alice.id, connection.id, secret=KEY)
    rows = await UserGrant.select()
    assert len(rows) == 1
    assert KEY not in str(rows)
    auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id))
    assert auth.headers == {"X-API-Key": KEY}

    # Bob gets his own link, never Alice's key; he cannot remove hers.
    with pytest.raises(ConnectionRequired):
        await connectors.credentials.request_auth(connection.id, Caller(bob.id))
    with pytest.raises(NotFound):
        await connectors.connect.personal.remove(bob.id, connection.id)
    with pytest.raises(InvalidInput):
        await connectors.connect.personal.save(bob.id, connection.id, secret="  ")

    await connectors.connect.personal.save(alice.id, connection.id, secret="replaced-key")
    auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id))
    assert auth.headers == {"X-API-Key": "replaced-key"}
    await connectors.connect.personal.remove(alice.id, connection.id)
    assert await UserGrant.select() == []

    records = await services.oauth.audit.search(limit=1000)
    mine = [(r.action, r.actor) for r in records if r.action.startswith("connection.credential")]
    assert sorted(mine) == sorted(
        [
            ("connection.credential.set", "alice@example.com"),
            ("connection.credential.replace", "alice@example.com"),
            ("connection.credential.remove", "alice@example.com"),
        ]
    )
    assert KEY not in str(records)
    assert "replaced-key" not in str(records)


async def test_a_person_enters_a_user_name_and_password_for_a_basic_login(
    connectors: ConnectorServices, services: IdentityServices
) -> None:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    project = await connectors.projects.ensure("Sales tools")
    connection = await personal_connection(
        connectors, project, builder, "http://127.0.0.1:9", key="login-app", auth="{type: basic}"
    )
    with pytest.raises(InvalidInput, match="user name"):
        await connectors.connect.personal.save(alice.id, connection.id, secret="pw")
    await connectors.connect.personal.save(alice.id, connection.id, secret="s3cret", username="alice")
    assert "s3cret" not in str(await UserGrant.select())
    auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id))
    assert auth.headers == {"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()}
    (row,) = await connectors.accounts.of_connection(connection.id)
    assert (row.user_email, row.account, row.status.value) == ("alice@example.com", "alice", "connected")


async def test_an_auth_type_no_person_can_enter_is_refused_for_an_end_users_connection(
    connectors: ConnectorServices, services: IdentityServices
) -> None:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    project = await connectors.projects.ensure("Sales tools")
    await connectors.registry.save(key_definition("token-app", "{type: bearer}"), actor=builder.email)
    data = ConnectionInput(
        name="Token App",
        project_id=project.id,
        connector="token-app",
        mode=Mode.END_USER,
        fields={"host": "http://127.0.0.1:9"},
    )
    with pytest.raises(InvalidInput, match="only a shared connection can use") as refused:
        await connectors.connections.create(data, actor=builder)
    assert refused.value.field == "mode"


async def test_a_key_link_keeps_one_entry_and_the_app_sign_in_route_is_refused(
    connectors: ConnectorServices, services: IdentityServices
) -> None:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    project = await connectors.projects.ensure("Sales tools")
    connection = await personal_connection(connectors, project, builder, "http://127.0.0.1:9")
    url = await connectors.grants.connect_link(alice.id, connection.id)

    # A key with a line break would break every call's header; the refusal leaves the link usable.
    with pytest.raises(InvalidInput) as broken:
        await connectors.connect.enter_with_link(link_token(url), alice.id, secret="first\r\nX-Evil: 1")
    assert broken.value.message == "This holds a line break or control character; paste it again."
    await connectors.connect.enter_with_link(link_token(url), alice.id, secret="first-key")
    # The same form sent again (or twice at once) stores nothing more.
    with pytest.raises(LinkRefused):
        await connectors.connect.enter_with_link(link_token(url), alice.id, secret="second-key")
    auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id))
    assert auth.headers == {"X-API-Key": "first-key"}

    # Such a connection has no app sign-in: its link cannot be spent on one.
    again = await connectors.grants.connect_link(alice.id, connection.id)
    with pytest.raises(LinkRefused, match="takes your own key or login"):
        await connectors.connect.open_link(link_token(again), alice.id)


async def test_a_user_name_longer_than_an_account_name_is_refused(
    connectors: ConnectorServices, services: IdentityServices
) -> None:
    builder = principal_of(await make_user(services, "builder@example.com", Role.BUILDER))
    alice = await make_user(services, "alice@example.com")
    project = await connectors.projects.ensure("Sales tools")
    connection = await personal_connection(
        connectors, project, builder, "http://127.0.0.1:9", auth="{type: basic}", key="basic-app"
    )
    with pytest.raises(InvalidInput, match="at most 254 characters"):
        await connectors.connect.personal.save(alice.id, connection.id, secret="pw", username="a" * 255)
    assert await UserGrant.select() == []
