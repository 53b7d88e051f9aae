"""End users' connections against a real third-party authorization server nobody here wrote:
oidc-provider (Node), with its own sign-in and consent pages, refresh token rotation and revocation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import httpx
import pytest

from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.connections.models import Connection, ConnectionInput, GrantStatus, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.tables import UserGrant
from switchboard.identity.principal import Principal
from tests.connectors.grant_support import link_token
from tests.support.connector_fixtures import allow_private
from tests.support.oidc_provider import (
    OidcClient,
    OidcProvider,
    authorize_without_browser_async,
    require_oidc_provider,
)

CALLBACK = "http://testserver.local/connections/callback"
CLIENT = OidcClient(
    client_id="switchboard", client_secret="oidc-secret-for-switchboard", redirect_uris=(CALLBACK,)
)

DEFINITION = """
key: oidc-app
name: OIDC App
base_url: "{issuer}"
auth:
  type: oauth2_authorization_code
  provider:
    authorize_url: "{authorize}"
    token_url: "{token}"
    revocation_url: "{revocation}"
    userinfo_url: "{userinfo}"
    issuer: "{issuer}"
    scopes:
      - {{name: openid}}
      - {{name: email}}
      - {{name: "tasks:read", description: Read tasks}}
"""


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    require_oidc_provider()
    with OidcProvider([CLIENT], access_token_ttl=3600) as provider:
        yield provider


@pytest.fixture
async def connection(
    connectors: ConnectorServices, oidc: OidcProvider, project: Project, builder: Principal
) -> Connection:
    definition = DEFINITION.format(
        issuer=oidc.issuer,
        authorize=oidc.authorize_url,
        token=oidc.token_url,
        revocation=oidc.revocation_url,
        userinfo=oidc.userinfo_url,
    )
    await connectors.registry.save(definition, actor=builder.email)
    oidc.reset_stats()
    created = await connectors.connections.create(
        ConnectionInput(
            name="OIDC App",
            project_id=project.id,
            connector="oidc-app",
            mode=Mode.END_USER,
            client_id=CLIENT.client_id,
            client_secret=CLIENT.client_secret,
            scopes=("openid", "email", "tasks:read"),
        ),
        actor=builder,
    )
    return await allow_private(connectors, created)


async def _connect(connectors: ConnectorServices, user_id: UUID, connection_id: UUID, login: str) -> str:
    link = await connectors.grants.connect_link(user_id, connection_id)
    authorize_url = await connectors.connect.open_link(link_token(link), user_id)
    callback = await authorize_without_browser_async(authorize_url, login)
    params = dict(parse_qsl(urlsplit(callback).query))
    return (await connectors.connect.finish(params, user_id)).account


async def test_a_person_connects_at_a_real_provider_and_the_account_is_named(
    connectors: ConnectorServices, oidc: OidcProvider, connection: Connection, alice_id: UUID
) -> None:
    account = await _connect(connectors, alice_id, connection.id, "alice.tasks@example.org")

    assert account == "alice.tasks@example.org"
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert (mine.status, mine.app_name) == (GrantStatus.CONNECTED, "OIDC App")
    assert set(mine.scopes) == {"openid", "email", "tasks:read"}
    assert oidc.stats().token == {"authorization_code": 1}
    (request,) = oidc.stats().token_requests
    assert (request.status, request.client_auth) == (200, "client_secret_basic")


async def test_twenty_callers_with_an_expiring_token_cause_exactly_one_refresh_at_the_provider(
    connectors: ConnectorServices, oidc: OidcProvider, connection: Connection, alice_id: UUID
) -> None:
    await _connect(connectors, alice_id, connection.id, "alice.refresh@example.org")
    await UserGrant.update({UserGrant.expires_at: datetime.now(UTC) + timedelta(seconds=1)}).where(
        UserGrant.id.is_not_null()
    )

    tokens = await asyncio.gather(
        *[connectors.grants.access_token(alice_id, connection.id) for _ in range(20)]
    )

    stats = oidc.stats()
    # oidc-provider revokes the whole grant when a spent refresh token comes back, so a second refresh
    # would have broken the connection: exactly one refresh request arrived and it succeeded.
    assert stats.token.get("refresh_token") == 1
    assert stats.token_errors == {}
    assert len({token.access_token for token in tokens}) == 1
    assert await connectors.grants.access_token(alice_id, connection.id) == tokens[0]


async def test_a_grant_withdrawn_at_the_provider_needs_reconnecting_and_reconnecting_works(
    connectors: ConnectorServices, oidc: OidcProvider, connection: Connection, alice_id: UUID
) -> None:
    await _connect(connectors, alice_id, connection.id, "alice.withdrawn@example.org")
    oidc.revoke_all_grants()
    await UserGrant.update({UserGrant.expires_at: datetime.now(UTC)}).where(UserGrant.id.is_not_null())

    with pytest.raises(ConnectionRequired) as required:
        await connectors.grants.access_token(alice_id, connection.id)

    assert required.value.reason == "needs_reconnect"
    (mine,) = await connectors.accounts.for_user(alice_id)
    assert mine.status is GrantStatus.NEEDS_RECONNECT
    await _connect(connectors, alice_id, connection.id, "alice.withdrawn@example.org")
    assert (await connectors.accounts.for_user(alice_id))[0].status is GrantStatus.CONNECTED


async def test_disconnect_revokes_the_tokens_at_the_provider(
    connectors: ConnectorServices, oidc: OidcProvider, connection: Connection, alice_id: UUID
) -> None:
    await _connect(connectors, alice_id, connection.id, "alice.leaving@example.org")
    token = await connectors.grants.access_token(alice_id, connection.id)

    assert await connectors.grants.disconnect(alice_id, connection.id) == ""

    assert oidc.stats().revocations == 2
    userinfo = await _userinfo(oidc, token.access_token)
    assert userinfo == 401
    assert await UserGrant.count() == 0


async def _userinfo(oidc: OidcProvider, access_token: str) -> int:
    async with httpx.AsyncClient() as http:
        response = await http.get(oidc.userinfo_url, headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code
