"""Access-token verification throughput, against a bare joserfc signature check in the same run.

Every MCP request verifies its bearer token: signature, ``typ``, issuer, audience, expiry and
revocation. Switchboard's ``TokenVerifier`` does all of that in memory (revocations are polled from the
database at most twice a second), so it should keep at least half the speed of checking the signature
alone. Both are timed on the same tokens, in the same process, alternating rounds; the figure is the
median of the rounds.

    .venv/bin/python bench/token_verify.py [--seconds 1.0] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from joserfc import jws

from switchboard.identity.oauth.keys import ALGORITHM, SigningKeys
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked
from switchboard.identity.oauth.verifier import TokenVerifier
from switchboard.platform.core.database import Database
from switchboard.platform.core.migrations import migrate

ISSUER = "https://switchboard.example.com"
AUDIENCE = f"{ISSUER}/mcp/demo"
TARGET_RATIO = 0.5
SECRET = "bench-secret-key-with-at-least-32-characters"


async def _rate(check: object, tokens: list[str], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for token in tokens:
            await check(token)  # type: ignore[operator]
        done += len(tokens)
    return done / elapsed


async def main(seconds: float, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        await migrate(database)
        await database.connect()
        try:
            lifetime = timedelta(hours=1)
            keys = SigningKeys(SECRET, lifetime)
            revocations = RevocationList(lifetime)
            verifier = TokenVerifier(ISSUER, keys, revocations)
            now = int(time.time())
            tokens = [
                await keys.sign(
                    {
                        "iss": ISSUER,
                        "sub": f"user-{n}",
                        "aud": AUDIENCE,
                        "client_id": "sbc_bench",
                        "scope": "mcp:tools:*",
                        "iat": now,
                        "exp": now + 3600,
                        "jti": f"jti-{n}",
                        "gid": f"g-{n}",
                    }
                )
                for n in range(50)
            ]
            # A realistic revocation list: some revoked tokens, grants and clients that are not these.
            for n in range(200):
                await revocations.revoke(Revoked.TOKEN, f"other-{n}")
            await revocations.revoke(Revoked.CLIENT, "sbc_deleted")
            kid = jws.extract_compact(tokens[0].encode()).headers()["kid"]
            key = await keys.verification_key(kid)
            assert key is not None

            async def bare(token: str) -> None:
                jws.deserialize_compact(token, key, algorithms=[ALGORITHM])

            async def full(token: str) -> None:
                await verifier.verify(token, audience=AUDIENCE)

            await _rate(full, tokens, 0.2)  # warm-up: keys and revocations loaded
            bare_rates, full_rates = [], []
            for _ in range(rounds):
                bare_rates.append(await _rate(bare, tokens, seconds))
                full_rates.append(await _rate(full, tokens, seconds))
        finally:
            await database.close()
    baseline, ours = statistics.median(bare_rates), statistics.median(full_rates)
    ratio = ours / baseline
    print(f"bare joserfc ES256 signature check: {baseline:,.0f} verifications/s")
    print(f"Switchboard TokenVerifier.verify:   {ours:,.0f} verifications/s")
    print(f"ratio: {ratio:.2f} (target at least {TARGET_RATIO})")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.seconds, arguments.rounds)))
