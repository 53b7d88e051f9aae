"""Refresh tokens: opaque, stored as hashes, rotated on every use; a reused one revokes its family."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.oauth.models import StaticClientCreate
from switchboard.identity.oauth.resources import ProtectedResource
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthGrant, OAuthRefreshToken
from switchboard.platform.core.tokens import token_hash
from tests.support.actors import SETUP
from tests.support.oauth import RESOURCE, OAuthClient, decode_jwt, error_of, verifies
from tests.support.oauth_server import TEST_PATH, with_test_endpoint
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines


async def _refreshed(oauth: OAuthClient, refresh_token: str, client_id: str, **extra: str) -> dict[str, Any]:
    answer = await oauth.refresh(refresh_token, client_id, **extra)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture
async def mcp_resource(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The protected MCP resource the tokens are for, as a client calls it."""
    protected = with_test_endpoint(app, ProtectedResource(url=RESOURCE, name="Test server"))
    transport = httpx.ASGITransport(app=protected, client=("127.0.0.1", 51003))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
async def gateway(oauth_server: AuthorizationServer) -> tuple[str, str]:
    """Credentials of a resource server that may introspect any token."""
    created = await oauth_server.clients.create_static(
        StaticClientCreate(name="MCP gateway", grant_types=["client_credentials"], may_introspect_any=True),
        actor=SETUP,
    )
    assert created.client_secret is not None
    return created.client.client_id, created.client_secret


