"""Deleting a client ends its tokens and codes at once; a regenerated secret leaves tokens valid."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.identity.oauth.models import ClientWithSecret, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthCode, OAuthGrant, OAuthRefreshToken, User
from tests.support.actors import SETUP
from tests.support.oauth import REDIRECT_URI, RESOURCE, OAuthClient, error_of, verifies
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def test_deleting_a_client_revokes_its_tokens_and_codes_at_once(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    client_id = public_client["client_id"]
    other = await oauth.registered(client_name="Other", token_endpoint_auth_method="none")
    tokens = await oauth.tokens(alice, client_id)
    kept = await oauth.tokens(alice, other["client_id"])
    pending_code = await oauth.authorize(alice, client_id)
    assert "code" in pending_code.callback

    await oauth_server.clients.delete(client_id, actor=SETUP)

    assert not await verifies(oauth_server, tokens["access_token"])
    assert error_of(await oauth.refresh(tokens["refresh_token"], client_id)) == (401, "invalid_client")
    assert error_of(await oauth.exchange(pending_code)) == (401, "invalid_client")
    assert await OAuthCode.count() == 1  # the other client's, already used
    assert await OAuthRefreshToken.count() == 1  # the other client's
    assert await OAuthGrant.count() == 1  # the other client's
    assert await verifies(oauth_server, kept["access_token"])
    # The client is gone: its authorization requests are shown an error page.
    gone = await oauth.authorize(alice, client_id)
    assert gone.response.status_code == 400
    assert "location" not in gone.response.headers


async def test_deleting_a_service_client_removes_its_service_account(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    assert service_client.client_secret is not None
    credentials = (service_client.client.client_id, service_client.client_secret)
    token = (await oauth.client_credentials(*credentials, resource=RESOURCE)).json()["access_token"]
    await oauth_server.clients.delete(service_client.client.client_id, actor=SETUP)
    assert not await verifies(oauth_server, token)
    assert error_of(await oauth.client_credentials(*credentials)) == (401, "invalid_client")
    assert await User.count().where(User.id == service_client.client.service_account_id) == 0


async def test_a_regenerated_secret_replaces_the_old_one_and_keeps_issued_tokens(
    oauth: OAuthClient, alice: Browserless, oauth_server: AuthorizationServer
) -> None:
    created = await oauth_server.clients.create_static(
        StaticClientCreate(name="Team app", redirect_uris=[REDIRECT_URI]), actor=SETUP
    )
    client_id, old_secret = created.client.client_id, created.client_secret
    assert old_secret is not None
    tokens = await oauth.tokens(alice, client_id, secret=old_secret)

    new_secret = await oauth_server.clients.regenerate_secret(client_id, actor=SETUP)
    assert new_secret != old_secret

    assert await verifies(oauth_server, tokens["access_token"])
    refused = await oauth.refresh(tokens["refresh_token"], client_id, secret=old_secret)
    assert error_of(refused) == (401, "invalid_client")
    refreshed = await oauth.refresh(tokens["refresh_token"], client_id, secret=new_secret)
    assert refreshed.status_code == 200, refreshed.text
