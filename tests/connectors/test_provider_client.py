"""Answers of third-party token endpoints that the fault provider does not make: injected with httpx's
MockTransport (fault injection only; the grant flows run against real servers elsewhere)."""

from __future__ import annotations

import httpx
import pytest

from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.provider import ClientCredentials, Endpoints, ProviderClient

ENDPOINTS = Endpoints(app_name="GitHub", token_url="https://github.example.com/login/oauth/access_token")
CLIENT = ClientCredentials("client-1", "secret-1")


async def test_a_refusal_sent_with_http_200_is_reported_as_the_apps_refusal() -> None:
    def github(request: httpx.Request) -> httpx.Response:
        body = {
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
        }
        return httpx.Response(200, json=body)

    provider = ProviderClient(transport=httpx.MockTransport(github))
    with pytest.raises(ProviderError) as refused:
        await provider.exchange_code(
            ENDPOINTS, CLIENT, code="old", redirect_uri="https://sb/cb", verifier="v"
        )
    await provider.aclose()

    assert refused.value.message == (
        "GitHub refused to issue tokens (bad_verification_code: The code passed is incorrect or expired.)."
    )


async def test_a_form_encoded_answer_with_comma_separated_scopes_is_understood() -> None:
    def github(request: httpx.Request) -> httpx.Response:
        body = "access_token=gho_abc&scope=repo%2Cread%3Auser&token_type=bearer"
        return httpx.Response(200, text=body, headers={"content-type": "application/x-www-form-urlencoded"})

    provider = ProviderClient(transport=httpx.MockTransport(github))
    tokens = await provider.exchange_code(
        ENDPOINTS, CLIENT, code="c", redirect_uri="https://sb/cb", verifier="v"
    )
    await provider.aclose()

    assert (tokens.access_token, tokens.scope, tokens.expires_at, tokens.refresh_token) == (
        "gho_abc",
        "repo read:user",
        None,
        None,
    )


async def test_cookies_an_app_sets_are_never_sent_with_another_request() -> None:
    seen: list[str | None] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(
            200, json={"access_token": "t", "expires_in": 60}, headers={"set-cookie": "session=alice; Path=/"}
        )

    provider = ProviderClient(transport=httpx.MockTransport(app))
    for _ in range(2):
        await provider.refresh(ENDPOINTS, CLIENT, "refresh")
    await provider.aclose()

    assert seen == [None, None]
