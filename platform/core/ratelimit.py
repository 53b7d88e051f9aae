"""Fixed-window rate limits kept in the database, so that every process counts the same requests.

``RateLimiter.hit`` counts a request under a key and raises ``Throttled`` once the key's limit is
passed; each caller answers that in its own terms (an OAuth ``too_many_requests``, a JSON-RPC error).
``RateLimiter.count`` counts and tells how many the window holds, for callers that decide themselves.
``RateLimiter.remove_old_windows`` is a housekeeping task of its own (``platform/services.py``).

The table is this module's alone, yet the identity Piccolo app lists it: this layer has no Piccolo app,
and the identity app's migrations created the table (hence its name, ``identity_rate_limit``), so its
migration history stays there.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.custom_types import Combinable
from piccolo.table import Table

from switchboard.platform.core.errors import Throttled

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
        key = key.replace("\x00", "")[:600]
        # Usually the key's window is open: one statement counts the request.
        rows = await self._count(key, (RateLimitWindow.window_started_at > now - window))
        if not rows:  # a new key, or its window has passed: start a window, then count
            await RateLimitWindow.insert(RateLimitWindow(key=key, window_started_at=now, hits=0)).on_conflict(
                action="DO NOTHING"
            )
            await RateLimitWindow.update(
                {RateLimitWindow.hits: 0, RateLimitWindow.window_started_at: now}
            ).where((RateLimitWindow.key == key) & (RateLimitWindow.window_started_at <= now - window))
            rows = await self._count(key)
        if not rows:  # removed between the statements by the housekeeping of old windows
            return Counted(hits=1, retry_after=max(1, math.ceil(window.total_seconds())))
        retry_after = max(1, math.ceil((rows[0]["window_started_at"] + window - now).total_seconds()))
        return Counted(hits=int(rows[0]["hits"]), retry_after=retry_after)

    async def remove_old_windows(self) -> int:
        """Remove the windows that started over a day ago (no limit has a window that long), so that keys
        seen once do not stay for ever; the number removed."""
        removed = (
            await RateLimitWindow.delete()
            .where(RateLimitWindow.window_started_at < datetime.now(UTC) - _KEPT)
            .returning(RateLimitWindow.key)
        )
        return len(removed)

    async def _count(self, key: str, *conditions: Combinable) -> list[dict[str, Any]]:
        query = RateLimitWindow.update({RateLimitWindow.hits: RateLimitWindow.hits + 1}).where(
            RateLimitWindow.key == key, *conditions
        )
        return await query.returning(RateLimitWindow.hits, RateLimitWindow.window_started_at)
