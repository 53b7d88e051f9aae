"""Sign-in throttling: after repeated failures an account, or an address, is locked for a while.

Counters live in the database so that every process behind a load balancer sees the same ones.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec

from switchboard.identity.tables import SignInThrottle
from switchboard.platform.core.errors import Throttled


class ThrottlePolicy(msgspec.Struct, frozen=True):
    max_failures_per_account: int = 5
    max_failures_per_ip: int = 30
    lockout_minutes: int = 15

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)


def _keys(email: str, ip_address: str) -> dict[str, str]:
    return {"account": f"account:{email}", "ip": f"ip:{ip_address or 'unknown'}"}


class SignInThrottler:
    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    async def check(self, email: str, ip_address: str) -> None:
        """Raise ``Throttled`` while the account or the address is locked."""
        now = datetime.now(UTC)
        rows = await SignInThrottle.objects().where(
            SignInThrottle.key.is_in(list(_keys(email, ip_address).values()))
        )
        locked = [row.locked_until for row in rows if row.locked_until is not None and row.locked_until > now]
        if locked:
            seconds = math.ceil((max(locked) - now).total_seconds())
            minutes = max(1, math.ceil(seconds / 60))
            unit = "minute" if minutes == 1 else "minutes"
            raise Throttled(
                f"Too many failed sign-in attempts. Try again in {minutes} {unit}.", retry_after=seconds
            )

    async def record_failure(self, email: str, ip_address: str) -> None:
        limits = {"account": self.policy.max_failures_per_account, "ip": self.policy.max_failures_per_ip}
        now = datetime.now(UTC)
        for kind, key in _keys(email, ip_address).items():
            row = await SignInThrottle.objects().where(SignInThrottle.key == key).first()
            if row is None:
                row = SignInThrottle(key=key, failures=0, window_started_at=now, locked_until=None)
            elif row.window_started_at + self.policy.window < now:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limits[kind]:
                row.locked_until = now + self.policy.window
            await row.save()

    async def record_success(self, email: str) -> None:
        await SignInThrottle.delete().where(SignInThrottle.key == _keys(email, "")["account"])
