"""What has been revoked before it expired, known to every process without a query per request.

Revoking writes a row to ``identity_revocation``. The process that wrote it reads it at its next
verification; every other process reads the rows added since its last look at most every
``poll_interval`` seconds, so that every verification starting ``poll_interval`` seconds after a
revocation was written, in any process, refuses what it revoked. Rows (and memory) are kept only while
an access token they could match might still be valid.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from switchboard.identity.tables import Revocation

if TYPE_CHECKING:
    from piccolo.custom_types import Combinable

_POLL_INTERVAL = 0.5
# The longest access-token lifetime the settings allow: for revocations made without knowing it.
LONGEST_ACCESS_TOKEN_LIFETIME = timedelta(minutes=1440)
# Row numbers skipped by a poll are looked for again this long (an insert not yet committed when the
# rows after it were read), and at most this many of them; a process's first look, which cannot tell
# pruned rows from uncommitted ones, looks again for this many below the lowest row it read.
_GAP_LIFETIME = 60.0
_MAX_GAPS = 1000
_FIRST_LOOK_GAPS = 100


class Revoked(StrEnum):
    TOKEN = "token"  # a jti
    GRANT = "grant"  # every token of one authorization
    CLIENT = "client"  # every token of a deleted client
    USER = "user"  # every token of a user (deactivated, or signed out everywhere)


class WriteCount:
    """How many revocations a process has written, whichever service wrote them (a deactivated user's are
    written by the user service, not through a list): a list that has not read them all reads the table
    at its next verification instead of waiting for its poll."""

    def __init__(self) -> None:
        self.count = 0


# This process's count. A list takes the one in place when it is made, so that a test standing for a
# second process on the same database can give that process's services a count of their own.
written_here = WriteCount()


class RevocationList:
    def __init__(
        self,
        token_lifetime: timedelta,
        *,
        poll_interval: float = _POLL_INTERVAL,
        written: WriteCount | None = None,
    ) -> None:
        self._token_lifetime = token_lifetime
        self._poll_interval = poll_interval
        # (kind, value) -> (when the entry can be forgotten, when it was revoked as a POSIX time)
        self._entries: dict[tuple[Revoked, str], tuple[datetime, float]] = {}
        self._last_seq = 0
        # Row numbers below ``_last_seq`` not read yet -> when the poll that skipped them started.
        self._gaps: dict[int, float] = {}
        self._polled_at = -poll_interval
        # The count of the process the list is in: this one's unless told.
        self._written = written or written_here
        self._written_seen = -1
        self._lock = asyncio.Lock()

    async def revoke(self, kind: Revoked, value: str) -> None:
        expires_at, revoked_at = await record_revocation(
            kind, value, self._token_lifetime, written=self._written
        )
        self._entries[(kind, value)] = (expires_at, revoked_at.timestamp())

    async def refresh(self, *, force: bool = False) -> None:
        """Read the revocations made since the last look: when this process wrote one since, or when the
        last look started a poll interval ago or more."""
        if not force and self._fresh():
            return
        async with self._lock:
            if not force and self._fresh():
                return
            started = time.monotonic()
            written = self._written.count
            now = datetime.now(UTC)
            unread: Combinable = Revocation.seq > self._last_seq
            if self._gaps:
                unread = unread | Revocation.seq.is_in(list(self._gaps))
            rows = await Revocation.select().where(unread)
            for row in rows:
                seq = int(row["seq"])
                self._gaps.pop(seq, None)
                if row["expires_at"] > now:
                    key = (Revoked(row["kind"]), row["value"])
                    self._entries[key] = (row["expires_at"], row["created_at"].timestamp())
            self._note_gaps({int(row["seq"]) for row in rows}, started)
            self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
            self._written_seen = written
            # The start of the look, not its end: a row committed while it ran may not have been read.
            self._polled_at = started

    def _fresh(self) -> bool:
        return (
            self._written_seen == self._written.count
            and time.monotonic() - self._polled_at < self._poll_interval
        )

    def _note_gaps(self, read: set[int], started: float) -> None:
        """Remember the row numbers skipped below the highest one read: concurrent inserts commit in any
        order, so a row numbered lower than one already read may still appear."""
        if not read:
            return
        highest = max(read)
        lowest = self._last_seq + 1 if self._last_seq else min(read) - _FIRST_LOOK_GAPS
        missing = [seq for seq in range(max(lowest, highest - _MAX_GAPS), highest) if seq not in read]
        for seq in missing:
            self._gaps.setdefault(seq, started)
        self._last_seq = max(self._last_seq, highest)
        self._gaps = {
            seq: since
            for seq, since in sorted(self._gaps.items())[-_MAX_GAPS:]
            if started - since < _GAP_LIFETIME
        }

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


async def record_revocation(
    kind: Revoked, value: str, token_lifetime: timedelta, *, written: WriteCount | None = None
) -> tuple[datetime, datetime]:
    """Write a revocation for every process to read; returns when it can be forgotten, and when it was
    made. ``written``: the count of the process writing it (this process's unless told)."""
    now = datetime.now(UTC)
    expires_at = now + token_lifetime + timedelta(minutes=1)
    await Revocation(kind=kind.value, value=value, created_at=now, expires_at=expires_at).save()
    (written or written_here).count += 1
    return expires_at, now


async def user_revoked_since(subject: str, since: datetime) -> bool:
    """Whether the tokens of the user ``subject`` were revoked at or after ``since``."""
    return bool(
        await Revocation.exists().where(
            (Revocation.kind == Revoked.USER.value)
            & (Revocation.value == subject)
            & (Revocation.created_at >= since)
        )
    )
