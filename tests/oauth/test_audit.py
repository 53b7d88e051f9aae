"""The audit trail of the token endpoint: who got which token, and who was refused and why."""

from __future__ import annotations

from typing import Any

from switchboard.identity.oauth.models import ClientWithSecret
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.oauth import RESOURCE, OAuthClient
from tests.support.web import Browserless


async def test_every_token_issued_or_refused_is_audited(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    service_client: ClientWithSecret,
    oauth_server: AuthorizationServer,
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"], scope="mcp:tools:echo offline_access")
    await oauth.refresh(tokens["refresh_token"], public_client["client_id"])
    assert service_client.client_secret is not None
    await oauth.client_credentials(
        service_client.client.client_id, service_client.client_secret, resource=RESOURCE
    )

    issued = [
        (event.client_id, event.client_name, event.subject, event.grant_type, event.scope, event.outcome)
        for event in reversed(await oauth_server.audit.recent(action="token.issued"))
    ]
    public = (public_client["client_id"], "Public app", "alice@example.com")
    assert issued == [
        (*public, "authorization_code", "mcp:tools:echo offline_access", "ok"),
        (*public, "refresh_token", "mcp:tools:echo offline_access", "ok"),
        (
            service_client.client.client_id,
            "Nightly report",
            service_client.client.service_account_email,
            "client_credentials",
            "mcp:tools:*",
            "ok",
        ),
    ]
    assert all(event.ip_address == "127.0.0.1" for event in await oauth_server.audit.recent(action="token."))

    client_id = public_client["client_id"]
    await oauth.refresh("sbr_unknown", client_id)
    await oauth.token({"grant_type": "authorization_code", "code": "sbo_x", "client_id": "sbc_nobody"})
    await oauth.token({"grant_type": "client_credentials", "client_id": client_id})

    refused = [
        (event.client_id, event.client_name, event.grant_type, event.outcome, event.reason)
        for event in reversed(await oauth_server.audit.recent(action="token.refused"))
    ]
    assert refused == [
        (
            client_id,
            "Public app",
            "refresh_token",
            "refused",
            "invalid_grant: The refresh token is unknown, expired or revoked.",
        ),
        ("sbc_nobody", "", "authorization_code", "refused", "invalid_client: Unknown client."),
        (
            client_id,
            "Public app",
            "client_credentials",
            "refused",
            "unauthorized_client: This client may not use the client_credentials grant.",
        ),
    ]


async def test_a_refused_token_request_names_the_user_the_code_or_refresh_token_belongs_to(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    tokens = (await oauth.exchange(attempt)).json()
    await oauth.refresh(tokens["refresh_token"], public_client["client_id"], scope="mcp:tools:* other")
    await oauth.exchange(attempt)  # replayed
    await oauth.refresh("sbr_unknown", public_client["client_id"])
    refused = [
        (event.subject, event.grant_type, event.reason.split(":")[0])
        for event in reversed(await oauth_server.audit.recent(action="token.refused"))
    ]
    assert refused == [
        ("alice@example.com", "refresh_token", "invalid_scope"),
        ("alice@example.com", "authorization_code", "invalid_grant"),
        ("", "refresh_token", "invalid_grant"),
    ]
