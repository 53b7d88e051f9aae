"""A process checks a token's signature once; everything else about it, on every request.

The key that signed it must still be accepted, and the issuer, audience, expiry and revocations are
checked each time, so a token the cache holds is refused exactly when an uncached one would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws

from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked, WriteCount
from switchboard.identity.oauth.verifier import InvalidToken, TokenVerifier
from switchboard.identity.tables import SigningKey
from switchboard.platform.core.database import Database
from tests.conftest import TEST_SECRET

ISSUER = "http://testserver.local"
AUDIENCE = f"{ISSUER}/mcp/test"
LIFETIME = timedelta(hours=1)


class _Process:
    """One process's keys, revocation list and verifier (another process learns only through the
    database)."""

    def __init__(self, cache_size: int = 10_000) -> None:
        self.keys = SigningKeys(TEST_SECRET, LIFETIME)
        self.revocations = RevocationList(LIFETIME, written=WriteCount())
        self.verifier = TokenVerifier(ISSUER, self.keys, self.revocations, cache_size=cache_size)

    async def refusal(self, token: str, audience: str = AUDIENCE) -> str | None:
        try:
            await self.verifier.verify(token, audience=audience)
        except InvalidToken as exc:
            return str(exc)
        return None


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The payload of every token whose signature is checked, in order."""
    checked: list[bytes] = []
    original: Callable[..., Any] = jws.validate_compact

    def counting(obj: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(obj.payload)
        return original(obj, *args, **kwargs)

    monkeypatch.setattr(jws, "validate_compact", counting)
    return checked


async def _token(keys: SigningKeys, *, lifetime: int = 3600, **claims: str) -> str:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": AUDIENCE,
        "client_id": "sbc_one",
        "scope": "mcp:tools:*",
        "iat": now,
        "exp": now + lifetime,
        "jti": "jti-1",
        "gid": "grant-1",
    }
    return await keys.sign({**base, **claims})


async def test_a_repeated_token_has_its_signature_checked_once(
    database: Database, signature_checks: list[bytes]
) -> None:
    process = _Process()
    token = await _token(process.keys)
    first = await process.verifier.verify(token, audience=AUDIENCE)
    second = await process.verifier.verify(token, audience=AUDIENCE)
    assert second == first
    assert first.subject == "user-1"
    assert first.scopes == ("mcp:tools:*",)
    assert len(signature_checks) == 1


async def test_a_cached_token_is_refused_for_another_audience_as_an_uncached_one_is(
    database: Database, signature_checks: list[bytes]
) -> None:
    process = _Process()
    token = await _token(process.keys)
    assert await process.refusal(token) is None
    assert await process.refusal(token, f"{ISSUER}/mcp/other") == "the token is meant for another resource"
    assert await _Process().refusal(token, f"{ISSUER}/mcp/other") == "the token is meant for another resource"
    assert await process.refusal(token) is None
    assert len(signature_checks) == 2  # the cached process once, the fresh one once


@pytest.mark.parametrize("kind", [Revoked.TOKEN, Revoked.GRANT, Revoked.CLIENT, Revoked.USER])
async def test_a_cached_token_is_refused_once_revoked_as_an_uncached_one_is(
    database: Database, signature_checks: list[bytes], kind: Revoked
) -> None:
    process = _Process()
    token = await _token(process.keys)
    assert await process.refusal(token) is None
    value = {Revoked.TOKEN: "jti-1", Revoked.GRANT: "grant-1", Revoked.CLIENT: "sbc_one"}.get(kind, "user-1")

    await process.revocations.revoke(kind, value)
    assert await process.refusal(token) == "the token has been revoked"
    assert await process.refusal(token) == "the token has been revoked"
    assert await _Process().refusal(token) == "the token has been revoked"
    assert len(signature_checks) == 2  # the cached process once, the fresh one once


async def test_a_cached_token_is_refused_once_expired_and_forgotten(
    database: Database, signature_checks: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _Process()
    token = await _token(process.keys, lifetime=60)
    assert await process.refusal(token) is None
    assert await process.refusal(token) is None
    # Within the 30 seconds' leeway the token is still accepted; past it, it is not.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 85)
    assert await process.refusal(token) is None
    monkeypatch.setattr(time, "time", lambda: now + 95)
    assert await process.refusal(token) == "the token has expired"
    assert await _Process().refusal(token) == "the token has expired"
    assert len(process.verifier._verified) == 0
    assert len(signature_checks) == 3  # once cached; past its expiry, checked again as if never seen


async def test_a_cached_token_is_refused_at_once_when_its_key_is_removed(
    database: Database, signature_checks: list[bytes]
) -> None:
    process = _Process()
    token = await _token(process.keys)
    kid = (await process.keys.jwks())["keys"][0]["kid"]
    assert await process.refusal(token) is None
    await process.keys.rotate()
    assert await process.refusal(token) is None  # retired keys verify until their tokens have expired

    # Retired longer ago than a token lives: the key no longer verifies once this process reads the keys.
    await SigningKey.update({SigningKey.retired_at: datetime.now(UTC) - timedelta(hours=2)}).where(
        SigningKey.kid == kid
    )
    await process.keys.reload()
    assert await process.refusal(token) == "the token was not signed by a key of this server"
    assert await process.refusal(token) == "the token was not signed by a key of this server"
    assert await _Process().refusal(token) == "the token was not signed by a key of this server"


async def test_a_token_differing_from_a_cached_one_by_one_byte_is_checked_on_its_own(
    database: Database, signature_checks: list[bytes]
) -> None:
    process = _Process()
    token = await _token(process.keys)
    assert await process.refusal(token) is None
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    forged_signature = f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    forged_payload = f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    for forged in (forged_signature, forged_payload):
        before = len(signature_checks)
        assert await process.refusal(forged) in {
            "the token's signature is invalid",
            "the token's claims are malformed",
        }
        assert await process.refusal(forged) == await _Process().refusal(forged)
        assert len(signature_checks) == before + 3  # every attempt checked, none cached
    assert await process.refusal(token) is None
    assert len(signature_checks) == 7


async def test_the_cache_stays_bounded_under_many_distinct_tokens(
    database: Database, signature_checks: list[bytes]
) -> None:
    process = _Process(cache_size=3)
    tokens = [await _token(process.keys, jti=f"jti-{n}") for n in range(8)]
    for token in tokens:
        assert await process.refusal(token) is None
    assert len(process.verifier._verified) == 3
    # The least recently used left first: the newest three are held, the first is checked again.
    checked = len(signature_checks)
    for token in tokens[-3:]:
        assert await process.refusal(token) is None
    assert len(signature_checks) == checked
    assert await process.refusal(tokens[0]) is None
    assert len(signature_checks) == checked + 1
    assert len(process.verifier._verified) == 3
