"""The token endpoint: JWT access tokens (RFC 9068), their verification, and RFC 6749 error answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import SigningKey
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, verifies
from tests.support.web import Browserless

ISSUER = "http://testserver.local"


def _assert_no_store(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.status_code
    assert response.headers["pragma"] == "no-cache"


def _assert_rfc6749_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert body["error_description"]
    _assert_no_store(response)


async def test_an_access_token_is_an_rfc_9068_jwt(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], services: IdentityServices
) -> None:
    before = int(time.time())
    answer = await oauth.exchange(await oauth.authorize(alice, public_client["client_id"]))
    assert answer.status_code == 200, answer.text
    _assert_no_store(answer)
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    header, claims = decode_jwt(tokens["access_token"])
    assert header == {"typ": "at+jwt", "alg": "ES256", "kid": header["kid"]}
    assert header["kid"]
    alice_user = await services.users.find_by_email("alice@example.com")
    assert alice_user is not None
    assert claims["iss"] == ISSUER
    assert claims["sub"] == str(alice_user.id)
    assert claims["aud"] == RESOURCE
    assert claims["client_id"] == public_client["client_id"]
    assert claims["scope"] == tokens["scope"] == "mcp:tools:* offline_access"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 3600
    # Every token has its own jti (revocation of one token relies on it).
    again = await oauth.tokens(alice, public_client["client_id"])
    refreshed = (await oauth.refresh(tokens["refresh_token"], public_client["client_id"])).json()
    jtis = {decode_jwt(token["access_token"])[1]["jti"] for token in (tokens, again, refreshed)}
    assert len(jtis) == 3
    assert all(jtis)


@pytest.mark.parametrize("settings", [{"access_token_lifetime_minutes": 5}], indirect=True, ids=["5 minutes"])
async def test_the_access_token_lifetime_is_configurable(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    _, claims = decode_jwt(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == 300
    assert tokens["expires_in"] == 300


async def test_a_token_verifies_only_for_its_audience(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    access = await oauth_server.verifier.verify(tokens["access_token"], audience=RESOURCE)
    assert access.client_id == public_client["client_id"]
    assert access.scopes == ("mcp:tools:*", "offline_access")
    for audience in ("http://testserver.local/mcp/other", ISSUER, RESOURCE + "/"):
        assert not await verifies(oauth_server, tokens["access_token"], audience), audience
    assert not await verifies(oauth_server, tokens["access_token"] + "x")
    assert not await verifies(oauth_server, "not-a-jwt")


async def test_rotated_keys_keep_verifying_the_tokens_they_signed(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
    client: httpx.AsyncClient,
) -> None:
    old = await oauth.tokens(alice, public_client["client_id"])
    new_kid = await oauth_server.keys.rotate()
    new = await oauth.tokens(alice, public_client["client_id"])
    assert decode_jwt(new["access_token"])[0]["kid"] == new_kid != decode_jwt(old["access_token"])[0]["kid"]
    published = {key["kid"] for key in (await client.get("/oauth/jwks")).json()["keys"]}
    assert published == {new_kid, decode_jwt(old["access_token"])[0]["kid"]}
    assert await verifies(oauth_server, old["access_token"])
    assert await verifies(oauth_server, new["access_token"])


async def test_a_retired_key_is_dropped_once_every_token_it_signed_has_expired(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
    client: httpx.AsyncClient,
) -> None:
    old = await oauth.tokens(alice, public_client["client_id"])
    old_kid = decode_jwt(old["access_token"])[0]["kid"]
    await oauth_server.keys.rotate()
    # Retired longer ago than an access token lives (one hour by default).
    await SigningKey.update({SigningKey.retired_at: datetime.now(UTC) - timedelta(hours=2)}).where(
        SigningKey.kid == old_kid
    )
    await oauth_server.keys.reload()
    published = {key["kid"] for key in (await client.get("/oauth/jwks")).json()["keys"]}
    assert old_kid not in published
    assert len(published) == 1
    assert not await verifies(oauth_server, old["access_token"])


# Errors ---------------------------------------------------------------------------------------------------


async def test_token_errors_are_rfc_6749_json_and_never_cached(
    oauth: OAuthClient,
    public_client: dict[str, Any],
    confidential_client: dict[str, Any],
    client: httpx.AsyncClient,
) -> None:
    client_id = public_client["client_id"]
    unknown_code = await oauth.token(
        {"grant_type": "authorization_code", "code": "sbo_x", "client_id": client_id}
    )
    _assert_rfc6749_error(unknown_code, 400, "invalid_grant")
    no_code = await oauth.token({"grant_type": "authorization_code", "client_id": client_id})
    _assert_rfc6749_error(no_code, 400, "invalid_request")
    password = await oauth.token(
        {"grant_type": "password", "username": "a", "password": "b", "client_id": client_id}
    )
    _assert_rfc6749_error(password, 400, "unsupported_grant_type")
    no_grant = await oauth.token({"client_id": client_id})
    _assert_rfc6749_error(no_grant, 400, "invalid_request")
    twice = await client.post(
        "/oauth/token",
        content=f"grant_type=refresh_token&grant_type=x&client_id={client_id}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _assert_rfc6749_error(twice, 400, "invalid_request")
    as_json = await client.post(
        "/oauth/token", json={"grant_type": "client_credentials", "client_id": client_id}
    )
    _assert_rfc6749_error(as_json, 400, "invalid_request")

    # invalid_client is a 401, with a Basic challenge when the client tried HTTP Basic (RFC 6749 §5.2).
    client_id = confidential_client["client_id"]
    grant = {"grant_type": "authorization_code", "code": "sbo_x", "redirect_uri": "x", "code_verifier": "x"}
    basic = await oauth.token(grant, auth=(client_id, "wrong-secret"))
    _assert_rfc6749_error(basic, 401, "invalid_client")
    assert basic.headers["www-authenticate"] == 'Basic realm="switchboard"'
    posted = await oauth.token({**grant, "client_id": client_id, "client_secret": "wrong-secret"})
    _assert_rfc6749_error(posted, 401, "invalid_client")
    assert "www-authenticate" not in posted.headers
    unknown = await oauth.token({**grant, "client_id": "sbc_unknown"})
    _assert_rfc6749_error(unknown, 401, "invalid_client")
    nobody = await oauth.token(grant)
    _assert_rfc6749_error(nobody, 401, "invalid_client")


async def test_a_client_may_use_only_its_grant_types(
    oauth: OAuthClient, oauth_server: AuthorizationServer, public_client: dict[str, Any], open_policy: None
) -> None:
    code_only = await oauth.registered(token_endpoint_auth_method="none", grant_types=["authorization_code"])
    refresh = await oauth.refresh("sbr_anything", code_only["client_id"])
    _assert_rfc6749_error(refresh, 400, "unauthorized_client")
    credentials = await oauth.token(
        {"grant_type": "client_credentials", "client_id": public_client["client_id"]}
    )
    _assert_rfc6749_error(credentials, 400, "unauthorized_client")
    machine = await oauth_server.clients.create_static(
        StaticClientCreate(name="Machine", grant_types=["client_credentials"]), actor=SETUP
    )
    assert machine.client_secret is not None
    code = await oauth.token(
        {"grant_type": "authorization_code", "code": "sbo_x", "redirect_uri": "x", "code_verifier": "x"},
        auth=(machine.client.client_id, machine.client_secret),
    )
    _assert_rfc6749_error(code, 400, "unauthorized_client")
