"""The hourly sweep removes what can no longer be used, and nothing that still can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.identity.oauth.housekeeping import sweep
from switchboard.identity.oauth.revocation_list import Revoked
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthClient, OAuthCode, OAuthRefreshToken, Revocation
from tests.support.oauth import OAuthClient as Client
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def test_sweep_clears_expired_and_unused_things_and_keeps_live_ones(
    oauth: Client, alice: Browserless, oauth_server: AuthorizationServer, open_policy: None
) -> None:
    used = await oauth.registered(client_name="Used", token_endpoint_auth_method="none")
    attempt = await oauth.authorize(alice, used["client_id"])
    tokens = (await oauth.exchange(attempt)).json()
    unused = await oauth.registered(client_name="Never used", token_endpoint_auth_method="none")
    long_ago = datetime.now(UTC) - timedelta(days=3)
    await OAuthClient.update({OAuthClient.created_at: long_ago}).where(
        OAuthClient.client_id.is_in([used["client_id"], unused["client_id"]])
    )
    await OAuthCode.update({OAuthCode.expires_at: long_ago}).where(OAuthCode.id.is_not_null())
    await oauth_server.revocations.revoke(Revoked.TOKEN, "expired-jti")
    await oauth_server.revocations.revoke(Revoked.TOKEN, "live-jti")
    await Revocation.update({Revocation.expires_at: long_ago}).where(Revocation.value == "expired-jti")

    swept = await sweep(oauth_server)

    assert (swept.clients, swept.codes, swept.revocations) == (1, 1, 1)
    assert await oauth_server.clients.find(unused["client_id"]) is None
    assert await oauth_server.clients.find(used["client_id"]) is not None
    assert await Revocation.select(Revocation.value).output(as_list=True) == ["live-jti"]
    # The refresh token has not expired: it still works.
    assert await OAuthRefreshToken.count() == 1
    refreshed = await oauth.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": used["client_id"],
        }
    )
    assert refreshed.status_code == 200


async def test_sweep_removes_expired_refresh_tokens(
    oauth: Client, alice: Browserless, oauth_server: AuthorizationServer, open_policy: None
) -> None:
    client = await oauth.registered(token_endpoint_auth_method="none")
    await oauth.exchange(await oauth.authorize(alice, client["client_id"]))
    await OAuthRefreshToken.update(
        {OAuthRefreshToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(OAuthRefreshToken.id.is_not_null())
    assert (await sweep(oauth_server)).refresh_tokens == 1
    assert await OAuthRefreshToken.count() == 0
