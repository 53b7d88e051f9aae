"""The ``audience`` token parameter, which some machine clients send instead of RFC 8707 ``resource``.

Without ``resource`` it is taken for it, with the same checks (one of Switchboard's MCP servers, else
``invalid_target``); with a ``resource`` that differs it is ``invalid_target``. It is never ignored: a
token for another audience than the one a client named would be refused where the client uses it.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.identity.oauth.models import ClientWithSecret
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, error_of, verifies
from tests.support.web import Browserless

ISSUER = "http://testserver.local"
UNKNOWN = "http://testserver.local/mcp/unknown"


def _credentials(service_client: ClientWithSecret) -> tuple[str, str]:
    assert service_client.client_secret is not None
    return service_client.client.client_id, service_client.client_secret


def _audience_of(answer: dict[str, Any]) -> Any:
    return decode_jwt(answer["access_token"])[1]["aud"]


async def test_client_credentials_take_audience_for_the_resource(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    credentials = _credentials(service_client)
    answer = await oauth.client_credentials(*credentials, audience=RESOURCE)
    assert answer.status_code == 200, answer.text
    assert _audience_of(answer.json()) == RESOURCE
    assert await verifies(oauth_server, answer.json()["access_token"], RESOURCE)
    both = await oauth.client_credentials(*credentials, audience=RESOURCE, resource=RESOURCE)
    assert both.status_code == 200, both.text
    assert _audience_of(both.json()) == RESOURCE


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"audience": UNKNOWN}, "The requested resource is not known to this server."),
        ({"audience": ISSUER}, "The requested resource is not known to this server."),
        ({"audience": RESOURCE, "resource": UNKNOWN}, "audience and resource name different resources."),
        ({"audience": UNKNOWN, "resource": RESOURCE}, "audience and resource name different resources."),
    ],
    ids=["unknown audience", "the issuer", "unknown resource", "other audience"],
)
async def test_client_credentials_refuse_an_audience_that_is_no_mcp_server_or_differs_from_the_resource(
    oauth: OAuthClient,
    service_client: ClientWithSecret,
    oauth_server: AuthorizationServer,
    params: dict[str, str],
    description: str,
) -> None:
    answer = await oauth.client_credentials(*_credentials(service_client), **params)
    assert error_of(answer) == (400, "invalid_target")
    assert answer.json()["error_description"] == description
    (refused,) = await oauth_server.audit.recent(action="token.refused")
    assert refused.reason == f"invalid_target: {description}"


async def test_two_audiences_are_refused(oauth: OAuthClient, service_client: ClientWithSecret) -> None:
    client_id, secret = _credentials(service_client)
    answer = await oauth.http.post(
        "/oauth/token",
        content=f"grant_type=client_credentials&audience={RESOURCE}&audience={RESOURCE}2",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(client_id, secret),
    )
    assert error_of(answer) == (400, "invalid_target")


async def test_a_code_exchange_takes_audience_for_the_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    answer = await oauth.exchange(attempt, audience=RESOURCE)
    assert answer.status_code == 200, answer.text
    assert _audience_of(answer.json()) == RESOURCE
    assert await verifies(oauth_server, answer.json()["access_token"], RESOURCE)


@pytest.mark.parametrize(
    "params",
    [
        {"audience": UNKNOWN},
        {"audience": UNKNOWN, "resource": RESOURCE},
        {"audience": RESOURCE, "resource": UNKNOWN},
    ],
    ids=["other audience", "audience differs from resource", "resource differs from audience"],
)
async def test_a_code_exchange_refuses_an_audience_other_than_the_authorized_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], params: dict[str, str]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    refused = await oauth.exchange(attempt, **params)
    assert error_of(refused) == (400, "invalid_target")
    # Refused for its target, the code is not spent: the same exchange without the mistake works.
    assert (await oauth.exchange(attempt)).status_code == 200


async def test_a_refresh_takes_audience_for_the_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    answer = await oauth.refresh(tokens["refresh_token"], client_id, audience=RESOURCE)
    assert answer.status_code == 200, answer.text
    assert _audience_of(answer.json()) == RESOURCE


@pytest.mark.parametrize(
    "params",
    [
        {"audience": UNKNOWN},
        {"audience": UNKNOWN, "resource": RESOURCE},
        {"audience": RESOURCE, "resource": UNKNOWN},
    ],
    ids=["other audience", "audience differs from resource", "resource differs from audience"],
)
async def test_a_refresh_refuses_an_audience_other_than_the_authorized_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], params: dict[str, str]
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    refused = await oauth.refresh(tokens["refresh_token"], client_id, **params)
    assert error_of(refused) == (400, "invalid_target")
    # The refresh token is not spent by a refused request.
    assert (await oauth.refresh(tokens["refresh_token"], client_id)).status_code == 200
