"""Redirect URIs spelled to look like a loopback address, or like a registered one, while naming another
host: refused at registration, and never matched at the authorization endpoint (RFC 8252 §7.3 lets only
a loopback URI's port vary; RFC 9700 §4.1.3 asks for exact matching)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard.identity.oauth import redirects
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.oauth import REDIRECT_URI, OAuthClient, error_of
from tests.support.web import Browserless
from tests.ui.html import Page

# Read by urllib as loopback (its ``hostname`` is 127.0.0.1 or ::1), by a browser as another host or as
# no URL at all.
LOOKALIKES = [
    "http://[::1].evil.example/callback",
    "http://[::1]evil/callback",
    "http://[::1].evil.example:8765/callback",
    "http://evil.example@127.0.0.1:8765/callback",
    "http://127.0.0.1@evil.example:8765/callback",
    "http://127.0.0.1:8765.evil.example/callback",
    "http://127.0.0.1.:8765/callback",
    "http://localhost./callback",
]
# No browser or native app writes a port so; what is registered, shown and compared is the port itself.
ODD_PORTS = ["http://127.0.0.1:/callback", "http://127.0.0.1:08765/callback"]


@pytest.mark.parametrize("uri", [*LOOKALIKES, *ODD_PORTS, "https://[::1].evil.example/callback"])
def test_a_lookalike_of_a_host_cannot_be_registered(uri: str) -> None:
    assert redirects.problem(uri) is not None


@pytest.mark.parametrize("uri", [*LOOKALIKES, *ODD_PORTS])
def test_a_lookalike_of_a_registered_loopback_uri_does_not_match_it(uri: str) -> None:
    registered = [REDIRECT_URI, "http://[::1]:8765/callback", "http://localhost/callback"]

    assert not redirects.matches(uri, registered)


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:50123/callback",
        "http://[::1]:50123/callback",
        "http://LOCALHOST:3000/callback",
        "http://localhost/callback",
    ],
)
def test_a_loopback_uri_on_another_port_still_matches(uri: str) -> None:
    registered = [REDIRECT_URI, "http://[::1]:8765/callback", "http://localhost/callback"]

    assert redirects.matches(uri, registered)


async def test_registration_refuses_a_lookalike_loopback_redirect_uri(
    oauth: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    answers = {}
    for uri in LOOKALIKES:
        answer = await oauth.register(redirect_uris=[uri], token_endpoint_auth_method="none")
        answers[uri] = error_of(answer)

    assert answers == dict.fromkeys(LOOKALIKES, (400, "invalid_redirect_uri"))
    assert await oauth_server.clients.list_all() == []


async def test_the_authorization_endpoint_sends_no_code_to_a_lookalike_of_the_registered_uri(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    for uri in LOOKALIKES:
        query, _ = OAuthClient.authorization_params(public_client["client_id"], redirect_uri=uri)

        response: httpx.Response = await alice.client.get(
            "/oauth/authorize", params=query, follow_redirects=False
        )

        assert response.status_code == 400, (uri, response.text)
        assert "location" not in response.headers
        assert "The redirect URI is not registered" in Page(response.text).text
