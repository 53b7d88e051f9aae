"""Dynamic client registration (RFC 7591), the registration policy, approval, and housekeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from switchboard.identity.oauth.models import ClientKind, ClientStatus, RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthClient as OAuthClientRow
from switchboard.platform.core.tokens import token_hash
from tests.support.actors import SETUP
from tests.support.oauth import REDIRECT_URI, OAuthClient, error_of
from tests.support.web import Browserless
from tests.ui.html import Page

ACCEPTED_REDIRECTS = [
    "https://app.example.com/oauth/callback",
    "http://localhost:33418/callback",
    "http://127.0.0.1/callback",
    "http://[::1]:8080/callback",
    "cursor://anysphere.cursor-mcp/oauth/callback",
]
REFUSED_REDIRECTS = [
    "javascript:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "https://app.example.com/callback#fragment",
    "http://app.example.com/callback",
    "http://192.168.1.10/callback",
]


async def test_a_public_client_registers(oauth: OAuthClient, oauth_server: AuthorizationServer) -> None:
    # What only the server issues is not taken from the client.
    issued_by_the_server = {
        "client_id": "sbc_chosen",
        "client_secret": "mine",
        "registration_access_token": "x",
    }
    answer = await oauth.register(
        client_name="Inspector", token_endpoint_auth_method="none", **issued_by_the_server
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["client_id"].startswith("sbc_")
    assert body["client_name"] == "Inspector"
    assert body["token_endpoint_auth_method"] == "none"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert abs(body["client_id_issued_at"] - datetime.now(UTC).timestamp()) < 60
    assert "client_secret" not in body
    assert "registration_access_token" not in body
    assert body["client_id"] != "sbc_chosen"
    client = await oauth_server.clients.get(body["client_id"])
    assert client.kind is ClientKind.DYNAMIC
    assert client.status is ClientStatus.PENDING  # the default policy: admin approval
    assert not client.has_secret


@pytest.mark.both_engines
async def test_a_confidential_clients_secret_is_returned_once_and_stored_as_a_hash(
    oauth: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    body = await oauth.registered(client_name="Server app")
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    secret = body["client_secret"]
    assert len(secret) >= 32
    assert body["client_secret_expires_at"] == 0
    rows = await OAuthClientRow.select().where(OAuthClientRow.client_id == body["client_id"])
    assert rows[0]["secret_hash"] == token_hash(secret)
    assert secret not in repr(rows)
    assert (await oauth_server.clients.get(body["client_id"])).has_secret
    post = await oauth.registered(client_name="Post app", token_endpoint_auth_method="client_secret_post")
    assert post["token_endpoint_auth_method"] == "client_secret_post"
    assert post["client_secret"] != secret


async def test_safe_redirect_uris_are_accepted_and_unsafe_ones_refused(
    oauth: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    for uri in REFUSED_REDIRECTS:
        answer = await oauth.register(redirect_uris=["https://fine.example.com/cb", uri])
        assert error_of(answer) == (400, "invalid_redirect_uri"), uri
        assert answer.headers["cache-control"] == "no-store"
    missing = await oauth.register(redirect_uris=[])
    assert error_of(missing) == (400, "invalid_redirect_uri")
    assert await oauth_server.clients.list_all() == []
    body = await oauth.registered(redirect_uris=ACCEPTED_REDIRECTS, token_endpoint_auth_method="none")
    assert body["redirect_uris"] == ACCEPTED_REDIRECTS


BAD_METADATA: dict[str, dict[str, Any]] = {
    "client_name not a string": {"client_name": 5},
    "grant_types not a list": {"grant_types": "authorization_code"},
    "client_credentials": {"grant_types": ["client_credentials"]},
    "implicit": {"grant_types": ["implicit"]},
    "response_types token": {"response_types": ["token"]},
    "unknown auth method": {"token_endpoint_auth_method": "private_key_jwt"},
    "auth method not a string": {"token_endpoint_auth_method": ["none"]},
    "scope not a string": {"scope": ["mcp:tools:*"]},
    "malformed scope": {"scope": 'mcp:tools:* "quoted"'},
}


async def test_bad_metadata_is_invalid_client_metadata(
    oauth: OAuthClient, client: httpx.AsyncClient, oauth_server: AuthorizationServer
) -> None:
    for case, metadata in BAD_METADATA.items():
        answer = await oauth.register(**metadata)
        assert error_of(answer) == (400, "invalid_client_metadata"), (case, answer.text)
    for body, content_type in (
        (b"{not json", "application/json"),
        (b'["a list"]', "application/json"),
        (b"client_name=x", "application/x-www-form-urlencoded"),
    ):
        answer = await client.post("/oauth/register", content=body, headers={"content-type": content_type})
        assert error_of(answer) == (400, "invalid_client_metadata"), body
        assert set(answer.json()) == {"error", "error_description"}
    assert await oauth_server.clients.list_all() == []


# The registration policy ----------------------------------------------------------------------------------


async def test_a_pending_client_awaits_approval_until_an_admin_authorizes_it(
    oauth: OAuthClient, alice: Browserless, boss: Browserless, oauth_server: AuthorizationServer
) -> None:
    client_id = (await oauth.registered(client_name="New agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    waiting = await oauth.authorize(alice, client_id)
    assert waiting.response.status_code == 403
    assert "location" not in waiting.response.headers
    page = Page(waiting.response.text)
    assert page.all("h1")[0].text == "This app awaits approval"
    assert "New agent has not been approved" in page.text
    assert (await oauth_server.clients.get(client_id)).status is ClientStatus.PENDING
    # Nor can it use the token endpoint.
    refused = await oauth.token({"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id})
    assert error_of(refused) == (401, "invalid_client")
    assert "awaiting approval" in refused.json()["error_description"]
    # An admin who denies does not approve it.
    denied = await oauth.authorize(boss, client_id, decision="deny")
    assert denied.callback["error"] == "access_denied"
    assert (await oauth_server.clients.get(client_id)).status is ClientStatus.PENDING

    approving = await oauth.authorize(boss, client_id, decision=None)
    assert approving.asks_consent
    assert "allowing it approves it for everyone" in Page(approving.response.text).text
    approved = await oauth.authorize(boss, client_id)
    assert "code" in approved.callback
    client = await oauth_server.clients.get(client_id)
    assert client.status is ClientStatus.APPROVED
    assert client.approved_by == "boss@example.com"
    assert (await oauth.exchange(approved)).status_code == 200

    member = await oauth.authorize(alice, client_id)
    assert "code" in member.callback


async def test_the_open_policy_approves_at_once_and_the_closed_one_refuses(
    oauth: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    await oauth_server.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)
    client_id = (await oauth.registered(token_endpoint_auth_method="none"))["client_id"]
    assert (await oauth_server.clients.get(client_id)).status is ClientStatus.APPROVED

    await oauth_server.clients.set_policy(RegistrationPolicy.CLOSED, actor=SETUP)
    answer = await oauth.register(token_endpoint_auth_method="none")
    assert error_of(answer) == (403, "access_denied")
    assert "registration is closed" in answer.json()["error_description"]
    assert [client.client_id for client in await oauth_server.clients.list_all()] == [client_id]


# Housekeeping ---------------------------------------------------------------------------------------------


@pytest.mark.both_engines
@pytest.mark.parametrize("settings", [{"unused_client_lifetime_hours": 2}], indirect=True, ids=["2 hours"])
async def test_clients_registered_and_never_used_are_removed_after_the_configured_time(
    oauth: OAuthClient, alice: Browserless, oauth_server: AuthorizationServer, open_policy: None
) -> None:
    unused = (await oauth.registered(client_name="Abandoned", token_endpoint_auth_method="none"))["client_id"]
    used = (await oauth.registered(client_name="Used", token_endpoint_auth_method="none"))["client_id"]
    recent = (await oauth.registered(client_name="Recent", token_endpoint_auth_method="none"))["client_id"]
    await oauth.tokens(alice, used)
    static = await oauth_server.clients.create_static(
        StaticClientCreate(name="Static", redirect_uris=[REDIRECT_URI]), actor=SETUP
    )

    async def created_hours_ago(hours: int) -> None:
        await OAuthClientRow.update(
            {OAuthClientRow.created_at: datetime.now(UTC) - timedelta(hours=hours)}
        ).where(OAuthClientRow.client_id != recent)

    await created_hours_ago(1)
    assert await oauth_server.clients.remove_unused() == 0
    await created_hours_ago(3)
    assert await oauth_server.clients.remove_unused() == 1
    remaining = {client.client_id for client in await oauth_server.clients.list_all()}
    assert remaining == {used, recent, static.client.client_id}
    assert unused not in remaining
    removal = (await oauth_server.audit.recent(action="client.deleted"))[0]
    assert (removal.client_id, removal.reason) == (unused, "never used")


@pytest.mark.both_engines
async def test_repeated_registrations_of_one_client_are_grouped(
    oauth: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    first = await oauth.registered(client_name="Claude", token_endpoint_auth_method="none")
    second = await oauth.registered(client_name="claude ", token_endpoint_auth_method="none")
    other_uri = await oauth.registered(
        client_name="Claude", token_endpoint_auth_method="none", redirect_uris=["http://127.0.0.1:1/other"]
    )
    other_name = await oauth.registered(client_name="Cursor", token_endpoint_auth_method="none")
    groups = {
        tuple(sorted(client.client_id for client in group.clients))
        for group in await oauth_server.clients.list_grouped()
    }
    assert groups == {
        tuple(sorted([first["client_id"], second["client_id"]])),
        (other_uri["client_id"],),
        (other_name["client_id"],),
    }
