"""Revocations reach every process: at once in the one that revoked, within a second in the others.

Each process keeps its own ``RevocationList`` in memory; two lists on one database behave as two
processes behind a load balancer do.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked
from switchboard.identity.oauth.verifier import InvalidToken, TokenVerifier
from switchboard.identity.tables import Revocation
from switchboard.platform.core.database import Database
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.both_engines

ISSUER = "http://testserver.local"
AUDIENCE = f"{ISSUER}/mcp/test"
LIFETIME = timedelta(hours=1)


async def _token(keys: SigningKeys, **claims: str) -> str:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": AUDIENCE,
        "client_id": "sbc_one",
        "scope": "mcp:tools:*",
        "iat": now,
        "exp": now + 3600,
        "jti": "jti-1",
        "gid": "grant-1",
    }
    return await keys.sign({**base, **claims})


def _process() -> tuple[TokenVerifier, RevocationList]:
    keys = SigningKeys(TEST_SECRET, LIFETIME)
    revocations = RevocationList(LIFETIME)
    return TokenVerifier(ISSUER, keys, revocations), revocations


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Revoked.TOKEN, "jti-1"),
        (Revoked.GRANT, "grant-1"),
        (Revoked.CLIENT, "sbc_one"),
        (Revoked.USER, "user-1"),
    ],
)
async def test_a_revocation_is_seen_at_once_here_and_within_a_second_elsewhere(
    database: Database, kind: Revoked, value: str
) -> None:
    here, here_revocations = _process()
    elsewhere, _ = _process()
    token = await _token(SigningKeys(TEST_SECRET, LIFETIME))
    assert (await here.verify(token, audience=AUDIENCE)).subject == "user-1"
    assert (await elsewhere.verify(token, audience=AUDIENCE)).subject == "user-1"

    await here_revocations.revoke(kind, value)
    revoked_at = time.monotonic()
    with pytest.raises(InvalidToken, match="revoked"):
        await here.verify(token, audience=AUDIENCE)
    while await _accepted(elsewhere, token):
        assert time.monotonic() - revoked_at < 1.0, "another process still accepts the revoked token"
        await asyncio.sleep(0.05)
    with pytest.raises(InvalidToken, match="revoked"):
        await elsewhere.verify(token, audience=AUDIENCE)
    # Other tokens are untouched.
    other = await _token(
        SigningKeys(TEST_SECRET, LIFETIME), sub="user-2", jti="jti-2", gid="grant-2", client_id="sbc_two"
    )
    assert (await elsewhere.verify(other, audience=AUDIENCE)).subject == "user-2"


async def test_verification_does_not_query_the_database_per_request(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier, revocations = _process()
    token = await _token(SigningKeys(TEST_SECRET, LIFETIME))
    await verifier.verify(token, audience=AUDIENCE)
    polls = 0
    original = revocations.refresh

    async def counting_refresh(*, force: bool = False) -> None:
        nonlocal polls
        before = revocations._polled_at
        await original(force=force)
        polls += revocations._polled_at != before

    monkeypatch.setattr(revocations, "refresh", counting_refresh)
    started = time.monotonic()
    for _ in range(500):
        await verifier.verify(token, audience=AUDIENCE)
    elapsed = time.monotonic() - started
    # At most one look at the database per poll interval (0.5 s), whatever the number of requests.
    assert polls <= int(elapsed / 0.5) + 1


async def test_expired_revocations_are_forgotten(database: Database) -> None:
    _, revocations = _process()
    await revocations.revoke(Revoked.TOKEN, "old")
    await Revocation.update({Revocation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Revocation.value == "old"
    )
    assert await RevocationList.prune() == 1
    fresh = RevocationList(LIFETIME)
    await fresh.refresh(force=True)
    assert not fresh.is_revoked(jti="old", grant_id="", client_id="", subject="")


async def _accepted(verifier: TokenVerifier, token: str) -> bool:
    try:
        await verifier.verify(token, audience=AUDIENCE)
    except InvalidToken:
        return False
    return True
