"""The authorization endpoint: request checks, where errors go, sign-in, consent and its memory."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.identity.support import PASSWORD
from tests.support.oauth import REDIRECT_URI, RESOURCE, OAuthClient, decode_jwt, query_of
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

ISSUER = "http://testserver.local"


async def _get(browser: Browserless, pairs: list[tuple[str, str]]) -> httpx.Response:
    return await browser.client.get("/oauth/authorize", params=tuple(pairs), follow_redirects=False)


def _pairs(client_id: str, **params: str | None) -> list[tuple[str, str]]:
    query, _ = OAuthClient.authorization_params(client_id, **params)
    return list(query.items())


def _assert_error_page(response: httpx.Response, text: str) -> None:
    """Shown to the person; nothing is sent to the (untrusted) redirect URI."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert text in Page(response.text).text
    assert "code=" not in response.text


def _assert_redirected_error(response: httpx.Response, error: str, *, state: str) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    callback = query_of(location)
    assert callback["error"] == error, callback
    assert callback["state"] == state
    assert callback["iss"] == ISSUER
    assert "code" not in callback
    return callback


# PKCE ---------------------------------------------------------------------------------------------------


PKCE_MISTAKES: dict[str, dict[str, str | None]] = {
    "no challenge": {"code_challenge": None, "code_challenge_method": None},
    "no challenge with a method": {"code_challenge": None},
    "plain": {"code_challenge_method": "plain"},
    "no method": {"code_challenge_method": None},
    "short challenge": {"code_challenge": "too-short"},
    "bad characters": {"code_challenge": "x" * 43 + "!"},
}


