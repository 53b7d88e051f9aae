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
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked, WriteCount
from switchboard.identity.oauth.verifier import InvalidToken, TokenVerifier
from switchboard.identity.tables import Revocation, SigningKey
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
    """A process's verifier and revocation list: of the revocations another process writes, it learns
    only through the database."""
    keys = SigningKeys(TEST_SECRET, LIFETIME)
    revocations = RevocationList(LIFETIME, written=WriteCount())
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


async def test_a_revocation_made_visible_after_a_later_numbered_one_is_still_read(database: Database) -> None:
    """PostgreSQL numbers rows as they are inserted, but concurrent inserts commit in any order: a
    process may read revocation n+1 before revocation n exists for it. It must not skip n for good."""
    verifier, revocations = _process()
    token = await _token(SigningKeys(TEST_SECRET, LIFETIME), jti="late")
    assert (await verifier.verify(token, audience=AUDIENCE)).token_id == "late"
    last = max([row["seq"] for row in await Revocation.select(Revocation.seq)], default=0)

    await _revocation_numbered(last + 2, "other")
    await revocations.refresh(force=True)
    await _revocation_numbered(last + 1, "late")  # committed only now
    await asyncio.sleep(0.5)
    with pytest.raises(InvalidToken, match="revoked"):
        await verifier.verify(token, audience=AUDIENCE)


async def _revocation_numbered(seq: int, jti: str) -> None:
    now = datetime.now(UTC)
    await Revocation.insert(
        Revocation(seq=seq, kind=Revoked.TOKEN.value, value=jti, created_at=now, expires_at=now + LIFETIME)
    )


async def test_a_retired_key_stops_verifying_in_every_process_once_its_tokens_have_expired(
    database: Database,
) -> None:
    """Another process holds the keys it verified with in memory: a retired key must still leave it
    when the last token it signed has expired (retired_at + token lifetime + a minute)."""
    signer = SigningKeys(TEST_SECRET, LIFETIME)
    token = await _token(signer)
    kid = (await signer.jwks())["keys"][0]["kid"]
    await signer.rotate()
    # Retired so long ago that its window closes in 0.3 s.
    window = LIFETIME + timedelta(minutes=1)
    await SigningKey.update(
        {SigningKey.retired_at: datetime.now(UTC) - window + timedelta(seconds=0.3)}
    ).where(SigningKey.kid == kid)
    elsewhere, _ = _process()
    assert (await elsewhere.verify(token, audience=AUDIENCE)).subject == "user-1"

    await asyncio.sleep(0.4)
    with pytest.raises(InvalidToken, match="not signed by a key of this server"):
        await elsewhere.verify(token, audience=AUDIENCE)


async def test_a_process_learns_within_its_reload_interval_that_a_key_was_retired_elsewhere(
    database: Database,
) -> None:
    signer = SigningKeys(TEST_SECRET, LIFETIME)
    token = await _token(signer)
    kid = (await signer.jwks())["keys"][0]["kid"]
    elsewhere = TokenVerifier(
        ISSUER, SigningKeys(TEST_SECRET, LIFETIME, reload_interval=0.2), RevocationList(LIFETIME)
    )
    assert (await elsewhere.verify(token, audience=AUDIENCE)).subject == "user-1"  # the key is in memory

    await signer.rotate()  # as ``switchboard keys rotate`` does, in its own process
    await SigningKey.update({SigningKey.retired_at: datetime.now(UTC) - timedelta(hours=2)}).where(
        SigningKey.kid == kid
    )
    await asyncio.sleep(0.3)
    with pytest.raises(InvalidToken, match="not signed by a key of this server"):
        await elsewhere.verify(token, audience=AUDIENCE)


async def test_a_revocation_made_after_every_earlier_one_was_pruned_is_still_read(database: Database) -> None:
    """Pruning may empty the table; the revocations written after it are still new to every process."""
    _, here = _process()
    elsewhere, elsewhere_revocations = _process()
    await here.revoke(Revoked.TOKEN, "first")
    await elsewhere_revocations.refresh(force=True)
    await Revocation.update({Revocation.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Revocation.seq > 0
    )
    assert await RevocationList.prune() == 1
    token = await _token(SigningKeys(TEST_SECRET, LIFETIME), jti="second")

    await here.revoke(Revoked.TOKEN, "second")
    await asyncio.sleep(0.5)
    with pytest.raises(InvalidToken, match="revoked"):
        await elsewhere.verify(token, audience=AUDIENCE)
