"""Scope caps: an admin limits which scopes a client may ever get, whatever it asks for and whatever a
person allowed it.

RFC 6749 §3.3: the server may issue fewer scopes than asked for, and then says which in ``scope``. A
request left with nothing the cap allows is refused with ``invalid_scope``.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.identity.oauth.models import ClientWithSecret
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import InvalidInput, PermissionDenied
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, error_of, verifies
from tests.support.web import Browserless

ECHO = "mcp:tools:echo"
OTHER = "mcp:tools:other"


def _credentials(service_client: ClientWithSecret) -> tuple[str, str]:
    assert service_client.client_secret is not None
    return service_client.client.client_id, service_client.client_secret


def _scope_claim(answer: dict[str, Any]) -> str:
    return str(decode_jwt(answer["access_token"])[1]["scope"])


async def test_a_capped_service_client_asking_for_more_gets_only_its_capped_scopes(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    await oauth_server.clients.cap_scopes(service_client.client.client_id, [ECHO], actor=SETUP)
    for asked in ({"scope": "mcp:tools:*"}, {"scope": f"{ECHO} {OTHER}"}, {}):
        answer = await oauth.client_credentials(*_credentials(service_client), resource=RESOURCE, **asked)
        assert answer.status_code == 200, (asked, answer.text)
        # RFC 6749 §3.3: the scope issued differs from the one asked for, and the answer says so.
        assert answer.json()["scope"] == ECHO, asked
        assert _scope_claim(answer.json()) == ECHO, asked
    issued = await oauth_server.audit.recent(action="token.issued")
    assert [event.scope for event in issued[:3]] == [ECHO, ECHO, ECHO]


async def test_a_capped_client_asking_only_for_scopes_beyond_its_cap_gets_invalid_scope(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    await oauth_server.clients.cap_scopes(service_client.client.client_id, [ECHO], actor=SETUP)
    answer = await oauth.client_credentials(*_credentials(service_client), resource=RESOURCE, scope=OTHER)
    assert error_of(answer) == (400, "invalid_scope")
    assert answer.json()["error_description"] == (
        "An administrator limited this client to other scopes than those it asked for."
    )
    assert "access_token" not in answer.json()
    (refused,) = await oauth_server.audit.recent(action="token.refused")
    assert refused.client_id == service_client.client.client_id
    assert refused.reason.startswith("invalid_scope: ")


async def test_an_empty_cap_means_no_cap(
    oauth: OAuthClient, service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    client_id = service_client.client.client_id
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)
    uncapped = await oauth_server.clients.cap_scopes(client_id, [], actor=SETUP)
    assert uncapped.scope_cap == ()
    answer = await oauth.client_credentials(*_credentials(service_client), resource=RESOURCE)
    assert answer.json()["scope"] == "mcp:tools:*"


async def test_the_consent_page_offers_only_the_capped_scopes_and_the_token_carries_no_more(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)
    shown = await oauth.authorize(alice, client_id, decision=None, scope="mcp:tools:* offline_access")
    assert shown.asks_consent
    assert "use the tool echo" in shown.response.text
    assert "use every tool you may use on this server" not in shown.response.text

    tokens = await oauth.tokens(alice, client_id, scope="mcp:tools:* offline_access")
    assert tokens["scope"] == f"{ECHO} offline_access"
    assert _scope_claim(tokens) == f"{ECHO} offline_access"
    assert "refresh_token" in tokens  # offline_access is not capped


async def test_an_authorization_request_left_with_nothing_the_cap_allows_is_refused_with_invalid_scope(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)
    attempt = await oauth.authorize(alice, client_id, scope=f"{OTHER} offline_access")
    assert attempt.response.status_code in (302, 303)
    assert attempt.callback["error"] == "invalid_scope"
    assert "code" not in attempt.callback


async def test_a_cap_narrowed_after_consent_holds_at_the_code_exchange(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    attempt = await oauth.authorize(alice, client_id, scope="mcp:tools:* offline_access")
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)
    answer = await oauth.exchange(attempt)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == f"{ECHO} offline_access"
    assert _scope_claim(answer.json()) == f"{ECHO} offline_access"


async def test_a_refresh_after_the_cap_was_narrowed_gets_the_intersection_and_never_more(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id, scope="mcp:tools:* offline_access")
    assert tokens["scope"] == "mcp:tools:* offline_access"
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)

    narrowed = await oauth.refresh(tokens["refresh_token"], client_id)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == f"{ECHO} offline_access"
    assert _scope_claim(narrowed.json()) == f"{ECHO} offline_access"
    # Asking again for the whole grant does not widen it past the cap.
    asked = await oauth.refresh(
        narrowed.json()["refresh_token"], client_id, scope="mcp:tools:* offline_access"
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["scope"] == f"{ECHO} offline_access"
    assert await verifies(oauth_server, asked.json()["access_token"])

    # Lifting the cap gives back what the person allowed, no more.
    await oauth_server.clients.cap_scopes(client_id, [], actor=SETUP)
    lifted = await oauth.refresh(asked.json()["refresh_token"], client_id)
    assert lifted.json()["scope"] == "mcp:tools:* offline_access"


async def test_a_refresh_left_with_nothing_the_cap_allows_is_refused_and_keeps_the_refresh_token(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id, scope=f"{ECHO} offline_access")
    await oauth_server.clients.cap_scopes(client_id, ["mcp:tools:other"], actor=SETUP)
    refused = await oauth.refresh(tokens["refresh_token"], client_id)
    assert error_of(refused) == (400, "invalid_scope")
    # Refused for its scope, the refresh token is not spent (RFC 6749 §5.2): usable once the cap allows.
    await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=SETUP)
    again = await oauth.refresh(tokens["refresh_token"], client_id)
    assert again.status_code == 200, again.text
    assert again.json()["scope"] == f"{ECHO} offline_access"


async def test_capping_is_audited_and_checked(
    service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    client_id = service_client.client.client_id
    capped = await oauth_server.clients.cap_scopes(client_id, [ECHO, ECHO, "mcp:tools:search"], actor=SETUP)
    assert capped.scope_cap == (ECHO, "mcp:tools:search")
    assert (await oauth_server.clients.get(client_id)).scope_cap == (ECHO, "mcp:tools:search")
    await oauth_server.clients.cap_scopes(client_id, [], actor=SETUP)
    events = [
        (event.actor, event.client_id, event.client_name, event.scope, event.reason)
        for event in reversed(await oauth_server.audit.recent(action="client.scopes_capped"))
    ]
    assert events == [
        (SETUP.email, client_id, "Nightly report", f"{ECHO} mcp:tools:search", "no cap before"),
        (SETUP.email, client_id, "Nightly report", "", f"cap removed; was {ECHO} mcp:tools:search"),
    ]
    for bad, message in (
        ("offline_access", "offline_access is not capped"),
        ("bad\x7fscope", "is not a valid scope"),
    ):
        with pytest.raises(InvalidInput, match=message):
            await oauth_server.clients.cap_scopes(client_id, [bad], actor=SETUP)
    assert (await oauth_server.clients.get(client_id)).scope_cap == ()


async def test_only_admins_may_cap_a_client(
    service_client: ClientWithSecret, oauth_server: AuthorizationServer
) -> None:
    client_id = service_client.client.client_id
    for role in (Role.MEMBER, Role.BUILDER):
        someone = Principal(
            user_id=service_client.client.id, email="someone@example.com", name="", role=role, via="session"
        )
        with pytest.raises(PermissionDenied):
            await oauth_server.clients.cap_scopes(client_id, [ECHO], actor=someone)
    assert (await oauth_server.clients.get(client_id)).scope_cap == ()
    assert await oauth_server.audit.recent(action="client.scopes_capped") == []


async def test_a_new_registration_of_a_capped_client_keeps_its_cap(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    """An MCP client that registers again (a new machine, lost credentials) under the same name and
    redirect URIs is the same client to the admin who capped it."""
    await oauth_server.clients.cap_scopes(public_client["client_id"], [ECHO], actor=SETUP)
    again = await oauth.registered(client_name="Public app", token_endpoint_auth_method="none")
    assert (await oauth_server.clients.get(again["client_id"])).scope_cap == (ECHO,)
    tokens = await oauth.tokens(alice, again["client_id"], scope="mcp:tools:* offline_access")
    assert tokens["scope"] == f"{ECHO} offline_access"
    other = await oauth.registered(client_name="Another app", token_endpoint_auth_method="none")
    assert (await oauth_server.clients.get(other["client_id"])).scope_cap == ()
