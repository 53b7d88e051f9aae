"""Rate limits of single clients on a server: an admin lets one client send more (or fewer) requests a
minute than the server allows each of its clients. What counts and how is ``rate_limits.py``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.services.users import validate_text
from switchboard.platform.core.errors import InvalidInput, NotFound
from switchboard.platform.mcp.models import McpServer
from switchboard.platform.mcp.servers import record_server_change
from switchboard.platform.mcp.tables import ServerClientLimit as LimitRow

if TYPE_CHECKING:
    from switchboard.platform.mcp.servers import ServerRecords, ServingCache

MAX_PER_MINUTE = 100_000


class ServerLimits:
    def __init__(self, *, records: ServerRecords, cache: ServingCache, audit: AuditLog | None = None) -> None:
        self._records = records
        self._cache = cache
        self._audit = audit or AuditLog()

    async def set_for_client(self, server_id: UUID, client_id: str, limit: int, *, actor: Actor) -> McpServer:
        """Give ``client_id`` a limit of its own on the server (0: none), or change the one it has."""
        actor.require_admin()
        server = await self._records.get(server_id)
        client_id = _client_id(client_id)
        limit = rate_limit(limit)
        await LimitRow.insert(
            LimitRow(server=server_id, client_id=client_id, rate_limit_per_minute=limit)
        ).on_conflict(
            target=(LimitRow.server, LimitRow.client_id),
            action="DO UPDATE",
            values=[LimitRow.rate_limit_per_minute],
        )
        self._cache.changed()
        reason = f"client {client_id}: {limit} requests a minute"
        await record_server_change(self._audit, actor, "server.client_limit_set", server, reason)
        return await self._records.get(server_id)

    async def remove_for_client(self, server_id: UUID, client_id: str, *, actor: Actor) -> McpServer:
        """Take a client's own limit away: it has the server's again."""
        actor.require_admin()
        server = await self._records.get(server_id)
        removed = (
            await LimitRow.delete()
            .where((LimitRow.server == server_id) & (LimitRow.client_id == client_id.strip()))
            .returning(LimitRow.client_id)
        )
        if not removed:
            raise NotFound(
                f"{client_id.strip()} has no limit of its own on {server.slug}.", field="client_id"
            )
        self._cache.changed()
        reason = f"client {removed[0]['client_id']}"
        await record_server_change(self._audit, actor, "server.client_limit_removed", server, reason)
        return await self._records.get(server_id)


def rate_limit(limit: int) -> int:
    if not 0 <= limit <= MAX_PER_MINUTE:
        raise InvalidInput(
            f"Enter a number of requests a minute from 0 (no limit) to {MAX_PER_MINUTE}.",
            field="rate_limit_per_minute",
        )
    return limit


def _client_id(client_id: str) -> str:
    client_id = validate_text(client_id.strip(), field="client_id")
    if not client_id:
        raise InvalidInput("Choose a client.", field="client_id")
    if len(client_id) > 600:
        raise InvalidInput("A client id has at most 600 characters.", field="client_id")
    return client_id
