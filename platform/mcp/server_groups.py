"""Who may use an MCP server: the end-user groups assigned to it, and where a token's user stands with it.

Who may use a server is never kept. Identity owns the question (its users, groups and clients); the
server's groups go into it as a sub-query over ``mcp_server_group``, so each MCP request still asks one
query, and a change of the user's groups or of the server's groups applies from the next request on, in
every process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from piccolo.querystring import QueryString

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.services.groups import GroupService
from switchboard.identity.services.standing import StandingService
from switchboard.platform.core.errors import NotFound
from switchboard.platform.mcp.models import McpServer, Standing
from switchboard.platform.mcp.servers import record_server_change
from switchboard.platform.mcp.tables import ServerGroup as ServerGroupRow

if TYPE_CHECKING:
    from switchboard.platform.mcp.servers import ServerRecords, ServingCache


class ServerGroups:
    def __init__(
        self,
        *,
        records: ServerRecords,
        cache: ServingCache,
        groups: GroupService,
        standing: StandingService,
        audit: AuditLog | None = None,
    ) -> None:
        self._records = records
        self._cache = cache
        self._groups = groups
        self._standing = standing
        self._audit = audit or AuditLog()

    async def add(self, server_id: UUID, group_ids: list[UUID], *, actor: Actor) -> McpServer:
        """Let the members of ``group_ids`` use the server; groups it has already are left as they are."""
        actor.require_admin()
        server = await self._records.get(server_id)
        wanted = list(dict.fromkeys(group_ids))
        found = await self._groups.existing(wanted)
        if any(group_id not in found for group_id in wanted):
            raise NotFound("There is no such user group.", field="group_ids")
        assigned = {group.id for group in server.groups}
        added = [group_id for group_id in wanted if group_id not in assigned]
        for group_id in added:
            await ServerGroupRow.insert(ServerGroupRow(server=server_id, group=group_id))
        self._cache.changed()
        server = await self._records.get(server_id)
        for group in server.groups:
            if group.id in added:
                await record_server_change(
                    self._audit, actor, "server.group_added", server, f"group {group.name}"
                )
        return server

    async def remove(self, server_id: UUID, group_id: UUID, *, actor: Actor) -> McpServer:
        actor.require_admin()
        server = await self._records.get(server_id)
        removed = (
            await ServerGroupRow.delete()
            .where((ServerGroupRow.server == server_id) & (ServerGroupRow.group == group_id))
            .returning(ServerGroupRow.group)
        )
        self._cache.changed()
        group = next((group for group in server.groups if group.id == group_id), None)
        if removed and group is not None:
            await record_server_change(
                self._audit, actor, "server.group_removed", server, f"group {group.name}"
            )
        return await self._records.get(server_id)

    async def may_use(self, server_id: UUID, user_id: UUID) -> bool:
        """Whether the user is in one of the server's groups (one query)."""
        return await self._standing.in_allowed_group(user_id, allowed_groups=_allowed(server_id))

    async def standing(self, server_id: UUID, user_id: UUID, client_id: str) -> Standing | None:
        """Whether the client still exists, the user is active and may use the server (None: no such
        user), read fresh in one query: a deleted client, a deactivated user, a removed member or a
        removed group count at once."""
        found = await self._standing.standing(user_id, client_id, allowed_groups=_allowed(server_id))
        if found is None:
            return None
        return Standing(
            client_exists=found.client_exists,
            is_active=found.is_active,
            email=found.email,
            name=found.name,
            groups=found.groups,
            may_use=found.allowed,
            service_account=found.service_account,
        )


_ALLOWED = 'SELECT "group" FROM mcp_server_group WHERE server = {}'  # the table of ServerGroupRow


def _allowed(server_id: UUID) -> QueryString:
    """The ids of the groups that may use the server, as a sub-query identity runs within its own (written
    out: building it with Piccolo's query builder costs more than running it)."""
    return QueryString(_ALLOWED, server_id)
