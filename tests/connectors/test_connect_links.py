"""Connecting an end user's own account: the link, the authorization code grant, and what gets stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from switchboard.connectors.connections.errors import ConnectionRequired, LinkRefused, ProviderError
from switchboard.connectors.connections.models import Connection, ConnectionInput, GrantStatus, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import ConnectLink, UserGrant
from switchboard.identity.principal import Principal
from switchboard.identity.tables import AuditEvent
from tests.connectors.grant_support import (
    callback_params,
    connect,
    fake_connection,
    link_token,
    provider_definition,
)
from tests.support.connector_fixtures import allow_private
from tests.support.fault_provider import FaultProvider

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def connection(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> Connection:
    return await fake_connection(connectors, fake, project, builder)


async def _no_grants() -> bool:
    return await UserGrant.count() == 0


async def test_a_person_connects_their_account_once_and_the_tokens_are_stored_only_encrypted(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    connected = await connect(connectors, alice_id, connection.id)

    assert (connected.app_name, connected.account, connected.scopes) == (
        "Test App",
        "alice@example.com",
        ("tasks:read",),
    )
    (exchange,) = fake.requests_to("token", grant_type="authorization_code")
    assert exchange.form["redirect_uri"] == "http://testserver.local/connections/callback"
    assert len(exchange.form["code_verifier"]) >= 43
    assert exchange.client_auth == "client_secret_basic"
    token = await connectors.grants.access_token(alice_id, connection.id)
    assert token.access_token in fake.live_access_tokens()
    (refresh_token,) = fake.refresh_tokens
    raw = str(await UserGrant.select(UserGrant.tokens, UserGrant.account, UserGrant.scopes))
    assert token.access_token not in raw
    assert refresh_token not in raw
    assert "alice@example.com" in raw


async def test_the_authorization_request_uses_pkce_s256_a_fresh_state_and_the_scopes(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    first = await connectors.grants.connect_link(alice_id, connection.id)
    second = await connectors.grants.connect_link(alice_id, connection.id)

    urls = [await connectors.connect.open_link(link_token(link), alice_id) for link in (first, second)]

    assert first.startswith("http://testserver.local/connect/")
    assert first != second
    params = [dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&")) for url in urls]
    assert {p["code_challenge_method"] for p in params} == {"S256"}
    assert params[0]["state"] != params[1]["state"]
    assert params[0]["scope"] == "tasks%3Aread"
    assert params[0]["client_id"] == "switchboard-app"


async def test_another_signed_in_user_cannot_use_the_link_and_nothing_is_stored(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID, bob_id: UUID
) -> None:
    link = await connectors.grants.connect_link(alice_id, connection.id)

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.open_link(link_token(link), bob_id)

    assert refused.value.message == (
        "This connect link was made for another account. Sign in as the person who asked for it."
    )
    assert (await ConnectLink.select(ConnectLink.opened_at, ConnectLink.state_hash).first()) == {
        "opened_at": None,
        "state_hash": None,
    }
    assert await _no_grants()
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor)
    assert {"action": "connection.link", "outcome": "refused", "actor": "bob@example.com"} in events
    # The person it was made for can still use it.
    assert await connectors.connect.open_link(link_token(link), alice_id)


async def test_a_link_works_once(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    link = await connectors.grants.connect_link(alice_id, connection.id)
    await connectors.connect.open_link(link_token(link), alice_id)

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.open_link(link_token(link), alice_id)

    assert refused.value.message == "This connect link was already used. Ask your assistant for a new one."


async def test_a_link_expires_after_ten_minutes(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    link = await connectors.grants.connect_link(alice_id, connection.id)
    (row,) = await ConnectLink.select(ConnectLink.created_at, ConnectLink.expires_at)
    assert row["expires_at"] - row["created_at"] == timedelta(minutes=10)
    await ConnectLink.update({ConnectLink.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        ConnectLink.id.is_not_null()
    )

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.open_link(link_token(link), alice_id)

    assert refused.value.message.startswith("This connect link has expired (links last 10 minutes).")


async def test_an_unknown_link_is_refused(connectors: ConnectorServices, alice_id: UUID) -> None:
    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.open_link("not-a-real-link", alice_id)

    assert refused.value.message == "This connect link is not valid. Ask your assistant for a new one."


async def test_a_tampered_state_is_refused_and_stores_nothing(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    link = await connectors.grants.connect_link(alice_id, connection.id)
    params = await callback_params(await connectors.connect.open_link(link_token(link), alice_id))

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.finish({**params, "state": params["state"][:-2] + "xx"}, alice_id)
    with pytest.raises(LinkRefused):
        await connectors.connect.finish({**params, "state": ""}, alice_id)

    assert (
        refused.value.message == "This sign-in answer does not match a connection in progress; start again."
    )
    assert fake.requests_to("token") == []
    assert await _no_grants()


async def test_an_answer_from_another_issuer_is_refused_and_stores_nothing(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    fake.fail("authorize", "wrong_iss")
    link = await connectors.grants.connect_link(alice_id, connection.id)
    params = await callback_params(await connectors.connect.open_link(link_token(link), alice_id))

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.finish(params, alice_id)

    assert "not from Test App; nothing was stored." in refused.value.message
    assert fake.requests_to("token") == []
    assert await _no_grants()


async def test_an_app_that_sends_no_iss_is_still_accepted(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    fake.fail("authorize", "no_iss")

    connected = await connect(connectors, alice_id, connection.id)

    assert connected.account == "alice@example.com"


async def test_the_answer_is_used_once_and_only_by_the_person_who_started(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID, bob_id: UUID
) -> None:
    link = await connectors.grants.connect_link(alice_id, connection.id)
    params = await callback_params(await connectors.connect.open_link(link_token(link), alice_id))

    with pytest.raises(LinkRefused) as other:
        await connectors.connect.finish(params, bob_id)
    await connectors.connect.finish(params, alice_id)
    with pytest.raises(LinkRefused) as replay:
        await connectors.connect.finish(params, alice_id)

    assert other.value.message == "This connection was started by another account; sign in as that account."
    assert replay.value.message == "This sign-in answer was already used; start again."
    assert [row["user"] for row in await UserGrant.select(UserGrant.user)] == [alice_id]


async def test_a_person_who_refuses_at_the_app_is_told_and_nothing_is_stored(
    connectors: ConnectorServices, fake: FaultProvider, connection: Connection, alice_id: UUID
) -> None:
    fake.fail("authorize", "access_denied")
    link = await connectors.grants.connect_link(alice_id, connection.id)
    params = await callback_params(await connectors.connect.open_link(link_token(link), alice_id))

    with pytest.raises(LinkRefused) as refused:
        await connectors.connect.finish(params, alice_id)

    assert refused.value.message.startswith("Test App did not connect your account: ")
    assert await _no_grants()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("status_503", "Test App failed to issue tokens (HTTP 503); try again in a moment."),
        ("timeout", "Test App did not answer within 1 s at its token endpoint; try again in a moment."),
        (
            "no_access_token",
            "Test App's token endpoint answered without an access token; check the connector's token URL.",
        ),
    ],
)
async def test_a_failed_code_exchange_says_so_and_stores_nothing(
    connectors: ConnectorServices,
    fake: FaultProvider,
    connection: Connection,
    alice_id: UUID,
    fault: str,
    message: str,
) -> None:
    fake.fail("token", fault)  # type: ignore[arg-type]

    with pytest.raises(ProviderError) as failed:
        await connect(connectors, alice_id, connection.id)

    assert failed.value.message == message
    assert await _no_grants()


async def test_a_wrong_client_secret_is_named_as_the_problem(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal, alice_id: UUID
) -> None:
    connection = await fake_connection(connectors, fake, project, builder, client_secret="not-the-secret")

    with pytest.raises(ProviderError) as failed:
        await connect(connectors, alice_id, connection.id)

    assert failed.value.message.startswith(
        "Test App refused the connection's client ID or secret (invalid_client"
    )
    assert failed.value.message.endswith("check them in the connection.")
    assert [r.client_auth for r in fake.requests_to("token")] == ["client_secret_basic", "client_secret_post"]
    assert await _no_grants()


async def test_without_a_grant_the_caller_gets_a_connect_link_of_their_own(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID
) -> None:
    with pytest.raises(ConnectionRequired) as required:
        await connectors.grants.access_token(alice_id, connection.id)

    link = required.value.connect_url
    assert link.startswith("http://testserver.local/connect/")
    assert required.value.reason == "not_connected"
    assert link in required.value.message
    assert required.value.message.startswith("This tool needs your Test App account. Open http://")
    assert await connectors.connect.open_link(link_token(link), alice_id)


async def test_my_connections_shows_each_status(
    connectors: ConnectorServices, connection: Connection, alice_id: UUID, bob_id: UUID
) -> None:
    await connect(connectors, alice_id, connection.id)

    (alice_row,) = await connectors.accounts.for_user(alice_id)
    (bob_row,) = await connectors.accounts.for_user(bob_id)

    assert (alice_row.status, alice_row.account, alice_row.scopes, alice_row.app_name) == (
        GrantStatus.CONNECTED,
        "alice@example.com",
        ("tasks:read",),
        "Test App",
    )
    assert (bob_row.status, bob_row.account) == (GrantStatus.NOT_CONNECTED, "")
    (who,) = await connectors.accounts.of_connection(connection.id)
    assert (who.user_email, who.account) == ("alice@example.com", "alice@example.com")


async def test_the_providers_own_settings_shape_the_authorization_and_token_requests(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal, alice_id: UUID
) -> None:
    definition = provider_definition("settings-app", fake.issuer).replace(
        "    scopes: [",
        '    scope_separator: ","\n'
        "    extra_authorize_params: {access_type: offline, prompt: consent}\n"
        "    token_endpoint_auth_method: client_secret_post\n"
        "    send_resource: true\n"
        '    resource: "{host}/api"\n'
        "    scopes: [",
    )
    await connectors.registry.save(definition, actor=builder)
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Settings App",
            project_id=project.id,
            connector="settings-app",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            scopes=("tasks:read", "tasks:write"),
            fields={"host": fake.issuer},
        ),
        actor=builder,
    )
    connection = await allow_private(connectors, connection)

    link = await connectors.grants.connect_link(alice_id, connection.id)
    authorize_url = await connectors.connect.open_link(link_token(link), alice_id)
    await connectors.connect.finish(await callback_params(authorize_url), alice_id)

    (authorize,) = fake.requests_to("authorize")
    assert (authorize.query["scope"], authorize.query["access_type"], authorize.query["prompt"]) == (
        "tasks:read,tasks:write",
        "offline",
        "consent",
    )
    assert authorize.query["resource"] == f"{fake.issuer}/api"
    (exchange,) = fake.requests_to("token")
    assert (exchange.client_auth, exchange.form["resource"]) == ("client_secret_post", f"{fake.issuer}/api")