async def _first_use_long_ago(refresh_token: str) -> None:
    """As if the token had been used a minute ago: past the grace window."""
    await OAuthRefreshToken.update(
        {OAuthRefreshToken.used_at: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(OAuthRefreshToken.token_hash == token_hash(refresh_token))


async def test_refresh_tokens_are_opaque_stored_as_hashes_and_rotated_on_every_use(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    first = await _refreshed(oauth, tokens["refresh_token"], client_id)
    second = await _refreshed(oauth, first["refresh_token"], client_id)
    presented = [tokens["refresh_token"], first["refresh_token"], second["refresh_token"]]
    assert len(set(presented)) == 3
    for token in presented:
        assert "." not in token  # not a JWT: nothing to read in it
        assert len(token) >= 32
    stored = {row["token_hash"] for row in await OAuthRefreshToken.select(OAuthRefreshToken.token_hash)}
    assert stored == {token_hash(token) for token in presented}
    assert not stored & set(presented)
    for answer in (first, second):
        assert answer["scope"] == "mcp:tools:* offline_access"
        _, claims = decode_jwt(answer["access_token"])
        assert claims["aud"] == RESOURCE
        assert claims["sub"] == decode_jwt(tokens["access_token"])[1]["sub"]
        assert await verifies(oauth_server, answer["access_token"])


async def test_reusing_an_old_refresh_token_revokes_the_whole_family(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    other_grant = await oauth.tokens(alice, client_id)
    newer = await _refreshed(oauth, tokens["refresh_token"], client_id)
    newest = await _refreshed(oauth, newer["refresh_token"], client_id)
    await _first_use_long_ago(tokens["refresh_token"])

    reused = await oauth.refresh(tokens["refresh_token"], client_id)
    assert error_of(reused) == (400, "invalid_grant")
    assert "every token of this grant is revoked" in reused.json()["error_description"]
    assert error_of(await oauth.refresh(newest["refresh_token"], client_id)) == (400, "invalid_grant")
    for access_token in (tokens["access_token"], newer["access_token"], newest["access_token"]):
        assert not await verifies(oauth_server, access_token)
    # Another authorization of the same person and client is another family: it goes on.
    assert await verifies(oauth_server, other_grant["access_token"])
    await _refreshed(oauth, other_grant["refresh_token"], client_id)


async def test_two_concurrent_refreshes_within_the_grace_window_both_succeed(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    answers = await asyncio.gather(
        oauth.refresh(tokens["refresh_token"], client_id), oauth.refresh(tokens["refresh_token"], client_id)
    )
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    for answer in answers:
        assert await verifies(oauth_server, answer.json()["access_token"])
        await _refreshed(oauth, answer.json()["refresh_token"], client_id)


@pytest.mark.parametrize("settings", [{"refresh_reuse_grace_seconds": 0}], indirect=True, ids=["no grace"])
async def test_without_a_grace_window_any_second_use_revokes_the_family(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    answers = await asyncio.gather(
        oauth.refresh(tokens["refresh_token"], client_id), oauth.refresh(tokens["refresh_token"], client_id)
    )
    assert sorted(error_of(answer) for answer in answers) == [(200, "None"), (400, "invalid_grant")]
    (winner,) = (answer.json() for answer in answers if answer.status_code == 200)
    assert error_of(await oauth.refresh(winner["refresh_token"], client_id)) == (400, "invalid_grant")
    assert not await verifies(oauth_server, winner["access_token"])
    assert not await verifies(oauth_server, tokens["access_token"])
    # One after the other, too: the old token is refused at once and takes the newer one with it.
    tokens = await oauth.tokens(alice, client_id)
    newer = await _refreshed(oauth, tokens["refresh_token"], client_id)
    assert error_of(await oauth.refresh(tokens["refresh_token"], client_id)) == (400, "invalid_grant")
    assert error_of(await oauth.refresh(newer["refresh_token"], client_id)) == (400, "invalid_grant")


async def test_a_refresh_may_narrow_the_scopes_but_not_widen_them_or_change_the_resource(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    narrow = await _refreshed(
        oauth, tokens["refresh_token"], client_id, scope="mcp:tools:echo offline_access"
    )
    assert narrow["scope"] == "mcp:tools:echo offline_access"
    assert decode_jwt(narrow["access_token"])[1]["scope"] == "mcp:tools:echo offline_access"
    # Omitting the scope gives back everything that was granted.
    back = await _refreshed(oauth, narrow["refresh_token"], client_id)
    assert back["scope"] == "mcp:tools:* offline_access"

    limited = await oauth.tokens(alice, client_id, scope="mcp:tools:echo offline_access")
    for wider in ("mcp:tools:*", "mcp:tools:echo mcp:tools:other offline_access", "admin"):
        answer = await oauth.refresh(limited["refresh_token"], client_id, scope=wider)
        assert error_of(answer) == (400, "invalid_scope"), wider
    other = await oauth.refresh(
        limited["refresh_token"], client_id, resource="http://testserver.local/mcp/other"
    )
    assert error_of(other) == (400, "invalid_target")
    # The refused requests did not use the refresh token up.
    same = await _refreshed(oauth, limited["refresh_token"], client_id, resource=RESOURCE)
    assert decode_jwt(same["access_token"])[1]["aud"] == RESOURCE


async def test_another_clients_refresh_token_is_refused(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], confidential_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    stolen = await oauth.refresh(
        tokens["refresh_token"], confidential_client["client_id"], secret=confidential_client["client_secret"]
    )
    assert error_of(stolen) == (400, "invalid_grant")
    assert stolen.json()["error_description"] == "The refresh token was issued to another client."
    await _refreshed(oauth, tokens["refresh_token"], public_client["client_id"])


async def test_no_refresh_token_without_offline_access(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"], scope="mcp:tools:echo")
    assert tokens["scope"] == "mcp:tools:echo"
    assert "refresh_token" not in tokens
    assert await OAuthRefreshToken.count() == 0


async def test_an_expired_or_unknown_refresh_token_is_refused(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    await OAuthRefreshToken.update(
        {OAuthRefreshToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(OAuthRefreshToken.token_hash == token_hash(tokens["refresh_token"]))
    for token in (tokens["refresh_token"], "sbr_unknown", tokens["access_token"]):
        assert error_of(await oauth.refresh(token, public_client["client_id"])) == (400, "invalid_grant")
    missing = await oauth.token({"grant_type": "refresh_token", "client_id": public_client["client_id"]})
    assert error_of(missing) == (400, "invalid_request")


async def _resource_answers(mcp_resource: httpx.AsyncClient, access_token: str) -> int:
    answer = await mcp_resource.get(TEST_PATH, headers={"authorization": f"Bearer {access_token}"})
    return answer.status_code


async def _introspected_active(oauth: OAuthClient, token: str, gateway: tuple[str, str]) -> bool:
    answer = await oauth.introspect(token, auth=gateway)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


async def test_a_refresh_token_replayed_within_the_grace_after_its_successor_was_used_revokes_the_grant(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
    mcp_resource: httpx.AsyncClient,
    gateway: tuple[str, str],
) -> None:
    """RFC 9700 §4.14.2: the client moved on (it refreshed with the token it got), so the old token
    presented again, however soon, is a copy in someone else's hands."""
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    newer = await _refreshed(oauth, tokens["refresh_token"], client_id)
    newest = await _refreshed(oauth, newer["refresh_token"], client_id)
    assert await _resource_answers(mcp_resource, newest["access_token"]) == 200

    replayed = await oauth.refresh(tokens["refresh_token"], client_id)  # seconds later: inside the grace
    assert error_of(replayed) == (400, "invalid_grant")
    assert replayed.json()["error_description"] == (
        "The refresh token was already used; every token of this grant is revoked."
    )
    assert "access_token" not in replayed.json()
    # Everything the grant issued is refused: the newest refresh token, every access token.
    assert error_of(await oauth.refresh(newest["refresh_token"], client_id)) == (400, "invalid_grant")
    assert error_of(await oauth.refresh(newer["refresh_token"], client_id)) == (400, "invalid_grant")
    for access_token in (tokens["access_token"], newer["access_token"], newest["access_token"]):
        assert await _resource_answers(mcp_resource, access_token) == 401
        assert not await verifies(oauth_server, access_token)
        assert not await _introspected_active(oauth, access_token, gateway)
    assert not await _introspected_active(oauth, newest["refresh_token"], gateway)
    grant = await OAuthGrant.select(OAuthGrant.revoked_at, OAuthGrant.revoked_reason).first()
    assert grant is not None
    assert grant["revoked_at"] is not None
    assert grant["revoked_reason"] == "refresh token reused"
    # The audit trail names whose grant it was, the client, and why it was refused.
    refused = await oauth_server.audit.recent(action="token.refused")
    assert [(event.subject, event.client_id, event.grant_type, event.reason) for event in refused][-1] == (
        "alice@example.com",
        client_id,
        "refresh_token",
        "invalid_grant: The refresh token was already used; every token of this grant is revoked.",
    )


async def test_a_replay_within_the_grace_is_refused_once_a_token_it_was_exchanged_for_was_used(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    """Two concurrent refreshes both get tokens; once the client refreshed with either result, the
    token both came from is no longer taken for a concurrent duplicate."""
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    first, second = await asyncio.gather(
        oauth.refresh(tokens["refresh_token"], client_id), oauth.refresh(tokens["refresh_token"], client_id)
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    following = await _refreshed(oauth, second.json()["refresh_token"], client_id)

    replayed = await oauth.refresh(tokens["refresh_token"], client_id)
    assert error_of(replayed) == (400, "invalid_grant")
    for answer in (first.json(), second.json(), following):
        assert not await verifies(oauth_server, answer["access_token"])
    assert error_of(await oauth.refresh(following["refresh_token"], client_id)) == (400, "invalid_grant")


async def test_a_replay_within_the_grace_before_the_successor_was_used_is_a_concurrent_refresh(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    """The client's second request of a concurrent pair may arrive after the first was answered: while
    the first answer's refresh token is unused, it gets tokens of its own."""
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    first = await _refreshed(oauth, tokens["refresh_token"], client_id)
    second = await _refreshed(oauth, tokens["refresh_token"], client_id)
    for answer in (first, second):
        assert await verifies(oauth_server, answer["access_token"])
    assert await OAuthGrant.count().where(OAuthGrant.revoked_at.is_not_null()) == 0
    await _refreshed(oauth, second["refresh_token"], client_id)


async def test_a_replay_after_the_grace_revokes_the_grant_and_is_audited(
    oauth: OAuthClient, alice: Browserless, public_client: dict[str, Any], oauth_server: AuthorizationServer
) -> None:
    client_id = public_client["client_id"]
    tokens = await oauth.tokens(alice, client_id)
    newer = await _refreshed(oauth, tokens["refresh_token"], client_id)
    await _first_use_long_ago(tokens["refresh_token"])

    assert error_of(await oauth.refresh(tokens["refresh_token"], client_id)) == (400, "invalid_grant")
    assert not await verifies(oauth_server, newer["access_token"])
    assert error_of(await oauth.refresh(newer["refresh_token"], client_id)) == (400, "invalid_grant")
    events = [
        (event.subject, event.client_id, event.grant_type, event.reason)
        for event in reversed(await oauth_server.audit.recent(action="token.refused"))
    ]
    assert events == [
        (
            "alice@example.com",
            client_id,
            "refresh_token",
            "invalid_grant: The refresh token was already used; every token of this grant is revoked.",
        ),
        # The revoked grant's refresh tokens are deleted: nothing tells whose this one was.
        ("", client_id, "refresh_token", "invalid_grant: The refresh token is unknown, expired or revoked."),
    ]
