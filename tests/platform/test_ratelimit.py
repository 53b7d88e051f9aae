"""Rate limits counted in the database: housekeeping clears the windows no limit reads any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import Throttled
from switchboard.platform.core.ratelimit import RateLimiter, RateLimitWindow
from switchboard.platform.services import Services

pytestmark = pytest.mark.both_engines

_MINUTE = timedelta(minutes=1)


async def _started(key: str, ago: timedelta) -> None:
    await RateLimitWindow.update({RateLimitWindow.window_started_at: datetime.now(UTC) - ago}).where(
        RateLimitWindow.key == key
    )


async def test_housekeeping_removes_the_windows_started_over_a_day_ago_and_keeps_the_others(
    database: Database,
) -> None:
    limiter = RateLimiter()
    for key in ("seen-days-ago", "seen-hours-ago", "seen-now"):
        await limiter.hit(key, limit=10, window=_MINUTE)
    await _started("seen-days-ago", timedelta(days=3))
    await _started("seen-hours-ago", timedelta(hours=23))

    assert await limiter.remove_old_windows() == 1
    kept = await RateLimitWindow.select(RateLimitWindow.key).output(as_list=True)
    assert sorted(kept) == ["seen-hours-ago", "seen-now"]
    assert await limiter.remove_old_windows() == 0


async def test_a_key_whose_window_was_removed_starts_a_new_window(database: Database) -> None:
    limiter = RateLimiter()
    await limiter.hit("caller", limit=1, window=_MINUTE)
    with pytest.raises(Throttled):
        await limiter.hit("caller", limit=1, window=_MINUTE)
    await _started("caller", timedelta(days=2))
    assert await limiter.remove_old_windows() == 1

    await limiter.hit("caller", limit=1, window=_MINUTE)
    assert await RateLimitWindow.select(RateLimitWindow.hits).output(as_list=True) == [1]


async def test_the_running_app_s_housekeeping_clears_old_windows(app_services: Services) -> None:
    limiter = RateLimiter()
    await limiter.hit("seen-days-ago", limit=10, window=_MINUTE)
    await limiter.hit("seen-now", limit=10, window=_MINUTE)
    await _started("seen-days-ago", timedelta(days=2))

    await app_services.housekeeper.run_once()

    assert await RateLimitWindow.select(RateLimitWindow.key).output(as_list=True) == ["seen-now"]
