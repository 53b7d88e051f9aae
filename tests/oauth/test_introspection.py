"""Token introspection (RFC 7662): confidential clients see their own tokens; resource-server
credentials see every token; anything else is ``{"active": false}``."""

from __future__ import annotations

import time
from typing import Any

import httpx

from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, error_of
from tests.support.web import Browserless

INACTIVE = {"active": False}


def _auth(client: dict[str, Any]) -> tuple[str, str]:
    return client["client_id"], client["client_secret"]


async def _introspected(oauth: OAuthClient, token: str, auth: tuple[str, str]) -> dict[str, Any]:
    answer = await oauth.introspect(token, auth=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    result: dict[str, Any] = answer.json()
    return result


async def test_introspection_needs_a_confidential_clients_authentication(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    confidential_client: dict[str, Any],
    client: httpx.AsyncClient,
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    anonymous = await client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert error_of(anonymous) == (401, "invalid_client")
    public = await client.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": public_client["client_id"]}
    )
    assert error_of(public) == (401, "invalid_client")
    wrong = await oauth.introspect(tokens["access_token"], auth=(confidential_client["client_id"], "wrong"))
    assert error_of(wrong) == (401, "invalid_client")


async def test_a_client_introspects_its_own_tokens(
    oauth: OAuthClient, alice: Browserless, confidential_client: dict[str, Any]
) -> None:
    auth = _auth(confidential_client)
    tokens = await oauth.tokens(alice, auth[0], secret=auth[1])
    _, claims = decode_jwt(tokens["access_token"])
    assert await _introspected(oauth, tokens["access_token"], auth) == {
        "active": True,
        "token_type": "Bearer",
        "scope": "mcp:tools:* offline_access",
        "client_id": auth[0],
        "sub": claims["sub"],
        "aud": RESOURCE,
        "iss": "http://testserver.local",
        "exp": claims["exp"],
        "jti": claims["jti"],
    }
    refresh = await _introspected(oauth, tokens["refresh_token"], auth)
    assert refresh["active"] is True
    assert refresh["token_type"] == "refresh_token"
    assert refresh["client_id"] == auth[0]
    assert refresh["sub"] == claims["sub"]
    assert refresh["aud"] == RESOURCE
    assert refresh["exp"] > time.time() + 29 * 86400


async def test_another_clients_tokens_are_inactive_except_to_resource_server_credentials(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    confidential_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert await _introspected(oauth, token, _auth(confidential_client)) == INACTIVE

    server = await oauth_server.clients.create_static(
        StaticClientCreate(name="MCP gateway", grant_types=["client_credentials"], may_introspect_any=True),
        actor=SETUP,
    )
    assert server.client_secret is not None
    auth = (server.client.client_id, server.client_secret)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = await _introspected(oauth, token, auth)
        assert answer["active"] is True
        assert answer["client_id"] == public_client["client_id"]


async def test_revoked_expired_used_and_garbage_tokens_are_inactive(
    oauth: OAuthClient,
    alice: Browserless,
    confidential_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    auth = _auth(confidential_client)
    tokens = await oauth.tokens(alice, auth[0], secret=auth[1])
    _, claims = decode_jwt(tokens["access_token"])
    long_ago = int(time.time()) - 7200
    expired = await oauth_server.keys.sign({**claims, "iat": long_ago, "exp": long_ago + 3600, "jti": "old"})
    refreshed = (await oauth.refresh(tokens["refresh_token"], auth[0], secret=auth[1])).json()
    for token in (expired, tokens["refresh_token"], "garbage", "a.b.c", tokens["access_token"] + "x"):
        assert await _introspected(oauth, token, auth) == INACTIVE, token[:20]

    assert (await _introspected(oauth, refreshed["access_token"], auth))["active"] is True
    assert (await oauth.revoke(refreshed["refresh_token"], auth[0], secret=auth[1])).status_code == 200
    for token in (refreshed["access_token"], refreshed["refresh_token"], tokens["access_token"]):
        assert await _introspected(oauth, token, auth) == INACTIVE
