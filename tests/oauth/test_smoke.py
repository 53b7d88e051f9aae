from __future__ import annotations

from tests.support.oauth import OAuthClient, decode_jwt
from tests.support.web import Browserless


async def test_public_client_gets_tokens_after_consent(
    oauth: OAuthClient, alice: Browserless, open_policy: None
) -> None:
    client = await oauth.registered(token_endpoint_auth_method="none")
    attempt = await oauth.authorize(alice, client["client_id"])
    assert attempt.response.status_code == 303, attempt.response.text
    assert attempt.callback["iss"] == "http://testserver.local"
    answer = await oauth.exchange(attempt)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    header, claims = decode_jwt(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == "http://testserver.local/mcp/test"
    refreshed = await oauth.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
        }
    )
    assert refreshed.status_code == 200, refreshed.text
