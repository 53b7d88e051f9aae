"""Fixed-window rate limits kept in the database, so that every process counts the same requests.

``RateLimiter.hit`` counts a request under a key and raises ``Throttled`` once the key's limit is
passed; each caller answers that in its own terms (an OAuth ``too_many_requests``, a JSON-RPC error).
``RateLimiter.count`` counts and tells how many the window holds, for callers that decide themselves.
``RateLimiter.remove_old_windows`` is a housekeeping task of its own (``platform/services.py``).

``BufferedCounts`` counts the same windows for a hot path (every MCP request): each process adds its
requests to the key's total in memory and writes them out every ``flush_every`` seconds (F), one
``UPDATE … RETURNING`` per key, reading the new total back. A request is refused once the total this
process last read plus its own requests not yet read back pass the limit. A request is counted in the
database as ``RateLimiter.count`` counts it (so windows start, end and give ``retry_after`` as there) when
it is its window's first in this process, when the total was last read over F ago, or when no flusher
runs (``start``/``stop``, with the app's lifespan).

The bound: one process alone counts exactly. Across processes, when a process accepts a request the
requests it does not know of are those the others accepted but had not written when it last read the
total (accepted at most F and one write before that read) or accepted since (at most F); so a window
accepts at most its limit plus what the other processes accept in the two flush intervals (and one write)
before the last request it accepts: with P processes sharing a steady load evenly, (P - 1) / P of what
all accept in 2F. It never refuses before the limit is reached: every request is counted once, refused
ones too. ``stop`` writes what is pending; a process that dies loses its counts of at most the last flush
interval (and of a write under way).

The table is this module's alone, yet the identity Piccolo app lists it: this layer has no Piccolo app,
and the identity app's migrations created the table (hence its name, ``identity_rate_limit``), so its
migration history stays there.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.custom_types import Combinable
from piccolo.table import Table

from switchboard.platform.core.errors import Throttled

log = logging.getLogger("switchboard.ratelimit")

_KEPT = timedelta(days=1)
"""How long a window is kept after it started: longer than any limit's window."""


class RateLimitWindow(Table, tablename="identity_rate_limit"):
    """The current window of one key (listed by the identity Piccolo app, see above)."""

    key = Varchar(length=600, primary_key=True)
    window_started_at = Timestamptz()
    hits = Integer(default=0)


def client_network(ip_address: str) -> str:
    """What per-address limits count: an IPv4 address, or the /64 an IPv6 address is in.

    One IPv6 host usually holds a whole /64 and can send from any address in it; counting single
    addresses would give it 2**64 separate allowances.
    """
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return ip_address
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Counted(msgspec.Struct, frozen=True):
    """A key's window as one more request left it: the requests it holds, the seconds until it ends."""

    hits: int
    retry_after: int


class RateLimiter:
    async def hit(self, key: str, *, limit: int, window: timedelta) -> None:
        """Count a request under ``key``; raise ``Throttled`` once more than ``limit`` were counted in
        the key's window, with the seconds until the window ends."""
        counted = await self.count(key, window=window)
        if counted.hits > limit:
            raise Throttled(
                f"Too many requests; try again in {counted.retry_after} seconds.",
                retry_after=counted.retry_after,
            )

    async def count(self, key: str, *, window: timedelta) -> Counted:
        """Count a request under ``key``: how many its window holds now, this one included."""
        now = datetime.now(UTC)
        hits, started = await _count_in_database(_stored_key(key), window, now)
        return Counted(hits=hits, retry_after=_seconds_left(started + window, now))

    async def remove_old_windows(self) -> int:
        """Remove the windows that started over a day ago (no limit has a window that long), so that keys
        seen once do not stay for ever; the number removed."""
        removed = (
            await RateLimitWindow.delete()
            .where(RateLimitWindow.window_started_at < datetime.now(UTC) - _KEPT)
            .returning(RateLimitWindow.key)
        )
        return len(removed)


@dataclass
class _Window:
    """What one process knows of a key's window: the total it last read, and its requests since."""

    started: datetime
    ends: datetime
    read: int  # the window's total as the database last answered
    read_at: float  # when it was asked (``time.monotonic``)
    writing: int = 0  # requests being added by the write under way
    reading: int = 0  # requests being counted in the database directly
    pending: int = 0  # requests not written yet

    @property
    def hits(self) -> int:
        return self.read + self.writing + self.pending


