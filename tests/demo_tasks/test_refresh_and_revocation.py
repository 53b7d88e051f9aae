"""Refresh token rotation with reuse detection (RFC 6749 §6, OAuth 2.1 §4.3) and revocation (RFC 7009)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.platform.demo_tasks.clients import ClientRegistry, DemoClient
from switchboard.platform.demo_tasks.tables import Token
from tests.demo_tasks.support import REDIRECT_URI, DemoTasksBrowser, basic

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def tokens(browser: DemoTasksBrowser, oauth_client: DemoClient) -> dict[str, str]:
    return await browser.tokens_for(oauth_client, "alice@example.com")


async def test_a_refresh_rotates_both_tokens(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    response = await browser.refresh(oauth_client, tokens["refresh_token"])

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    fresh = response.json()
    assert fresh["expires_in"] == 3600
    assert fresh["scope"] == "tasks:read tasks:write"
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert (await browser.tasks(fresh["access_token"])).status_code == 200
    assert (await browser.refresh(oauth_client, fresh["refresh_token"])).status_code == 200


async def test_reusing_a_rotated_refresh_token_is_refused_and_ends_the_grant(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    fresh = (await browser.refresh(oauth_client, tokens["refresh_token"])).json()

    reused = await browser.refresh(oauth_client, tokens["refresh_token"])

    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token was already used; every token of its grant is revoked.",
    }
    assert (await browser.tasks(fresh["access_token"])).status_code == 401
    after = await browser.refresh(oauth_client, fresh["refresh_token"])
    assert after.json()["error_description"] == "The refresh token has been revoked."


async def test_a_refresh_can_narrow_the_scopes_but_not_widen_them(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    narrowed = await browser.refresh(oauth_client, tokens["refresh_token"], scope="tasks:read")
    assert narrowed.json()["scope"] == "tasks:read"
    readonly = await browser.tokens_for(oauth_client, "bob@example.com", scope="tasks:read")

    widened = await browser.refresh(oauth_client, readonly["refresh_token"], scope="tasks:read tasks:write")

    assert (await browser.add_task(narrowed.json()["access_token"], {"title": "x"})).status_code == 403
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"
    # A refused request leaves the refresh token usable.
    assert (await browser.refresh(oauth_client, readonly["refresh_token"])).status_code == 200


async def test_a_refresh_token_works_only_for_its_own_client(
    browser: DemoTasksBrowser, registry: ClientRegistry, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    other = await registry.ensure_client("Another app", [REDIRECT_URI])

    response = await browser.refresh(other, tokens["refresh_token"])

    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token was issued to another client.",
    }
    assert (await browser.refresh(oauth_client, tokens["refresh_token"])).status_code == 200


async def test_an_expired_or_unknown_refresh_token_is_refused(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    unknown = await browser.refresh(oauth_client, "dtr_made-up")
    await Token.update({Token.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Token.kind == "refresh"
    )

    expired = await browser.refresh(oauth_client, tokens["refresh_token"])

    assert unknown.json()["error_description"] == "The refresh token is unknown."
    assert expired.json()["error_description"] == "The refresh token has expired."


async def test_a_revoked_access_token_is_refused_but_its_grant_lives_on(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    response = await browser.revoke(oauth_client, tokens["access_token"])

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    refused = await browser.tasks(tokens["access_token"])
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await browser.refresh(oauth_client, tokens["refresh_token"])).status_code == 200


async def test_revoking_a_refresh_token_ends_its_whole_grant(
    browser: DemoTasksBrowser, oauth_client: DemoClient, tokens: dict[str, str]
) -> None:
    response = await browser.http.post(
        browser.url("/revoke"),
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=basic(oauth_client),
    )

    assert response.status_code == 200
    assert (await browser.tasks(tokens["access_token"])).status_code == 401
    refreshed = await browser.refresh(oauth_client, tokens["refresh_token"])
    assert refreshed.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token has been revoked.",
    }


async def test_revoking_an_unknown_or_another_clients_token_answers_200_and_changes_nothing(
    browser: DemoTasksBrowser, registry: ClientRegistry, tokens: dict[str, str]
) -> None:
    other = await registry.ensure_client("Another app", [REDIRECT_URI])

    unknown = await browser.revoke(other, "dta_made-up")
    foreign = await browser.revoke(other, tokens["access_token"])

    assert (unknown.status_code, foreign.status_code) == (200, 200)
    assert (await browser.tasks(tokens["access_token"])).status_code == 200


async def test_revocation_needs_client_authentication(
    browser: DemoTasksBrowser, tokens: dict[str, str]
) -> None:
    response = await browser.http.post(browser.url("/revoke"), data={"token": tokens["access_token"]})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert (await browser.tasks(tokens["access_token"])).status_code == 200
