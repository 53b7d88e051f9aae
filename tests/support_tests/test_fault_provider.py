"""The fault-injecting provider answers like an OAuth server until told to misbehave."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.fault_provider import FaultProvider

CALLBACK = "http://client.test/callback"
VERIFIER = "a-pkce-verifier-of-forty-three-characters-or-more-0123"


@pytest.fixture(scope="module")
def running() -> Iterator[FaultProvider]:
    with FaultProvider(slow_seconds=5.0) as provider:
        yield provider


@pytest.fixture
def fake(running: FaultProvider) -> FaultProvider:
    running.heal()
    running.requests.clear()
    return running


def authorize(fake: FaultProvider) -> dict[str, str]:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": fake.client_id,
        "redirect_uri": CALLBACK,
        "state": "st",
        "scope": "tasks:read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = httpx.get(f"{fake.authorize_url}?{urlencode(query)}")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def exchange(
    fake: FaultProvider, code: str, *, verifier: str = VERIFIER, basic: bool = True
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    if basic:
        return httpx.post(fake.token_url, data=form, auth=(fake.client_id, fake.client_secret))
    credentials = {"client_id": fake.client_id, "client_secret": fake.client_secret}
    return httpx.post(fake.token_url, data={**form, **credentials})


def test_a_code_grant_gives_tokens_that_the_api_accepts(fake: FaultProvider) -> None:
    params = authorize(fake)
    assert params["state"] == "st"
    assert params["iss"] == fake.issuer

    tokens = exchange(fake, params["code"]).json()

    assert tokens["expires_in"] == fake.access_token_ttl
    assert tokens["scope"] == "tasks:read"
    me = httpx.get(fake.api_url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {"sub": "alice@example.com", "email": "alice@example.com", "scope": "tasks:read"}
    (token_request,) = fake.requests_to("token")
    assert token_request.form["code_verifier"] == VERIFIER
    assert token_request.client_auth == "client_secret_basic"


def test_a_wrong_verifier_is_invalid_grant(fake: FaultProvider) -> None:
    response = exchange(fake, authorize(fake)["code"], verifier="x" * 43)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}


def test_a_refresh_rotates_and_the_spent_token_is_refused(fake: FaultProvider) -> None:
    tokens = exchange(fake, authorize(fake)["code"]).json()
    auth = (fake.client_id, fake.client_secret)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}

    renewed = httpx.post(fake.token_url, data=form, auth=auth).json()
    again = httpx.post(fake.token_url, data=form, auth=auth)

    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert again.status_code == 400
    assert len(fake.requests_to("token", grant_type="refresh_token")) == 2


def test_a_fault_for_a_number_of_requests_then_heals(fake: FaultProvider) -> None:
    fake.fail("token", "status_503", times=1)
    code = authorize(fake)["code"]

    first = exchange(fake, code)
    second = exchange(fake, code)

    assert first.status_code == 503
    assert second.status_code == 200


def test_refuse_basic_accepts_only_client_secret_post(fake: FaultProvider) -> None:
    fake.fail("token", "refuse_basic")
    code = authorize(fake)["code"]

    refused = exchange(fake, code, basic=True)
    accepted = exchange(fake, code, basic=False)

    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert accepted.status_code == 200
    assert [request.client_auth for request in fake.requests_to("token")] == [
        "client_secret_basic",
        "client_secret_post",
    ]


def test_authorize_can_name_another_issuer(fake: FaultProvider) -> None:
    fake.fail("authorize", "wrong_iss")

    assert authorize(fake)["iss"] != fake.issuer


def test_a_timeout_outlasts_the_client_and_stopping_ends_it(fake: FaultProvider) -> None:
    fake.fail("userinfo", "timeout")

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(fake.userinfo_url, timeout=0.2)

    started = time.monotonic()
    with FaultProvider(slow_seconds=30) as other:
        other.fail("token", "timeout")
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(other.token_url, data={}, timeout=0.2)
    assert time.monotonic() - started < 5


def test_a_revoked_refresh_token_takes_its_access_tokens_along(fake: FaultProvider) -> None:
    tokens = exchange(fake, authorize(fake)["code"]).json()

    revoked = httpx.post(
        fake.revocation_url,
        data={"token": tokens["refresh_token"]},
        auth=(fake.client_id, fake.client_secret),
    )

    assert revoked.status_code == 200
    me = httpx.get(fake.api_url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401
    assert me.headers["www-authenticate"] == 'Bearer error="invalid_token"'
