"""The oidc-provider test server behaves as the connection tests assume (see tests/support/oidc_provider.py).

These drive it the way Switchboard will: a code grant with PKCE S256 through its sign-in and consent
pages, the code exchanged at the token endpoint, then refresh, userinfo and revocation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import require_component
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT_MS
from tests.support.oidc_provider import (
    OidcClient,
    OidcProvider,
    TokenRequest,
    authorize_without_browser,
    cancel_at_provider,
    sign_in_and_consent,
)
from tests.support_tests.conftest import ACCESS_TOKEN_TTL, BASIC_CLIENT, CALLBACK, POST_CLIENT, TASKS_API


def callback_params(url: str, callback: str = CALLBACK) -> dict[str, str]:
    assert url.startswith(callback + "?"), url
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def post(url: str, client: OidcClient, form: dict[str, str]) -> httpx.Response:
    """A request to the token or revocation endpoint, authenticated as ``client`` is registered."""
    if client.token_endpoint_auth_method == "client_secret_basic":
        return httpx.post(url, data=form, auth=(client.client_id, client.client_secret), timeout=5)
    credentials = {"client_id": client.client_id, "client_secret": client.client_secret}
    return httpx.post(url, data={**form, **credentials}, timeout=5)


def connect(
    provider: OidcProvider, client: OidcClient = BASIC_CLIENT, *, login: str = "alice", **extra: str
) -> dict[str, object]:
    """Authorize as ``login`` and redeem the code: the token response."""
    url, verifier = provider.authorization_request(client, scope="openid email profile", **extra)
    params = callback_params(authorize_without_browser(url, login))
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        **extra,
    }
    response = post(provider.token_url, client, form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def refresh(
    provider: OidcProvider, refresh_token: object, client: OidcClient = BASIC_CLIENT
) -> httpx.Response:
    return post(
        provider.token_url, client, {"grant_type": "refresh_token", "refresh_token": str(refresh_token)}
    )


def userinfo(provider: OidcProvider, access_token: object) -> httpx.Response:
    return httpx.get(provider.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=5)


def test_discovery_names_the_endpoints_and_promises_iss_and_s256_only(provider: OidcProvider) -> None:
    metadata = provider.metadata
    assert metadata["issuer"] == provider.issuer
    assert provider.issuer.startswith("http://127.0.0.1:")
    assert provider.authorize_url == f"{provider.issuer}/auth"
    assert provider.token_url == f"{provider.issuer}/token"
    assert provider.revocation_url == f"{provider.issuer}/token/revocation"
    assert provider.userinfo_url == f"{provider.issuer}/me"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )


def test_a_code_grant_with_pkce_gives_access_and_refresh_tokens(provider: OidcProvider) -> None:
    url, verifier = provider.authorization_request(BASIC_CLIENT, scope="openid email tasks:read", state="s-1")

    params = callback_params(authorize_without_browser(url, "alice"))

    assert params["state"] == "s-1"
    assert params["iss"] == provider.issuer
    response = post(
        provider.token_url,
        BASIC_CLIENT,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["access_token"]
    assert tokens["refresh_token"]
    assert tokens["expires_in"] == ACCESS_TOKEN_TTL
    assert tokens["scope"] == "openid email tasks:read"
    assert provider.stats().token == {"authorization_code": 1}


def test_a_code_redeemed_with_the_wrong_verifier_is_refused(provider: OidcProvider) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT)
    params = callback_params(authorize_without_browser(url, "alice"))

    response = post(
        provider.token_url,
        BASIC_CLIENT,
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": "a-verifier-that-is-long-enough-but-not-the-one-0123456789",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert provider.stats().token_errors == {"authorization_code": 1}


def test_an_authorization_request_without_s256_is_refused(provider: OidcProvider) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT)

    params = callback_params(authorize_without_browser(url.replace("=S256", "=plain"), "alice"))

    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_refusing_consent_sends_access_denied(provider: OidcProvider) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT, state="s-2")

    params = callback_params(authorize_without_browser(url, "alice", approve=False))

    assert params["error"] == "access_denied"
    assert params["state"] == "s-2"
    assert params["iss"] == provider.issuer


def test_userinfo_names_the_account(provider: OidcProvider) -> None:
    by_name = connect(provider, login="bob")
    by_email = connect(provider, login="carol@corp.example")

    assert userinfo(provider, by_name["access_token"]).json() == {
        "sub": "bob",
        "email": "bob@example.com",
        "email_verified": True,
        "name": "bob",
    }
    assert userinfo(provider, by_email["access_token"]).json()["email"] == "carol@corp.example"
    assert provider.stats().userinfo == 2


def test_userinfo_refuses_a_token_without_openid(provider: OidcProvider) -> None:
    url, verifier = provider.authorization_request(BASIC_CLIENT, scope="tasks:read")
    params = callback_params(authorize_without_browser(url, "alice"))
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK}
    tokens = post(provider.token_url, BASIC_CLIENT, {**form, "code_verifier": verifier}).json()

    response = userinfo(provider, tokens["access_token"])

    assert tokens["scope"] == "tasks:read"
    assert tokens["refresh_token"]
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_a_refresh_rotates_the_refresh_token_and_is_counted_once(provider: OidcProvider) -> None:
    tokens = connect(provider)
    provider.reset_stats()

    response = refresh(provider, tokens["refresh_token"])

    assert response.status_code == 200, response.text
    renewed = response.json()
    assert renewed["access_token"] != tokens["access_token"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert userinfo(provider, renewed["access_token"]).status_code == 200
    stats = provider.stats()
    assert stats.token == {"refresh_token": 1}
    assert stats.token_requests == [TokenRequest("refresh_token", 200, "client_secret_basic", None, None)]


def test_reusing_a_spent_refresh_token_is_refused_and_ends_the_grant(provider: OidcProvider) -> None:
    tokens = connect(provider)
    renewed = refresh(provider, tokens["refresh_token"]).json()

    replay = refresh(provider, tokens["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refresh(provider, renewed["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(provider, renewed["access_token"]).status_code == 401


def test_revoking_the_refresh_token_is_counted_and_ends_the_grant(provider: OidcProvider) -> None:
    tokens = connect(provider)

    response = post(
        provider.revocation_url,
        BASIC_CLIENT,
        {"token": str(tokens["refresh_token"]), "token_type_hint": "refresh_token"},
    )

    assert response.status_code == 200
    assert provider.stats().revocations == 1
    assert refresh(provider, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert userinfo(provider, tokens["access_token"]).status_code == 401


def test_withdrawn_grants_can_no_longer_be_refreshed(provider: OidcProvider) -> None:
    tokens = connect(provider)

    assert provider.revoke_all_grants() >= 1

    response = refresh(provider, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_client_registered_for_client_secret_post_is_served(provider: OidcProvider) -> None:
    tokens = connect(provider, POST_CLIENT)

    assert tokens["refresh_token"]
    assert refresh(provider, tokens["refresh_token"], POST_CLIENT).status_code == 200
    assert [request.client_auth for request in provider.stats().token_requests] == ["client_secret_post"] * 2


def test_either_client_authentication_method_is_accepted_whatever_the_registration(
    provider: OidcProvider,
) -> None:
    basic_as_post = OidcClient(
        client_id=BASIC_CLIENT.client_id,
        client_secret=BASIC_CLIENT.client_secret,
        redirect_uris=(CALLBACK,),
        token_endpoint_auth_method="client_secret_post",
    )
    tokens = connect(provider)

    assert refresh(provider, tokens["refresh_token"], basic_as_post).status_code == 200


def test_a_wrong_client_secret_is_refused(provider: OidcProvider) -> None:
    tokens = connect(provider)
    wrong = OidcClient(
        client_id=BASIC_CLIENT.client_id, client_secret="not-the-secret", redirect_uris=(CALLBACK,)
    )

    response = refresh(provider, tokens["refresh_token"], wrong)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_resource_indicator_gets_a_token_for_that_resource(provider: OidcProvider) -> None:
    url, verifier = provider.authorization_request(BASIC_CLIENT, scope="tasks:read", resource=TASKS_API)
    params = callback_params(authorize_without_browser(url, "alice"))
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK}

    response = post(
        provider.token_url, BASIC_CLIENT, {**form, "code_verifier": verifier, "resource": TASKS_API}
    )

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "tasks:read"
    assert provider.stats().token_requests[0].resource == TASKS_API


def test_an_unknown_resource_indicator_is_refused(provider: OidcProvider) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT, resource="https://elsewhere.example/")

    params = callback_params(authorize_without_browser(url, "alice"))

    assert params["error"] == "invalid_target"


def test_an_access_token_stops_working_when_it_expires(provider: OidcProvider) -> None:
    tokens = connect(provider)
    assert userinfo(provider, tokens["access_token"]).status_code == 200

    time.sleep(ACCESS_TOKEN_TTL + 0.1)

    assert userinfo(provider, tokens["access_token"]).status_code == 401


# --- the built-in pages in a real browser --------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        require_component("Chromium", f"{CHROMIUM} is not installed (`make system-deps` installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile: nobody signed in at the provider."""
    context = browser.new_context()
    context.set_default_timeout(STEP_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_person_signs_in_and_consents_in_the_browser(
    provider: OidcProvider, page: Page, browser_callback: str
) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT, state="s-3", redirect_uri=browser_callback)
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign-in")).to_be_visible()

    sign_in_and_consent(page, "dora@example.com")

    params = callback_params(page.url, browser_callback)
    assert params["code"]
    assert params["state"] == "s-3"
    assert params["iss"] == provider.issuer
    expect(page.get_by_role("heading", name="Back at the client")).to_be_visible()


def test_a_person_who_cancels_in_the_browser_sends_access_denied(
    provider: OidcProvider, page: Page, browser_callback: str
) -> None:
    url, _ = provider.authorization_request(BASIC_CLIENT, redirect_uri=browser_callback)
    page.goto(url)

    cancel_at_provider(page)

    assert callback_params(page.url, browser_callback)["error"] == "access_denied"
