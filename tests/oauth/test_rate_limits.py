"""Rate limits on the token endpoint (per client and per IP) and on registration (per IP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.platform.core.ratelimit import RateLimitWindow
from tests.support.oauth import REDIRECT_URI, OAuthClient, error_of

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def elsewhere(app: Litestar) -> AsyncIterator[OAuthClient]:
    """The same kind of client, calling from another IP address."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield OAuthClient(http)


def _assert_limited(response: httpx.Response, *, window_seconds: int) -> None:
    assert error_of(response) == (429, "too_many_requests")
    assert set(response.json()) == {"error", "error_description"}
    assert 0 < int(response.headers["retry-after"]) <= window_seconds
    assert response.headers["cache-control"] == "no-store"


async def _refresh_attempt(oauth: OAuthClient, client: dict[str, Any]) -> httpx.Response:
    return await oauth.refresh("sbr_unknown", client["client_id"])


LIMITS = {
    "token_requests_per_minute_per_client": 3,
    "token_requests_per_minute_per_ip": 5,
    "registrations_per_hour_per_ip": 2,
}


@pytest.mark.parametrize("settings", [LIMITS], indirect=True, ids=["small limits"])
async def test_the_token_endpoint_limits_each_client(
    oauth: OAuthClient, public_client: dict[str, Any], elsewhere: OAuthClient
) -> None:
    for _ in range(3):
        assert error_of(await _refresh_attempt(oauth, public_client)) == (400, "invalid_grant")
    _assert_limited(await _refresh_attempt(oauth, public_client), window_seconds=60)
    # The limit follows the client, whatever its address.
    _assert_limited(await _refresh_attempt(elsewhere, public_client), window_seconds=60)
    # Another client is not limited by it.
    other = await oauth.registered(client_name="Other", token_endpoint_auth_method="none")
    assert error_of(await _refresh_attempt(oauth, other)) == (400, "invalid_grant")
    # A new window starts once the minute is over.
    await RateLimitWindow.update(
        {RateLimitWindow.window_started_at: datetime.now(UTC) - timedelta(minutes=2)}, force=True
    )
    assert error_of(await _refresh_attempt(elsewhere, public_client)) == (400, "invalid_grant")


@pytest.mark.parametrize("settings", [LIMITS], indirect=True, ids=["small limits"])
async def test_the_token_endpoint_limits_each_ip_address(
    oauth: OAuthClient, elsewhere: OAuthClient, oauth_server: AuthorizationServer, open_policy: None
) -> None:
    clients: list[dict[str, Any]] = []
    for n in range(3):
        registered, _, _ = await oauth_server.clients.register(
            {"client_name": f"App {n}", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
        )
        clients.append({"client_id": registered.client_id})
    # Unauthenticated requests count too.
    assert error_of(await oauth.token({"grant_type": "refresh_token"})) == (401, "invalid_client")
    for client in clients[:2]:
        for _ in range(2):
            assert error_of(await _refresh_attempt(oauth, client)) == (400, "invalid_grant")
    _assert_limited(await _refresh_attempt(oauth, clients[2]), window_seconds=60)
    assert error_of(await _refresh_attempt(elsewhere, clients[2])) == (400, "invalid_grant")


@pytest.mark.parametrize("settings", [LIMITS], indirect=True, ids=["small limits"])
async def test_registration_is_limited_per_ip_address(oauth: OAuthClient, elsewhere: OAuthClient) -> None:
    for _ in range(2):
        assert (await oauth.register(token_endpoint_auth_method="none")).status_code == 201
    limited = await oauth.register(token_endpoint_auth_method="none")
    _assert_limited(limited, window_seconds=3600)
    assert int(limited.headers["retry-after"]) > 3000
    assert (await elsewhere.register(token_endpoint_auth_method="none")).status_code == 201
