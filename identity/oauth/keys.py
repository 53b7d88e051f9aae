"""Token signing keys: kept in the database (private halves encrypted), published as a JWKS.

One key signs at a time. ``rotate`` makes a new key and retires the current one, which stays
published and usable for verification until every token it signed has expired.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from switchboard.identity.tables import SigningKey
from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.tokens import new_token

ALGORITHM = "ES256"
# How often a process looks for keys made by another process (a token with an unknown kid also does).
_RELOAD_INTERVAL = 60.0
_UNKNOWN_KID_RELOAD_INTERVAL = 1.0


class SigningKeys:
    def __init__(
        self, secret_key: str, token_lifetime: timedelta, previous_keys: tuple[str, ...] = ()
    ) -> None:
        self._box = SecretBox(secret_key, "switchboard signing keys", previous_keys)
        self._token_lifetime = token_lifetime
        self._signing: tuple[str, ECKey] | None = None
        self._verifying: dict[str, ECKey] = {}
        self._loaded_at = -_RELOAD_INTERVAL
        self._lock = asyncio.Lock()

    async def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt") -> str:
        """A JWT signed by the current key: an access token (RFC 9068 ``typ: at+jwt``) unless told."""
        kid, key = await self._current()
        header = {"alg": ALGORITHM, "typ": typ, "kid": kid}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    async def verification_key(self, kid: str) -> ECKey | None:
        """The key named ``kid``: from memory (a kid's key never changes), else from the database when
        another process may have made it (at most once a second)."""
        key = self._verifying.get(kid)
        if key is not None:
            return key
        if time.monotonic() - self._loaded_at < _UNKNOWN_KID_RELOAD_INTERVAL:
            return None
        await self.reload()
        return self._verifying.get(kid)

    async def jwks(self) -> dict[str, Any]:
        await self._current()
        if time.monotonic() - self._loaded_at >= _UNKNOWN_KID_RELOAD_INTERVAL:
            await self.reload()
        keyset = KeySet(list(self._verifying.values()))
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

    async def _current(self) -> tuple[str, ECKey]:
        if self._signing is None or time.monotonic() - self._loaded_at >= _RELOAD_INTERVAL:
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
        now = datetime.now(UTC)
        # A retired key verifies tokens until the last one it signed has expired (plus a minute's skew).
        oldest = now - self._token_lifetime - timedelta(minutes=1)
        rows = (
            await SigningKey.select()
            .where(SigningKey.retired_at.is_null() | (SigningKey.retired_at > oldest))
            .order_by(SigningKey.created_at, ascending=False)
        )
        verifying: dict[str, ECKey] = {}
        signing: tuple[str, ECKey] | None = None
        for row in rows:
            public = row["public_jwk"]
            if isinstance(public, str):
                public = json.loads(public)
            verifying[row["kid"]] = ECKey.import_key(public)
            if signing is None and row["retired_at"] is None:
                private = ECKey.import_key(json.loads(self._box.decrypt(row["private_key"])))
                signing = (row["kid"], private)
        self._verifying = verifying
        self._signing = signing
        self._loaded_at = time.monotonic()