async def test_pkce_s256_is_required(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    # One database for every case: each is refused before anything is stored.
    for case, pkce in PKCE_MISTAKES.items():
        attempt = await oauth.authorize(alice, public_client["client_id"], state=case, **pkce)
        callback = _assert_redirected_error(attempt.response, "invalid_request", state=case)
        assert "code_challenge" in callback["error_description"], case


# Client and redirect URI: errors shown, never redirected -------------------------------------------------


async def test_an_unknown_or_missing_client_is_shown_an_error_page(
    alice: Browserless, public_client: dict[str, Any]
) -> None:
    query = [pair for pair in _pairs(public_client["client_id"]) if pair[0] != "client_id"]
    _assert_error_page(await _get(alice, [*query, ("client_id", "sbc_nosuchclient")]), "not registered with")
    _assert_error_page(await _get(alice, query), "names no client")
    query = _pairs(public_client["client_id"])
    for name, value in (("client_id", public_client["client_id"]), ("redirect_uri", REDIRECT_URI)):
        _assert_error_page(await _get(alice, [*query, (name, value)]), "sent more than once")


UNREGISTERED_REDIRECTS = [
    "https://attacker.example/callback",
    "http://localhost:8765/callback",
    "http://127.0.0.1:8765/other",
    "http://127.0.0.1:8765/callback?extra=1",
]


async def test_an_unregistered_redirect_uri_is_shown_an_error_page(
    alice: Browserless, public_client: dict[str, Any]
) -> None:
    for redirect_uri in UNREGISTERED_REDIRECTS:
        # Even an invalid request (plain PKCE) must not send its error to an unverified URI.
        for extra in ({}, {"code_challenge_method": "plain"}):
            response = await _get(
                alice, _pairs(public_client["client_id"], redirect_uri=redirect_uri, **extra)
            )
            _assert_error_page(response, "The redirect URI is not registered for Public app")


async def test_a_redirect_uri_must_match_exactly_except_a_loopback_port(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    other_port = "http://127.0.0.1:50123/callback"  # RFC 8252 §7.3: native apps pick a free port
    attempt = await oauth.authorize(alice, public_client["client_id"], redirect_uri=other_port)
    assert attempt.location.startswith(other_port + "?code="), attempt.location
    answer = await oauth.exchange(attempt)
    assert answer.status_code == 200, answer.text

    registered = "https://app.example.com/oauth/callback"
    client = await oauth.registered(token_endpoint_auth_method="none", redirect_uris=[registered])
    for wrong in ("https://app.example.com:8443/oauth/callback", "https://app.example.com/oauth/callback/"):
        response = await _get(alice, _pairs(client["client_id"], redirect_uri=wrong))
        _assert_error_page(response, "The redirect URI is not registered")
    attempt = await oauth.authorize(alice, client["client_id"], redirect_uri=registered)
    assert attempt.location.startswith(registered + "?"), attempt.location
    assert "code" in attempt.callback


# Success: code, state, iss --------------------------------------------------------------------------------


async def test_success_returns_the_code_with_state_and_iss(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"], state="opaque/state value=1")
    assert attempt.response.status_code == 303
    callback = attempt.callback
    assert set(callback) == {"code", "state", "iss"}
    assert callback["state"] == "opaque/state value=1"
    assert callback["iss"] == ISSUER
    # Without state (and, with one registered URI, without redirect_uri): no state comes back.
    bare = await oauth.authorize(alice, public_client["client_id"], state=None, redirect_uri=None)
    assert bare.location.startswith(REDIRECT_URI + "?"), bare.location
    assert set(bare.callback) == {"code", "iss"}


async def test_a_request_without_scope_or_resource_is_valid(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"], scope=None, resource=None)
    _, claims = decode_jwt(tokens["access_token"])
    assert claims["aud"] == ISSUER
    assert claims["scope"] == "mcp:tools:* offline_access"
    assert tokens["scope"] == "mcp:tools:* offline_access"
    assert "refresh_token" in tokens
    # A client that registered a scope gets that scope by default, and no more when it asks.
    limited = await oauth.registered(token_endpoint_auth_method="none", scope="mcp:tools:echo offline_access")
    tokens = await oauth.tokens(alice, limited["client_id"], scope=None)
    assert tokens["scope"] == "mcp:tools:echo offline_access"
    wider = await oauth.authorize(alice, limited["client_id"], scope="mcp:tools:*", state="wider")
    _assert_redirected_error(wider.response, "invalid_scope", state="wider")


# Errors returned to the client ----------------------------------------------------------------------------


INVALID_REQUESTS: list[tuple[dict[str, str | None], str]] = [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"resource": "http://testserver.local/mcp/unknown"}, "invalid_target"),
    ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
    ({"scope": "admin"}, "invalid_scope"),
    ({"scope": "mcp:tools:echo mcp:tools:Bad"}, "invalid_scope"),
]


async def test_invalid_requests_are_answered_at_the_redirect_uri(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    for params, error in INVALID_REQUESTS:
        attempt = await oauth.authorize(alice, public_client["client_id"], state=error, **params)
        _assert_redirected_error(attempt.response, error, state=error)
    query = [
        *_pairs(public_client["client_id"], state="two"),
        ("resource", "http://testserver.local/mcp/other"),
    ]
    _assert_redirected_error(await _get(alice, query), "invalid_target", state="two")
    # RFC 6749 §3.1: no parameter may be sent twice.
    query = _pairs(public_client["client_id"], state="repeated", scope="mcp:tools:echo")
    for name in ("response_type", "code_challenge", "code_challenge_method", "scope", "state"):
        repeated = await _get(alice, [*query, (name, dict(query)[name])])
        callback = _assert_redirected_error(repeated, "invalid_request", state="repeated")
        assert name in callback["error_description"]


# Sign-in ------------------------------------------------------------------------------------------------


async def test_a_signed_out_person_signs_in_and_continues_to_the_consent_page(
    app: Any, public_client: dict[str, Any], alice: Browserless
) -> None:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 52001))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        browser = Browserless(http)
        query = _pairs(public_client["client_id"], state="s-5")
        response = await _get(browser, query)
        assert response.status_code == 303
        login = urlsplit(response.headers["location"])
        assert login.path == "/login"
        next_url = parse_qs(login.query)["next"][0]
        assert next_url.startswith("/oauth/authorize?")
        assert "code=" not in response.headers["location"]

        page = await http.get(f"/login?{login.query}")
        signed_in = await http.post(
            "/login",
            data={
                "_csrf_token": csrf_from(page.text),
                "email": "alice@example.com",
                "password": PASSWORD,
                "next": next_url,
            },
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == next_url
        consent = await http.get(next_url, follow_redirects=False)
        assert consent.status_code == 200
        assert "Allow Public app to use Switchboard as you?" in Page(consent.text).text


# Consent --------------------------------------------------------------------------------------------------


async def test_deny_returns_access_denied_with_state_and_iss(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"], decision="deny", state="s-6")
    _assert_redirected_error(attempt.response, "access_denied", state="s-6")
    # Nothing is remembered: the next request asks again.
    again = await oauth.authorize(alice, public_client["client_id"], decision=None)
    assert again.asks_consent


async def test_consent_is_remembered_per_person_and_resource_and_asked_again_when_scopes_grow(
    oauth: OAuthClient, alice: Browserless, boss: Browserless, public_client: dict[str, Any]
) -> None:
    client_id = public_client["client_id"]
    first = await oauth.authorize(alice, client_id, scope="mcp:tools:echo offline_access")
    assert "code" in first.callback
    for scope in ("mcp:tools:echo offline_access", "mcp:tools:echo"):
        again = await oauth.authorize(alice, client_id, decision=None, scope=scope)
        assert again.response.status_code == 303, scope
        assert "code" in again.callback, scope
        assert (await oauth.exchange(again)).json()["scope"] == scope
    grown = await oauth.authorize(alice, client_id, decision=None, scope="mcp:tools:*")
    assert grown.asks_consent
    assert "mcp:tools:*" in Page(grown.response.text).text
    for browser, resource in ((alice, None), (boss, RESOURCE)):
        other = await oauth.authorize(
            browser, client_id, decision=None, resource=resource, scope="mcp:tools:echo"
        )
        assert other.asks_consent


async def test_the_consent_form_needs_its_csrf_token(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    page = await oauth.authorize(alice, public_client["client_id"], decision=None)
    query = urlsplit(str(page.response.request.url)).query
    del alice.client.headers["x-csrftoken"]  # a forged form carries no token at all
    for token in ({}, {"_csrf_token": "made-up"}):
        forged = await alice.client.post(
            "/oauth/authorize", data={"request": query, "decision": "allow", **token}, follow_redirects=False
        )
        assert forged.status_code == 403, token
        assert "location" not in forged.headers
    # Nothing was allowed: the next request still asks.
    again = await oauth.authorize(alice, public_client["client_id"], decision=None)
    assert again.asks_consent


async def test_the_consent_page_names_the_client_redirect_host_resource_and_scopes(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(
        alice, public_client["client_id"], decision=None, scope="mcp:tools:echo offline_access"
    )
    assert attempt.response.status_code == 200
    # Not frameable (clickjacking).
    assert attempt.response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in attempt.response.headers["content-security-policy"]
    page = Page(attempt.response.text)
    assert page.all("h1")[0].text == "Allow Public app to use Switchboard as you?"
    assert "Public app was registered dynamically" in page.text
    assert "You will be sent back to 127.0.0.1:8765" in page.text
    assert "on your own computer (loopback)" in page.text
    assert f"Server Test server {RESOURCE}" in page.text
    assert "mcp:tools:echo — use the tool echo" in page.text
    assert "offline_access — stay signed in when you are away" in page.text
    assert [button.text for button in page.all("button")][-2:] == ["Allow", "Deny"]

    # An https redirect gets no loopback warning; names are shown as text, never as markup.
    client = await oauth.registered(
        client_name="<script>alert(1)</script>",
        token_endpoint_auth_method="none",
        redirect_uris=["https://app.example.com/cb"],
    )
    attempt = await oauth.authorize(
        alice, client["client_id"], decision=None, redirect_uri="https://app.example.com/cb"
    )
    assert attempt.response.status_code == 200
    page = Page(attempt.response.text)
    assert "You will be sent back to app.example.com" in page.text
    assert "loopback" not in page.text
    assert "<script>alert(1)</script>" not in attempt.response.text
    assert "Allow <script>alert(1)</script> to use Switchboard as you?" in page.text
