"""The ``prompt`` parameter MCP clients send (the MCP SDK adds ``prompt=consent`` with offline_access)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.oauth import OAuthClient
from tests.support.web import Browserless


async def test_prompt_consent_asks_again_though_consent_was_remembered(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    first = await oauth.authorize(alice, public_client["client_id"])
    assert "code" in first.callback
    remembered = await oauth.authorize(alice, public_client["client_id"], decision=None)
    assert "code" in remembered.callback
    asked = await oauth.authorize(alice, public_client["client_id"], decision=None, prompt="consent")
    assert asked.response.status_code == 200
    assert 'value="allow"' in asked.response.text


async def test_prompt_none_never_shows_a_page(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    first_time = await oauth.authorize(alice, public_client["client_id"], decision=None, prompt="none")
    assert first_time.response.status_code == 303
    assert first_time.callback["error"] == "consent_required"
    assert first_time.callback["iss"] == "http://testserver.local"
    await oauth.authorize(alice, public_client["client_id"])
    silent = await oauth.authorize(alice, public_client["client_id"], decision=None, prompt="none")
    assert "code" in silent.callback


async def test_prompt_none_without_a_session_answers_login_required(
    oauth: OAuthClient, public_client: dict[str, Any], client: httpx.AsyncClient
) -> None:
    signed_out = Browserless(client)
    attempt = await oauth.authorize(signed_out, public_client["client_id"], decision=None, prompt="none")
    assert attempt.response.status_code == 303
    assert attempt.callback["error"] == "login_required"
    assert attempt.callback["state"] == attempt.params["state"]


async def test_unknown_or_contradictory_prompts_are_refused(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    for prompt in ("sometimes", "none consent"):
        attempt = await oauth.authorize(alice, public_client["client_id"], decision=None, prompt=prompt)
        assert attempt.callback["error"] == "invalid_request", prompt
        assert "code" not in attempt.callback


async def test_a_consent_form_without_allow_is_a_refusal(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"], decision="maybe")
    assert attempt.callback["error"] == "access_denied"
    assert "code" not in attempt.callback


async def test_a_request_without_response_type_is_an_invalid_request(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"], decision=None, response_type=None)
    assert attempt.callback["error"] == "invalid_request"
