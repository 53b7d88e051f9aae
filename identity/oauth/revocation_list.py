"""What has been revoked before it expired, known to every process without a query per request.

Revoking writes a row to ``identity_revocation`` and updates this process's memory at once. Every
process reads the rows added since its last look at most every ``poll_interval`` seconds, so other
processes see a revocation within that interval. Rows (and memory) are kept only while an access token
they could match might still be valid.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from switchboard.identity.tables import Revocation

_POLL_INTERVAL = 0.5
# The longest access-token lifetime the settings allow: for revocations made without knowing it.
LONGEST_ACCESS_TOKEN_LIFETIME = timedelta(minutes=1440)


class Revoked(StrEnum):
    TOKEN = "token"  # a jti
    GRANT = "grant"  # every token of one authorization
    CLIENT = "client"  # every token of a deleted client
    USER = "user"  # every token of a user (deactivated, or signed out everywhere)


class RevocationList:
    def __init__(self, token_lifetime: timedelta, *, poll_interval: float = _POLL_INTERVAL) -> None:
        self._token_lifetime = token_lifetime
        self._poll_interval = poll_interval
        # (kind, value) -> (when the entry can be forgotten, when it was revoked as a POSIX time)
        self._entries: dict[tuple[Revoked, str], tuple[datetime, float]] = {}
        self._last_seq = 0
        self._polled_at = -poll_interval
        self._lock = asyncio.Lock()

    async def revoke(self, kind: Revoked, value: str) -> None:
        now = datetime.now(UTC)
        expires_at = await record_revocation(kind, value, self._token_lifetime)
        self._entries[(kind, value)] = (expires_at, now.timestamp())

    async def refresh(self, *, force: bool = False) -> None:
        """Read revocations made by other processes, unless this was done less than a poll ago."""
        if not force and time.monotonic() - self._polled_at < self._poll_interval:
            return
        async with self._lock:
            if not force and time.monotonic() - self._polled_at < self._poll_interval:
                return
            now = datetime.now(UTC)
            rows = await Revocation.select().where(
                (Revocation.seq > self._last_seq) & (Revocation.expires_at > now)
            )
            for row in rows:
                key = (Revoked(row["kind"]), row["value"])
                self._entries[key] = (row["expires_at"], row["created_at"].timestamp())
                self._last_seq = max(self._last_seq, int(row["seq"]))
            self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
            self._polled_at = time.monotonic()

    def is_revoked(
        self, *, jti: str, grant_id: str, client_id: str, subject: str, issued_at: float = 0.0
    ) -> bool:
        entries = self._entries
        if not entries:
            return False
        if (Revoked.TOKEN, jti) in entries or (Revoked.GRANT, grant_id) in entries:
            return True
        if (Revoked.CLIENT, client_id) in entries:
            return True
        # A user's revocation ends the tokens issued until then; a reactivated user gets new ones.
        user = entries.get((Revoked.USER, subject))
        return user is not None and issued_at <= user[1]

    @staticmethod
    async def prune() -> int:
        """Delete rows no token can match any more; returns how many."""
        rows = (
            await Revocation.delete()
            .where(Revocation.expires_at <= datetime.now(UTC))
            .returning(Revocation.seq)
        )
        return len(rows)


async def record_revocation(kind: Revoked, value: str, token_lifetime: timedelta) -> datetime:
    """Write a revocation for every process to read; returns when it can be forgotten."""
    now = datetime.now(UTC)
    expires_at = now + token_lifetime + timedelta(minutes=1)
    await Revocation(kind=kind.value, value=value, created_at=now, expires_at=expires_at).save()
    return expires_at
