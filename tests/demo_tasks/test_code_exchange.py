"""The token endpoint's authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6) and client
authentication (RFC 6749 §2.3.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from switchboard.platform.demo_tasks.clients import ClientRegistry, DemoClient
from switchboard.platform.demo_tasks.tables import AuthorizationCode
from tests.demo_tasks.support import REDIRECT_URI, Authorized, DemoTasksBrowser, basic, pkce_pair

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def authorized(browser: DemoTasksBrowser, oauth_client: DemoClient) -> Authorized:
    await browser.sign_in("alice@example.com")
    return await browser.authorized(oauth_client)


def _exchange_form(authorized: Authorized, **changes: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": authorized.code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": authorized.verifier,
        **changes,
    }


def _assert_oauth_error(response: httpx.Response, status: int, error: str, description: str) -> None:
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}
    assert response.headers["cache-control"] == "no-store"


async def test_a_code_with_its_verifier_gets_tokens_that_work(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    response = await browser.exchange(oauth_client, authorized)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "tasks:read tasks:write"
    assert body["access_token"].startswith("dta_")
    assert body["refresh_token"].startswith("dtr_")
    userinfo = await browser.http.get(
        browser.url("/userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert userinfo.status_code == 200
    assert userinfo.json()["email"] == "alice@example.com"


async def test_client_secret_post_is_accepted_too(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    form = _exchange_form(
        authorized, client_id=oauth_client.client_id, client_secret=oauth_client.client_secret
    )

    response = await browser.token(form)

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def test_a_wrong_verifier_is_refused_and_leaves_the_code_usable(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    wrong = await browser.token(
        _exchange_form(authorized, code_verifier=pkce_pair()[0]), auth=basic(oauth_client)
    )
    missing = await browser.token(_exchange_form(authorized, code_verifier=""), auth=basic(oauth_client))

    _assert_oauth_error(
        wrong, 400, "invalid_grant", "The code_verifier does not match the code_challenge (PKCE)."
    )
    _assert_oauth_error(
        missing, 400, "invalid_grant", "The code_verifier does not match the code_challenge (PKCE)."
    )
    assert (await browser.exchange(oauth_client, authorized)).status_code == 200


async def test_a_code_used_twice_is_refused_and_what_it_gave_is_revoked(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    first = (await browser.exchange(oauth_client, authorized)).json()

    second = await browser.exchange(oauth_client, authorized)

    _assert_oauth_error(
        second,
        400,
        "invalid_grant",
        "The authorization code was already used; the tokens it produced are revoked.",
    )
    assert (await browser.tasks(first["access_token"])).status_code == 401
    assert (await browser.refresh(oauth_client, first["refresh_token"])).json()["error"] == "invalid_grant"


async def test_the_redirect_uri_must_be_the_one_of_the_authorization_request(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    other = await browser.token(
        _exchange_form(authorized, redirect_uri="https://switchboard.example.com/other"),
        auth=basic(oauth_client),
    )
    missing = await browser.token(_exchange_form(authorized, redirect_uri=""), auth=basic(oauth_client))

    for response in (other, missing):
        _assert_oauth_error(
            response, 400, "invalid_grant", "redirect_uri differs from the one of the authorization request."
        )


async def test_a_code_is_bound_to_the_client_it_was_issued_to(
    browser: DemoTasksBrowser, registry: ClientRegistry, authorized: Authorized
) -> None:
    other = await registry.ensure_client("Another app", [REDIRECT_URI])

    response = await browser.token(_exchange_form(authorized), auth=basic(other))

    _assert_oauth_error(
        response, 400, "invalid_grant", "The authorization code was issued to another client."
    )


async def test_an_expired_code_is_refused(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    row = await AuthorizationCode.select(AuthorizationCode.created_at, AuthorizationCode.expires_at).first()
    assert row is not None
    assert row["expires_at"] - row["created_at"] == timedelta(minutes=10)
    await AuthorizationCode.update(
        {AuthorizationCode.expires_at: datetime.now(UTC) - timedelta(seconds=1)}, force=True
    )

    response = await browser.exchange(oauth_client, authorized)

    _assert_oauth_error(response, 400, "invalid_grant", "The authorization code has expired.")


async def test_an_unknown_code_is_refused(browser: DemoTasksBrowser, oauth_client: DemoClient) -> None:
    response = await browser.token(
        {
            "grant_type": "authorization_code",
            "code": "dtk_made-up",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce_pair()[0],
        },
        auth=basic(oauth_client),
    )

    _assert_oauth_error(response, 400, "invalid_grant", "The authorization code is unknown.")


async def test_a_wrong_client_secret_is_refused_with_a_basic_challenge(
    browser: DemoTasksBrowser, oauth_client: DemoClient, authorized: Authorized
) -> None:
    response = await browser.token(
        _exchange_form(authorized), auth=httpx.BasicAuth(oauth_client.client_id, "dts_wrong")
    )
    posted = await browser.token(
        _exchange_form(authorized, client_id=oauth_client.client_id, client_secret="dts_wrong")
    )

    _assert_oauth_error(response, 401, "invalid_client", "The client secret is wrong.")
    assert response.headers["www-authenticate"] == 'Basic realm="Demo Tasks"'
    _assert_oauth_error(posted, 401, "invalid_client", "The client secret is wrong.")
    assert "www-authenticate" not in posted.headers
    assert (await browser.exchange(oauth_client, authorized)).status_code == 200


MALFORMED = [
    (
        {"grant_type": "authorization_code"},
        False,
        401,
        "invalid_client",
        "Authenticate the client with client_secret_basic or client_secret_post.",
    ),
    (
        {"client_secret": "x"},
        True,
        400,
        "invalid_request",
        "Use one client authentication method per request.",
    ),
    (
        {"grant_type": "password"},
        True,
        400,
        "unsupported_grant_type",
        "Use authorization_code or refresh_token.",
    ),
    ({"grant_type": ""}, True, 400, "invalid_request", "Send grant_type."),
    (
        {"grant_type": "authorization_code", "code": ""},
        True,
        400,
        "invalid_request",
        "Send the authorization code.",
    ),
]


async def test_malformed_token_requests_get_rfc_6749_errors(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    for form, use_basic, status, error, description in MALFORMED:
        response = await browser.token(form, auth=basic(oauth_client) if use_basic else None)

        _assert_oauth_error(response, status, error, description)


async def test_token_requests_must_be_form_encoded(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    response = await browser.http.post(
        browser.url("/token"), json={"grant_type": "authorization_code"}, auth=basic(oauth_client)
    )

    _assert_oauth_error(
        response, 400, "invalid_request", "Send the parameters as application/x-www-form-urlencoded."
    )
