"""Sign-in throttling: after repeated failures an account, or an address, is locked for a while.

Counters live in the database so that every process behind a load balancer sees the same ones. Each
attempt is counted, with single atomic statements, before its password is checked: parallel guesses
can neither overwrite each other's count nor all slip through while the first are being verified. A
successful sign-in gives its attempt back.
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
    # Whatever was typed must fit the key column and be storable (PostgreSQL refuses NUL); no account
    # has a longer e-mail, so cutting it short only merges the counters of impossible addresses.
    email = email.replace("\x00", "")[:254]
    return {"account": f"account:{email}", "ip": f"ip:{ip_address[:64] or 'unknown'}"}


class SignInThrottler:
    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy
        self.limits = {"account": policy.max_failures_per_account, "ip": policy.max_failures_per_ip}

    async def check(self, email: str, ip_address: str) -> None:
        """Count an attempt; raise ``Throttled`` while the account or the address is locked."""
        now = datetime.now(UTC)
        keys = _keys(email, ip_address)
        until: list[datetime] = []
        for kind, key in keys.items():
            attempt, locked_until = await self._count_attempt(key, now)
            if locked_until is not None and locked_until > now:
                until.append(locked_until)
            elif attempt > self.limits[kind]:
                # Made in parallel with the attempt that is about to lock.
                until.append(now + self.policy.window)
        if until:
            # A refused attempt checks no password, so it is not counted as a failure.
            for key in keys.values():
                await self._give_back(key)
            seconds = math.ceil((max(until) - now).total_seconds())
            minutes = max(1, math.ceil(seconds / 60))
            unit = "minute" if minutes == 1 else "minutes"
            raise Throttled(
                f"Too many failed sign-in attempts. Try again in {minutes} {unit}.", retry_after=seconds
            )

    async def record_failure(self, email: str, ip_address: str) -> None:
        """The counted attempt failed: lock what has reached its limit."""
        now = datetime.now(UTC)
        for kind, key in _keys(email, ip_address).items():
            await SignInThrottle.update({SignInThrottle.locked_until: now + self.policy.window}).where(
                (SignInThrottle.key == key)
                & (SignInThrottle.failures >= self.limits[kind])
                & (SignInThrottle.locked_until.is_null() | (SignInThrottle.locked_until <= now))
            )

    async def record_success(self, email: str, ip_address: str) -> None:
        """Forget the account's failures and give the address its attempt back."""
        keys = _keys(email, ip_address)
        await SignInThrottle.delete().where(SignInThrottle.key == keys["account"])
        await self._give_back(keys["ip"])

    async def _count_attempt(self, key: str, now: datetime) -> tuple[int, datetime | None]:
        """Count one attempt atomically; return its number in the window and the lock, if any."""
        await SignInThrottle.insert(
            SignInThrottle(key=key, failures=0, window_started_at=now, locked_until=None)
        ).on_conflict(action="DO NOTHING")
        # A window that has passed (and holds no lock) starts again.
        await SignInThrottle.update(
            {
                SignInThrottle.failures: 0,
                SignInThrottle.window_started_at: now,
                SignInThrottle.locked_until: None,
            }
        ).where(
            (SignInThrottle.key == key)
            & (SignInThrottle.window_started_at < now - self.policy.window)
            & (SignInThrottle.locked_until.is_null() | (SignInThrottle.locked_until <= now))
        )
        rows = (
            await SignInThrottle.update({SignInThrottle.failures: SignInThrottle.failures + 1})
            .where(SignInThrottle.key == key)
            .returning(SignInThrottle.failures, SignInThrottle.locked_until)
        )
        return int(rows[0]["failures"]), rows[0]["locked_until"]

    @staticmethod
    async def _give_back(key: str) -> None:
        await SignInThrottle.update({SignInThrottle.failures: SignInThrottle.failures - 1}).where(
            (SignInThrottle.key == key) & (SignInThrottle.failures > 0)
        )
