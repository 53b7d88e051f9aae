"""Client authentication at the token endpoint (RFC 6749 §2.3): one method per request, as registered."""

from __future__ import annotations

from typing import Any

from tests.support.oauth import OAuthClient, error_of
from tests.support.web import Browserless


async def test_a_confidential_client_may_use_basic_or_post(
    oauth: OAuthClient, alice: Browserless, confidential_client: dict[str, Any]
) -> None:
    client_id, secret = confidential_client["client_id"], confidential_client["client_secret"]
    assert confidential_client["token_endpoint_auth_method"] == "client_secret_basic"
    posted = await oauth.exchange(await oauth.authorize(alice, client_id), secret=secret)
    assert posted.status_code == 200, posted.text
    attempt = await oauth.authorize(alice, client_id)
    basic = await oauth.token(
        {
            "grant_type": "authorization_code",
            "code": attempt.callback["code"],
            "redirect_uri": attempt.params["redirect_uri"],
            "code_verifier": attempt.verifier,
        },
        auth=(client_id, secret),
    )
    assert basic.status_code == 200, basic.text


async def test_each_client_authenticates_as_registered(
    oauth: OAuthClient, alice: Browserless, confidential_client: dict[str, Any], public_client: dict[str, Any]
) -> None:
    confidential = await oauth.authorize(alice, confidential_client["client_id"])
    for secret in (None, ""):
        answer = await oauth.exchange(confidential, secret=secret)
        assert error_of(answer) == (401, "invalid_client"), secret
        assert answer.json()["error_description"] == "This client must authenticate with its client secret."

    public = await oauth.authorize(alice, public_client["client_id"])
    posted = await oauth.exchange(public, secret="made-up")
    assert error_of(posted) == (401, "invalid_client")
    basic = await oauth.token(
        {"grant_type": "authorization_code", "code": public.callback["code"]},
        auth=(public_client["client_id"], "made-up"),
    )
    assert error_of(basic) == (401, "invalid_client")
    assert basic.headers["www-authenticate"] == 'Basic realm="switchboard"'

    # The refused requests did not use the codes up.
    answer = await oauth.exchange(confidential, secret=confidential_client["client_secret"])
    assert answer.status_code == 200, answer.text
    assert (await oauth.exchange(public)).status_code == 200


async def test_doubled_or_malformed_credentials_are_refused(
    oauth: OAuthClient, confidential_client: dict[str, Any]
) -> None:
    client_id, secret = confidential_client["client_id"], confidential_client["client_secret"]
    grant = {"grant_type": "refresh_token", "refresh_token": "sbr_x"}
    both = await oauth.token(
        {**grant, "client_id": client_id, "client_secret": secret}, auth=(client_id, secret)
    )
    assert error_of(both) == (400, "invalid_request")
    assert both.json()["error_description"] == "Use one client authentication method per request."
    other_id = await oauth.token({**grant, "client_id": "sbc_someone_else"}, auth=(client_id, secret))
    assert error_of(other_id) == (400, "invalid_request")
    for header in ("Basic ////", "Basic not-base64!", "Basic " + "OnNlY3JldA=="):  # the last is ":secret"
        answer = await oauth.http.post("/oauth/token", data=grant, headers={"Authorization": header})
        assert error_of(answer) == (401, "invalid_client"), header
        assert answer.headers["www-authenticate"] == 'Basic realm="switchboard"'
