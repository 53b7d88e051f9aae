"""Token signing keys: kept in the database (private halves encrypted), published as a JWKS.

One key signs at a time. ``rotate`` makes a new key and retires the current one, which stays
published and usable for verification until every token it signed has expired: in every process, since
each one reads the keys again at least every ``reload_interval`` seconds and drops a retired key when its
time is up, whether or not it has read the keys since.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from switchboard.identity.tables import SigningKey
from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.tokens import new_token

ALGORITHM = "ES256"
# How often a process reads the keys again, for keys made or retired by another process (a token with an
# unknown kid makes it look sooner).
_RELOAD_INTERVAL = 60.0
_UNKNOWN_KID_RELOAD_INTERVAL = 1.0
# A retired key verifies for this long after the access-token lifetime: the tokens another process signed
# with it before reading the keys again, and clock skew.
_RETIRED_KEY_MARGIN = timedelta(minutes=1)


class SigningKeys:
    def __init__(
        self,
        secret_key: str,
        token_lifetime: timedelta,
        previous_keys: tuple[str, ...] = (),
        *,
        reload_interval: float = _RELOAD_INTERVAL,
    ) -> None:
        self._box = SecretBox(secret_key, "switchboard signing keys", previous_keys)
        self._token_lifetime = token_lifetime
        self._reload_interval = reload_interval
        self._signing: tuple[str, ECKey] | None = None
        # kid -> (key, until when it verifies as a POSIX time: infinite while it signs)
        self._verifying: dict[str, tuple[ECKey, float]] = {}
        self._loaded_at = -reload_interval
        self._lock = asyncio.Lock()

    async def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        """A JWT signed by the current key: an access token (RFC 9068 ``typ: at+jwt``) unless told."""
        kid, key = await self._current()
        header = {"alg": ALGORITHM, "typ": typ, "kid": kid}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    async def verification_key(self, kid: str) -> ECKey | None:
        """The key named ``kid`` while it may verify: from memory (a kid's key never changes), read again
        every reload interval (a key retired or removed elsewhere), and at once, at most once a second,
        when another process may have made it."""
        await self._reload_if_older_than(self._reload_interval)
        if kid not in self._verifying:
            await self._reload_if_older_than(_UNKNOWN_KID_RELOAD_INTERVAL)
        found = self._verifying.get(kid)
        if found is None or found[1] <= time.time():
            return None
        return found[0]

    async def jwks(self) -> dict[str, Any]:
        await self._current()
        await self._reload_if_older_than(_UNKNOWN_KID_RELOAD_INTERVAL)
        now = time.time()
        keyset = KeySet([key for key, until in self._verifying.values() if until > now])
        return {"keys": [key.as_dict(private=False) for key in keyset]}

    async def rotate(self) -> str:
        """Make a new signing key and retire the current ones; returns the new key id."""
        now = datetime.now(UTC)
        await SigningKey.update({SigningKey.retired_at: now}).where(SigningKey.retired_at.is_null())
        kid = await self._create(now)
        await self.reload()
        return kid

    async def reload(self) -> None:
        async with self._lock:
            await self._load()

    async def _reload_if_older_than(self, age: float) -> None:
        if time.monotonic() - self._loaded_at < age:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at >= age:
                await self._load()

    async def _current(self) -> tuple[str, ECKey]:
        if self._signing is None or time.monotonic() - self._loaded_at >= self._reload_interval:
            async with self._lock:
                await self._load()
                if self._signing is None:
                    await self._create(datetime.now(UTC))
                    await self._load()
        assert self._signing is not None
        return self._signing

    async def _create(self, now: datetime) -> str:
        kid = new_token()[:16]
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
        await SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            private_key=self._box.encrypt(json.dumps(key.as_dict(private=True))),
            public_jwk=key.as_dict(private=False),
            created_at=now,
        ).save()
        return kid

    async def sign_assertion(self, claims: dict[str, Any]) -> str:
        """A JWT asserting who a user is (the subject token of an RFC 8693 token exchange)."""
        return await self.sign(claims, typ="JWT")

    async def reencrypt(self) -> int:
        """Move every private key to the current secret key; returns how many changed."""
        changed = 0
        for row in await SigningKey.select(SigningKey.kid, SigningKey.private_key):
            value = self._box.reencrypt(row["private_key"])
            if value is not None:
                await SigningKey.update({SigningKey.private_key: value}).where(SigningKey.kid == row["kid"])
                changed += 1
        return changed

    async def _load(self) -> None:
        started = time.monotonic()
        now = datetime.now(UTC)
        # A retired key verifies tokens until the last one it signed has expired (plus a margin).
        window = self._token_lifetime + _RETIRED_KEY_MARGIN
        rows = (
            await SigningKey.select()
            .where(SigningKey.retired_at.is_null() | (SigningKey.retired_at > now - window))
            .order_by(SigningKey.created_at, ascending=False)
        )
        verifying: dict[str, tuple[ECKey, float]] = {}
        signing: tuple[str, ECKey] | None = None
        for row in rows:
            public = row["public_jwk"]
            if isinstance(public, str):
                public = json.loads(public)
            retired_at = row["retired_at"]
            until = math.inf if retired_at is None else (retired_at + window).timestamp()
            verifying[row["kid"]] = (ECKey.import_key(public), until)
            if signing is None and row["retired_at"] is None:
                private = ECKey.import_key(json.loads(self._box.decrypt(row["private_key"])))
                signing = (row["kid"], private)
        self._verifying = verifying
        self._signing = signing
        # The start of the read, not its end: a key retired while it ran may not have been seen.
        self._loaded_at = started
