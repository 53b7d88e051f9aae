"""Clearing what the authorization server no longer needs: unused registrations, expired codes and
refresh tokens, grants no token can come from any more, revocations no token can match any more, old
rate-limit windows.

Each process sweeps once an hour (and once shortly after start); the statements are idempotent, so
processes sweeping at the same time do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import msgspec

from switchboard.identity.oauth.revocation import RevocationList
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthCode, OAuthGrant, OAuthRefreshToken, RateLimitWindow

log = logging.getLogger("switchboard.identity.oauth")
_INTERVAL = 3600.0
_FIRST_DELAY = 60.0


class Swept(msgspec.Struct, frozen=True):
    clients: int
    codes: int
    refresh_tokens: int
    grants: int
    revocations: int
    rate_limit_windows: int


async def sweep(server: AuthorizationServer) -> Swept:
    now = datetime.now(UTC)
    codes = (
        await OAuthCode.delete().where(OAuthCode.expires_at < now - timedelta(days=1)).returning(OAuthCode.id)
    )
    refresh_tokens = (
        await OAuthRefreshToken.delete()
        .where(OAuthRefreshToken.expires_at < now)
        .returning(OAuthRefreshToken.id)
    )
    # Every client-credentials token request makes a grant; once its last access token has expired (and a
    # revoked grant's too) nothing can come from it. Live grants of people stay: My apps shows their use.
    token_expired = now - server.lifetimes.access_token - timedelta(minutes=1)
    grants = (
        await OAuthGrant.delete()
        .where(
            (OAuthGrant.last_used_at < token_expired)
            & ((OAuthGrant.grant_type == "client_credentials") | OAuthGrant.revoked_at.is_not_null())
        )
        .returning(OAuthGrant.id)
    )
    windows = (
        await RateLimitWindow.delete()
        .where(RateLimitWindow.window_started_at < now - timedelta(days=1))
        .returning(RateLimitWindow.key)
    )
    return Swept(
        clients=await server.clients.remove_unused(),
        codes=len(codes),
        refresh_tokens=len(refresh_tokens),
        grants=len(grants),
        revocations=await RevocationList.prune(),
        rate_limit_windows=len(windows),
    )


class Housekeeper:
    """Runs ``sweep`` in the background while the app runs, with the sweeps of higher layers (``extra``:
    each returns how many rows it removed)."""

    def __init__(
        self, server: AuthorizationServer, extra: Sequence[Callable[[], Awaitable[int]]] = ()
    ) -> None:
        self._server = server
        self._extra = tuple(extra)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await asyncio.sleep(_FIRST_DELAY)
        while True:
            try:
                swept = await sweep(self._server)
                log.info("OAuth housekeeping: %s", msgspec.structs.asdict(swept))
                for extra in self._extra:
                    log.info("Housekeeping %s: %d removed", getattr(extra, "__name__", "task"), await extra())
            except Exception:  # a failed sweep must not end the loop; the next one tries again
                log.exception("OAuth housekeeping failed")
            await asyncio.sleep(_INTERVAL)
