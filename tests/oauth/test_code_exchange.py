"""Authorization codes: stored as hashes, single-use, short-lived, bound to client, redirect URI and PKCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthCode
from switchboard.platform.core.settings import Settings, SettingsError
from switchboard.platform.core.tokens import token_hash
from tests.support.oauth import OAuthClient, error_of, pkce_pair, verifies
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines

CODE_LIFETIME = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, authorization_code_lifetime_seconds=CODE_LIFETIME)


async def test_a_code_is_stored_as_a_hash_lives_the_configured_time_and_then_expires(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    code = attempt.callback["code"]
    rows = await OAuthCode.select(OAuthCode.code_hash, OAuthCode.created_at, OAuthCode.expires_at)
    assert [row["code_hash"] for row in rows] == [token_hash(code)]
    assert rows[0]["expires_at"] - rows[0]["created_at"] == timedelta(seconds=CODE_LIFETIME)

    await OAuthCode.update({OAuthCode.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        OAuthCode.code_hash == token_hash(code)
    )
    answer = await oauth.exchange(attempt)
    assert error_of(answer) == (400, "invalid_grant")
    assert answer.json()["error_description"] == "The authorization code has expired."


@pytest.mark.parametrize("seconds", [601, 3600, 9, 0])
def test_settings_refuse_a_code_lifetime_over_ten_minutes(seconds: int) -> None:
    assert Settings().authorization_code_lifetime_seconds == 600
    assert Settings(authorization_code_lifetime_seconds=10).authorization_code_lifetime_seconds == 10
    with pytest.raises(SettingsError, match="SWITCHBOARD_AUTHORIZATION_CODE_LIFETIME_SECONDS"):
        Settings(authorization_code_lifetime_seconds=seconds)


async def test_a_replayed_code_is_refused_and_revokes_what_it_produced(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    first = await oauth.exchange(attempt)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert await verifies(oauth_server, tokens["access_token"])

    replay = await oauth.exchange(attempt)
    assert error_of(replay) == (400, "invalid_grant")
    assert "already used" in replay.json()["error_description"]
    assert not await verifies(oauth_server, tokens["access_token"])
    refreshed = await oauth.refresh(tokens["refresh_token"], public_client["client_id"])
    assert error_of(refreshed) == (400, "invalid_grant")


BINDINGS: dict[str, tuple[dict[str, str], str, str]] = {
    "another path": (
        {"redirect_uri": "http://127.0.0.1:8765/other"},
        "invalid_grant",
        "redirect_uri does not",
    ),
    "another port": (
        {"redirect_uri": "http://127.0.0.1:9999/callback"},
        "invalid_grant",
        "redirect_uri does not",
    ),
    "no redirect_uri": ({"redirect_uri": ""}, "invalid_grant", "redirect_uri does not match"),
    "another verifier": ({"code_verifier": pkce_pair()[0]}, "invalid_grant", "(PKCE)"),
    "no verifier": ({"code_verifier": ""}, "invalid_grant", "(PKCE)"),
    "malformed verifier": ({"code_verifier": "short"}, "invalid_grant", "(PKCE)"),
    "another resource": (
        {"resource": "http://testserver.local/mcp/other"},
        "invalid_target",
        "resource differs",
    ),
}


async def test_a_code_is_bound_to_its_client_redirect_uri_pkce_verifier_and_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    other = await oauth.registered(client_name="Other app", token_endpoint_auth_method="none")
    attempt = await oauth.authorize(alice, public_client["client_id"])
    stolen = await oauth.exchange(attempt, client_id=other["client_id"])
    assert error_of(stolen) == (400, "invalid_grant")
    assert "another client" in stolen.json()["error_description"]
    for case, (change, error, description) in BINDINGS.items():
        attempt = await oauth.authorize(alice, public_client["client_id"])  # consent remembered: a new code
        answer = await oauth.exchange(attempt, **change)
        assert error_of(answer) == (400, error), case
        assert description in answer.json()["error_description"], case


async def test_a_refused_exchange_leaves_the_code_to_its_client(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    wrong = await oauth.exchange(attempt, code_verifier=pkce_pair()[0])
    assert error_of(wrong) == (400, "invalid_grant")
    right = await oauth.exchange(attempt)
    assert right.status_code == 200, right.text
    replay = await oauth.exchange(attempt)
    assert error_of(replay) == (400, "invalid_grant")
