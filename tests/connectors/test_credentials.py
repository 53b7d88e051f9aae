"""What a connection adds to a call: shared credentials, client credentials tokens, token exchange."""

from __future__ import annotations

import base64
from uuid import UUID

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.models import ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.platform.core.errors import InvalidInput
from tests.support.connector_fixtures import allow_private
from tests.support.fault_provider import TOKEN_EXCHANGE, FaultProvider


def _definition(key: str, auth_type: str, issuer: str, extra: str = "") -> str:
    return f"""
key: {key}
name: Machine App
base_url: "{{host}}"
fields: [{{key: host, label: Host, kind: url}}]
auth:
  type: {auth_type}
  provider:
    token_url: "{{host}}/token"
    issuer: "{issuer}"
{extra}
"""


async def _connection(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    *,
    auth_type: str,
    mode: Mode,
    extra: str = "",
) -> UUID:
    await connectors.registry.save(
        _definition("machine-app", auth_type, fake.issuer, extra), actor=builder.email
    )
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Machine App",
            project_id=project.id,
            connector="machine-app",
            mode=mode,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            scopes=("tasks:read",),
            fields={"host": fake.issuer},
        ),
        actor=builder,
    )
    return (await allow_private(connectors, connection)).id


async def test_a_client_credentials_connection_gets_a_token_once_and_reuses_it(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> None:
    connection_id = await _connection(
        connectors, fake, project, builder, auth_type="oauth2_client_credentials", mode=Mode.SHARED
    )

    first = await connectors.credentials.request_auth(connection_id, Caller(None))
    second = await connectors.credentials.request_auth(connection_id, Caller(None))

    (request,) = fake.requests_to("token", grant_type="client_credentials")
    assert request.form["scope"] == "tasks:read"
    assert first == second
    token = first.headers["Authorization"].removeprefix("Bearer ")
    assert token in fake.live_access_tokens()


async def test_a_client_credentials_connection_steps_up_to_the_scopes_a_server_asks_for(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> None:
    connection_id = await _connection(
        connectors, fake, project, builder, auth_type="oauth2_client_credentials", mode=Mode.SHARED
    )
    first = await connectors.credentials.request_auth(connection_id, Caller(None))

    stepped = await connectors.credentials.after_refusal(connection_id, Caller(None), first, ("tasks:write",))
    later = await connectors.credentials.request_auth(connection_id, Caller(None))
    edited = await connectors.connections.get(connection_id)
    renamed = ConnectionInput(
        name="Machine App (renamed)",
        project_id=edited.project_id,
        connector=edited.connector,
        mode=edited.mode,
        client_id=edited.client_id,
        scopes=edited.scopes,
        fields=edited.fields,
    )
    await connectors.lifecycle.update(connection_id, renamed, actor=builder)  # the secret kept as it was
    after_edit = await connectors.credentials.request_auth(connection_id, Caller(None))

    asked = [r.form["scope"] for r in fake.requests_to("token", grant_type="client_credentials")]
    assert asked == ["tasks:read", "tasks:read tasks:write", "tasks:read"]
    assert stepped is not None
    assert stepped != first
    assert later == stepped
    assert after_edit not in (first, stepped)


async def test_a_static_token_cannot_step_up(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    connection = await connectors.connections.create(
        ConnectionInput(
            name="Orders",
            project_id=project.id,
            connector="http",
            mode=Mode.SHARED,
            auth_type="bearer",
            token="static-token",
            fields={"base_url": "https://orders.example.com"},
        ),
        actor=builder,
    )
    auth = await connectors.credentials.request_auth(connection.id, Caller(None))

    assert (
        await connectors.credentials.after_refusal(connection.id, Caller(None), auth, ("orders:write",))
        is None
    )


async def test_a_client_credentials_fault_is_reported_with_the_app_name(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> None:
    connection_id = await _connection(
        connectors, fake, project, builder, auth_type="oauth2_client_credentials", mode=Mode.SHARED
    )
    fake.fail("token", "status_500")

    with pytest.raises(ProviderError) as failed:
        await connectors.credentials.request_auth(connection_id, Caller(None))

    assert failed.value.message == "Machine App failed to issue tokens (HTTP 500); try again in a moment."


async def test_token_exchange_trades_the_callers_switchboard_identity_without_a_connect_step(
    connectors: ConnectorServices,
    client: httpx.AsyncClient,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    alice_id: UUID,
) -> None:
    connection_id = await _connection(
        connectors,
        fake,
        project,
        builder,
        auth_type="oauth2_token_exchange",
        mode=Mode.END_USER,
        extra="  audience: https://machine.example.com",
    )

    auth = await connectors.credentials.request_auth(connection_id, Caller(alice_id, "alice@example.com"))

    (request,) = fake.requests_to("token", grant_type=TOKEN_EXCHANGE)
    assert request.form["audience"] == "https://machine.example.com"
    assert request.form["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    subject = jwt.decode(request.form["subject_token"], keys)
    assert subject.header["typ"] == "JWT"
    assert (subject.claims["iss"], subject.claims["sub"], subject.claims["aud"], subject.claims["email"]) == (
        "http://testserver.local",
        str(alice_id),
        "https://machine.example.com",
        "alice@example.com",
    )
    assert subject.claims["exp"] - subject.claims["iat"] == 300
    assert auth.headers["Authorization"].removeprefix("Bearer ") in fake.live_access_tokens()


async def test_shared_api_key_and_basic_credentials_go_where_the_connection_says(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    key_connection = await connectors.connections.create(
        ConnectionInput(
            name="Key",
            project_id=project.id,
            connector="http",
            mode=Mode.SHARED,
            auth_type="api_key",
            api_key="k-1",
            fields={"base_url": "https://api.example.com"},
        ),
        actor=builder,
    )
    basic_connection = await connectors.connections.create(
        ConnectionInput(
            name="Basic",
            project_id=project.id,
            connector="http",
            mode=Mode.SHARED,
            auth_type="basic",
            username="robot",
            password="p:ss",
            fields={"base_url": "https://api.example.com"},
        ),
        actor=builder,
    )

    key_auth = await connectors.credentials.request_auth(key_connection.id, Caller(None))
    basic_auth = await connectors.credentials.request_auth(basic_connection.id, Caller(None))

    assert key_auth.headers == {"X-API-Key": "k-1"}
    assert basic_auth.headers == {"Authorization": "Basic " + base64.b64encode(b"robot:p:ss").decode()}


async def test_an_end_user_connection_needs_an_oauth_grant_type(
    connectors: ConnectorServices, project: Project, builder: Principal
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await connectors.connections.create(
            ConnectionInput(
                name="Key",
                project_id=project.id,
                connector="http",
                mode=Mode.END_USER,
                auth_type="api_key",
                api_key="k",
            ),
            actor=builder,
        )

    assert refused.value.field == "mode"
    assert refused.value.message.startswith(
        "An end user's connection needs an OAuth 2.0 authorization code grant"
    )
