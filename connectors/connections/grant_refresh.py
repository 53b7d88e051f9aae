"""Refreshing a grant's access token (RFC 6749 §6) once at a time across every caller and process.

The process that takes the grant's database lease refreshes; the others wait for the new token and use
it. A refused refresh (``invalid_grant``) marks the grant as needing reconnection; any other fault of the
app's authorization server leaves the stored grant as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.errors import ProviderError
from switchboard.connectors.connections.grant_store import UNREADABLE, GrantStore, Row
from switchboard.connectors.connections.models import Connection, GrantStatus
from switchboard.connectors.connections.provider import ClientCredentials, ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.tables import UserGrant

REFRESH_LEEWAY = timedelta(seconds=60)
LEASE = timedelta(seconds=30)


class GrantUnusable(Exception):
    """The grant is gone or cannot be refreshed: its person (or a builder) must connect again."""


def expiring(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at - REFRESH_LEEWAY <= datetime.now(UTC)


class GrantRefresher:
    def __init__(
        self, *, store: GrantStore, connections: ConnectionService, provider: ProviderClient
    ) -> None:
        self._store = store
        self._connections = connections
        self._provider = provider
        self._locks: dict[UUID, asyncio.Lock] = {}

    async def refreshed(
        self, connection: Connection, grant: Row, stale: Callable[[Row], bool] | None = None
    ) -> Row:
        """The grant's row after a refresh, made once across every caller: take the lease, or wait for
        whoever holds it. ``stale`` says whether a row still needs refreshing (by default: its access
        token is about to expire). Raises ``GrantUnusable``, or ``ProviderError`` for the app's faults."""
        needs = stale or (lambda row: expiring(row["expires_at"]))
        lock = self._locks.setdefault(grant["id"], asyncio.Lock())
        async with lock:
            deadline = datetime.now(UTC) + LEASE + timedelta(seconds=5)
            while True:
                current = await self._connected(grant["id"])
                if not needs(current):
                    return current
                now = datetime.now(UTC)
                taken = (
                    await UserGrant.update({UserGrant.lease_until: now + LEASE})
                    .where(
                        (UserGrant.id == grant["id"])
                        & (UserGrant.lease_until.is_null() | (UserGrant.lease_until < now))
                    )
                    .returning(UserGrant.id)
                )
                if taken:
                    # Read again under the lease: another process may have refreshed (and released its
                    # lease) since ``current`` was read, spending the refresh token it holds.
                    leased = await self._connected(grant["id"])
                    if not needs(leased):
                        await UserGrant.update({UserGrant.lease_until: None}).where(
                            UserGrant.id == grant["id"]
                        )
                        return leased
                    return await self._refresh(connection, leased)
                if now > deadline:
                    raise ProviderError(
                        "Another refresh of this connection is taking too long; try again in a moment.",
                        problem="unreachable",
                    )
                await asyncio.sleep(0.1)

    async def _connected(self, grant_id: UUID) -> Row:
        """The grant row as it is now; GrantUnusable when it is gone or needs reconnecting."""
        row = await self._store.by_id(grant_id)
        if row is None or row["status"] != GrantStatus.CONNECTED:
            raise GrantUnusable
        return row

    async def _refresh(self, connection: Connection, grant: Row) -> Row:
        stored = self._store.open(grant)
        release = UserGrant.update({UserGrant.lease_until: None}).where(UserGrant.id == grant["id"])
        if stored is None or not stored.refresh_token:
            reason = (
                UNREADABLE
                if stored is None
                else "The app gave no refresh token and the access token expired."
            )
            await self._store.mark(grant["id"], reason)
            raise GrantUnusable
        definition = await self._connections.definition_of(connection)
        endpoints = endpoints_for(connection, definition)
        credentials = await self._connections.credentials(connection.id)
        try:
            tokens = await self._provider.refresh(
                endpoints,
                ClientCredentials(connection.client_id, credentials.client_secret),
                stored.refresh_token,
            )
        except ProviderError as exc:
            if exc.problem == "invalid_grant":
                await self._store.mark(grant["id"], exc.message)
                await self._store.record(
                    "connection.refresh", connection, grant["user"], outcome="refused", reason=exc.message
                )
                raise GrantUnusable from exc
            await release
            raise
        values: dict[Any, Any] = {
            UserGrant.tokens: self._store.seal(tokens, keep_refresh=stored.refresh_token),
            UserGrant.expires_at: tokens.expires_at,
            UserGrant.refreshed_at: datetime.now(UTC),
            UserGrant.lease_until: None,
        }
        if tokens.scope:
            values[UserGrant.scopes] = tokens.scope
        await UserGrant.update(values).where(UserGrant.id == grant["id"])
        refreshed = await self._store.by_id(grant["id"])
        assert refreshed is not None
        return refreshed
