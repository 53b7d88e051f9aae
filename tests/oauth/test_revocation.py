"""Token revocation (RFC 7009): by the client the token was issued to, effective at once."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.oauth import OAuthClient, error_of, verifies
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def test_revoking_a_refresh_token_ends_the_grant(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    other = await oauth.tokens(alice, client_id)
    assert (await oauth.revoke(tokens["refresh_token"], client_id)).status_code == 200
    assert error_of(await oauth.refresh(tokens["refresh_token"], client_id)) == (400, "invalid_grant")
    assert not await verifies(oauth_server, tokens["access_token"])
    # Only that grant.
    assert await verifies(oauth_server, other["access_token"])
    assert (await oauth.refresh(other["refresh_token"], client_id)).status_code == 200


async def test_revoking_an_access_token_makes_the_verifier_refuse_it(
    oauth: OAuthClient,
    alice: Browserless,
    confidential_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    client_id, secret = confidential_client["client_id"], confidential_client["client_secret"]
    tokens = await oauth.tokens(alice, client_id, secret=secret)
    other = await oauth.tokens(alice, client_id, secret=secret)
    assert await verifies(oauth_server, tokens["access_token"])
    answer = await oauth.http.post(
        "/oauth/revoke", data={"token": tokens["access_token"]}, auth=(client_id, secret)
    )
    assert answer.status_code == 200, answer.text
    assert not await verifies(oauth_server, tokens["access_token"])
    assert await verifies(oauth_server, other["access_token"])


async def test_another_clients_tokens_are_not_revoked(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    confidential_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = await oauth.revoke(
            token, confidential_client["client_id"], secret=confidential_client["client_secret"]
        )
        assert answer.status_code == 200  # RFC 7009: nothing to tell the caller
    assert await verifies(oauth_server, tokens["access_token"])
    assert (await oauth.refresh(tokens["refresh_token"], public_client["client_id"])).status_code == 200


async def test_revocation_needs_client_authentication_and_answers_200_for_any_token(
    oauth: OAuthClient,
    alice: Browserless,
    confidential_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    client_id, secret = confidential_client["client_id"], confidential_client["client_secret"]
    tokens = await oauth.tokens(alice, client_id, secret=secret)
    anonymous = await oauth.http.post("/oauth/revoke", data={"token": tokens["refresh_token"]})
    assert error_of(anonymous) == (401, "invalid_client")
    no_secret = await oauth.revoke(tokens["refresh_token"], client_id)
    assert error_of(no_secret) == (401, "invalid_client")
    wrong = await oauth.revoke(tokens["refresh_token"], client_id, secret=secret + "x")
    assert error_of(wrong) == (401, "invalid_client")
    assert await verifies(oauth_server, tokens["access_token"])
    no_token = await oauth.http.post("/oauth/revoke", data={}, auth=(client_id, secret))
    assert error_of(no_token) == (400, "invalid_request")
    # An authenticated client is answered 200 for any token, known or not (RFC 7009 §2.2).
    for token in ("sbr_unknown", "not-even-a-token", "a.b.c"):
        answer = await oauth.revoke(token, client_id, secret=secret)
        assert answer.status_code == 200, answer.text
        assert answer.content == b""
        assert answer.headers["cache-control"] == "no-store"