class BufferedCounts:
    """``RateLimiter.count`` for a hot path: requests counted in memory, written every ``flush_every``
    seconds while ``start``ed (the bound this keeps is in the module's docstring)."""

    def __init__(self, *, flush_every: float = 0.05) -> None:
        self._flush_every = flush_every
        self._windows: dict[str, _Window] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def flush_every(self) -> float:
        return self._flush_every

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def count(self, key: str, *, window: timedelta) -> Counted:
        """Count a request under ``key``: how many its window holds now, as far as this process knows."""
        now = datetime.now(UTC)
        key = _stored_key(key)
        known = self._windows.get(key)
        asked = time.monotonic()
        if (
            known is not None
            and now < known.ends
            and self.running
            # What the others counted since a read over F ago may not be known, unless a write reads it now.
            and (asked - known.read_at <= self._flush_every or known.writing)
        ):
            known.pending += 1
            return Counted(hits=known.hits, retry_after=_seconds_left(known.ends, now))
        # Count it in the database (which starts the window when none is open), reading the total: the
        # first request of a window, one after a quiet spell, or all when no flusher writes counts out.
        if known is not None:
            known.reading += 1  # no write of this window meanwhile, which the total might or might not hold
        try:
            hits, started = await _count_in_database(key, window, now)
        finally:
            if known is not None:
                known.reading -= 1
        if not self.running:
            return Counted(hits=hits, retry_after=_seconds_left(started + window, now))
        known = self._windows.get(key)
        if known is not None and known.started == started:  # keep this process's pending requests
            known.read, known.read_at = max(known.read, hits), max(known.read_at, asked)
        else:
            known = _Window(started=started, ends=started + window, read=hits, read_at=asked)
            self._windows[key] = known
        return Counted(hits=known.hits, retry_after=_seconds_left(known.ends, now))

    async def flush(self) -> None:
        """Add each key's pending requests to its window in the database, and read the total back."""
        now = datetime.now(UTC)
        for key, known in list(self._windows.items()):
            if now >= known.ends:  # the window is over: its pending requests have nothing left to count for
                if self._windows.get(key) is known:
                    del self._windows[key]
                continue
            if not known.pending or known.reading:  # written next time
                continue
            added, known.pending = known.pending, 0
            known.writing += added
            asked = time.monotonic()
            try:
                rows = (
                    await RateLimitWindow.update({RateLimitWindow.hits: RateLimitWindow.hits + added})
                    .where(
                        RateLimitWindow.key == key,
                        RateLimitWindow.window_started_at <= known.started,  # not a later window
                        RateLimitWindow.window_started_at > now - (known.ends - known.started),
                    )
                    .returning(RateLimitWindow.hits)
                )
            except Exception:
                known.pending += added  # written next time
                raise
            finally:
                known.writing -= added
            if rows:
                known.read, known.read_at = max(known.read, int(rows[0]["hits"])), max(known.read_at, asked)
            elif self._windows.get(key) is known:  # the window ended, or housekeeping removed it
                del self._windows[key]

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop writing in the background, after writing what is pending."""
        if self._task is not None:
            self._stopping.set()
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._flush_every)
            try:
                await self.flush()
            except Exception:  # the database away for a moment: the counts stay pending
                log.exception("Writing the rate-limit counts failed")


def _stored_key(key: str) -> str:
    return key.replace("\x00", "")[:600]


def _seconds_left(ends: datetime, now: datetime) -> int:
    return max(1, math.ceil((ends - now).total_seconds()))


async def _count_in_database(key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
    """Count a request under ``key`` in the database: the hits its window holds, and when it started."""
    # Usually the key's window is open: one statement counts the request.
    rows = await _add_one(key, (RateLimitWindow.window_started_at > now - window))
    if not rows:  # a new key, or its window has passed: start a window, then count
        await RateLimitWindow.insert(RateLimitWindow(key=key, window_started_at=now, hits=0)).on_conflict(
            action="DO NOTHING"
        )
        await RateLimitWindow.update({RateLimitWindow.hits: 0, RateLimitWindow.window_started_at: now}).where(
            (RateLimitWindow.key == key) & (RateLimitWindow.window_started_at <= now - window)
        )
        rows = await _add_one(key)
    if not rows:  # removed between the statements by the housekeeping of old windows
        return 1, now
    return int(rows[0]["hits"]), rows[0]["window_started_at"]


async def _add_one(key: str, *conditions: Combinable) -> list[dict[str, Any]]:
    query = RateLimitWindow.update({RateLimitWindow.hits: RateLimitWindow.hits + 1}).where(
        RateLimitWindow.key == key, *conditions
    )
    return await query.returning(RateLimitWindow.hits, RateLimitWindow.window_started_at)
