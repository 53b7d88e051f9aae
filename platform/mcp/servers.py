"""MCP servers: create, change, delete and look them up, and the serving cache MCP requests are answered from.

``ServerService`` is also the ``ServerLookup`` the MCP endpoint and the authorization server read: a
server's settings and tools come from the serving cache, while who may use it (``server_groups``), its
tools as stored (``server_tools``) and its API tokens (``server_tokens``) are asked of those parts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID, uuid4

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.services.users import validate_text
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound
from switchboard.platform.mcp.models import (
    SLUG,
    AccessMethod,
    ClientRateLimit,
    McpServer,
    RemoteTool,
    ServerCreate,
    ServerGroup,
    ServerToken,
    ServerTool,
    ServerUpdate,
    Standing,
)
from switchboard.platform.mcp.tables import Server as ServerRow
from switchboard.platform.mcp.tables import ServerClientLimit as ServerClientLimitRow
from switchboard.platform.mcp.tables import ServerGroup as ServerGroupRow

if TYPE_CHECKING:
    from switchboard.platform.mcp.server_groups import ServerGroups
    from switchboard.platform.mcp.server_tokens import ServerTokens
    from switchboard.platform.mcp.server_tools import ServerTools

# How long a process serves a server's settings and tools as it read them: changes made in this process
# apply at once, changes made by another process (another worker, the CLI) and newly published recipe
# versions within this time. Who may use a server is never kept: ``standing`` reads it on every request.
SERVING_TTL = 2.0

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """Values kept for ``SERVING_TTL`` seconds after they were loaded (a failed load keeps nothing)."""

    def __init__(self) -> None:
        self._values: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = await load()
        if len(self._values) > 1000:
            self._values.clear()
        self._values[key] = (now + SERVING_TTL, value)
        return value

    def clear(self) -> None:
        self._values.clear()


class ServingCache:
    """What this process answers MCP requests with: servers by slug, their tools and remote tools. Any
    change made through this process's services (``changed``) clears all of it."""

    def __init__(self) -> None:
        self.servers: Kept[str, McpServer] = Kept()
        self.tools: Kept[UUID, list[ServerTool]] = Kept()
        self.remote_tools: Kept[UUID, list[RemoteTool]] = Kept()

    def changed(self) -> None:
        self.servers.clear()
        self.tools.clear()
        self.remote_tools.clear()


class ServerRecords:
    """Servers as stored, each with the end-user groups that may use it and its clients' own rate limits."""

    async def list_all(self) -> list[McpServer]:
        rows = await ServerRow.select().order_by(ServerRow.name)
        groups = await self._groups([row["id"] for row in rows])
        limits = await self._client_limits([row["id"] for row in rows])
        return [_server(row, groups.get(row["id"], ()), limits.get(row["id"], ())) for row in rows]

    async def get(self, server_id: UUID) -> McpServer:
        row = await ServerRow.select().where(ServerRow.id == server_id).first()
        if row is None:
            raise NotFound("There is no such MCP server.", field="server_id")
        limits = (await self._client_limits([server_id])).get(server_id, ())
        return _server(row, (await self._groups([server_id])).get(server_id, ()), limits)

    async def get_by_slug(self, slug: str) -> McpServer:
        row = await ServerRow.select().where(ServerRow.slug == slug).first()
        if row is None:
            raise NotFound(f"There is no MCP server {slug}.", field="slug")
        limits = (await self._client_limits([row["id"]])).get(row["id"], ())
        return _server(row, (await self._groups([row["id"]])).get(row["id"], ()), limits)

    async def _groups(self, server_ids: list[UUID]) -> dict[UUID, tuple[ServerGroup, ...]]:
        if not server_ids:
            return {}
        # The group's name is read through the assignment's foreign key.
        rows = await ServerGroupRow.select(
            ServerGroupRow.server, ServerGroupRow.group, ServerGroupRow.group.name.as_alias("group_name")
        ).where(ServerGroupRow.server.is_in(server_ids))
        found: dict[UUID, list[ServerGroup]] = {}
        for row in rows:
            found.setdefault(row["server"], []).append(ServerGroup(id=row["group"], name=row["group_name"]))
        return {key: tuple(sorted(groups, key=lambda g: g.name.lower())) for key, groups in found.items()}

    async def _client_limits(self, server_ids: list[UUID]) -> dict[UUID, tuple[ClientRateLimit, ...]]:
        if not server_ids:
            return {}
        rows = await ServerClientLimitRow.select().where(ServerClientLimitRow.server.is_in(server_ids))
        found: dict[UUID, list[ClientRateLimit]] = {}
        for row in sorted(rows, key=lambda row: row["client_id"]):
            limit = ClientRateLimit(
                client_id=row["client_id"], rate_limit_per_minute=row["rate_limit_per_minute"]
            )
            found.setdefault(row["server"], []).append(limit)
        return {key: tuple(limits) for key, limits in found.items()}


class ServerService:
    """Create, change and delete servers (each change recorded in the audit trail); look them up, fresh or
    (``serving``) from the serving cache."""

    def __init__(
        self,
        *,
        records: ServerRecords,
        cache: ServingCache,
        groups: ServerGroups,
        tools: ServerTools,
        tokens: ServerTokens,
        audit: AuditLog | None = None,
    ) -> None:
        self._records = records
        self._cache = cache
        self._groups = groups
        self._tools = tools
        self._tokens = tokens
        self._audit = audit or AuditLog()

    async def list_all(self) -> list[McpServer]:
        return await self._records.list_all()

    async def get(self, server_id: UUID) -> McpServer:
        return await self._records.get(server_id)

    async def get_by_slug(self, slug: str) -> McpServer:
        return await self._records.get_by_slug(slug)

    async def create(self, data: ServerCreate, *, actor: Actor) -> McpServer:
        actor.require_admin()
        slug = _slug(data.slug)
        now = datetime.now(UTC)
        row = ServerRow(
            id=uuid4(),
            slug=slug,
            name=clean_name(data.name),
            description=_text(data.description, "description", 500),
            instructions=_text(data.instructions, "instructions", 4000),
            access_method=AccessMethod(data.access_method).value,
            rate_limit_per_minute=_rate(data.rate_limit_per_minute),
            created_at=now,
            updated_at=now,
        )
        try:
            await row.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"There is already an MCP server {slug}.", field="slug") from None
            raise
        server = await self.get(row.id)
        await record_server_change(self._audit, actor, "server.created", server, f"slug {server.slug}")
        return server

    async def update(self, server_id: UUID, data: ServerUpdate, *, actor: Actor) -> McpServer:
        actor.require_admin()
        before = await self.get(server_id)
        values: dict[Any, Any] = {ServerRow.updated_at: datetime.now(UTC)}
        if data.name is not None:
            values[ServerRow.name] = clean_name(data.name)
        if data.description is not None:
            values[ServerRow.description] = _text(data.description, "description", 500)
        if data.instructions is not None:
            values[ServerRow.instructions] = _text(data.instructions, "instructions", 4000)
        if data.access_method is not None:
            values[ServerRow.access_method] = AccessMethod(data.access_method).value
        if data.rate_limit_per_minute is not None:
            values[ServerRow.rate_limit_per_minute] = _rate(data.rate_limit_per_minute)
        await ServerRow.update(values).where(ServerRow.id == server_id)
        self._cache.changed()
        after = await self.get(server_id)
        if changes := _changes(before, after):
            await record_server_change(self._audit, actor, "server.changed", after, changes)
        return after

    async def delete(self, server_id: UUID, *, actor: Actor) -> None:
        actor.require_admin()
        server = await self.get(server_id)
        await ServerRow.delete().where(ServerRow.id == server_id)
        self._cache.changed()
        await record_server_change(self._audit, actor, "server.deleted", server, f"slug {server.slug}")

    # --- what answering MCP requests reads (``ServerLookup``) -------------------------------------------

    async def serving(self, slug: str) -> McpServer:
        """``get_by_slug`` for answering MCP requests: kept for ``SERVING_TTL`` seconds (see there)."""
        return await self._cache.servers.get(slug, lambda: self.get_by_slug(slug))

    async def serving_tools(self, server_id: UUID) -> list[ServerTool]:
        """``tools`` for answering MCP requests, kept like ``serving`` (a newly published version of a
        recipe is served within ``SERVING_TTL`` seconds)."""
        return await self._cache.tools.get(server_id, lambda: self._tools.list_all(server_id))

    async def serving_remote_tools(self, server_id: UUID) -> list[RemoteTool]:
        """``remote_tools`` for answering MCP requests, kept like ``serving``."""
        return await self._cache.remote_tools.get(server_id, lambda: self._tools.list_remote(server_id))

    async def standing(self, server_id: UUID, user_id: UUID, client_id: str) -> Standing | None:
        """See ``ServerGroups.standing``: read on every request, never kept."""
        return await self._groups.standing(server_id, user_id, client_id)

    async def may_use(self, server_id: UUID, user_id: UUID) -> bool:
        return await self._groups.may_use(server_id, user_id)

    async def usable_by(self, user_id: UUID) -> list[McpServer]:
        """The Identity servers the person may use, by name: the same rule as each MCP request's
        (``may_use``), asked of every server that has groups."""
        servers = await self._records.list_all()
        return [
            server
            for server in servers
            if server.access_method is AccessMethod.IDENTITY
            and server.groups
            and await self._groups.may_use(server.id, user_id)
        ]

    async def tools(self, server_id: UUID) -> list[ServerTool]:
        return await self._tools.list_all(server_id)

    async def remote_tools(self, server_id: UUID) -> list[RemoteTool]:
        return await self._tools.list_remote(server_id)

    async def verify_token(self, server_id: UUID, secret: str) -> ServerToken | None:
        return await self._tokens.verify(server_id, secret)


def _server(
    row: dict[str, Any], groups: tuple[ServerGroup, ...], limits: tuple[ClientRateLimit, ...]
) -> McpServer:
    return McpServer(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        instructions=row["instructions"],
        access_method=AccessMethod(row["access_method"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        client_rate_limits=limits,
        groups=groups,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def record_server_change(
    audit: AuditLog, actor: Actor, action: str, server: McpServer, reason: str = ""
) -> None:
    """Audit a change ``actor`` made to ``server`` or to its groups, tools or tokens (``reason`` says
    which)."""
    await audit.change(
        actor, action, object_type="server", object_id=server.id, object_name=server.name, reason=reason
    )


def _changes(before: McpServer, after: McpServer) -> str:
    """What a change of settings changed, in words: old and new values, but only the names of the texts."""
    changed = []
    if before.name != after.name:
        changed.append(f"name: {before.name} → {after.name}")
    changed += [
        field for field in ("description", "instructions") if getattr(before, field) != getattr(after, field)
    ]
    if before.access_method != after.access_method:
        changed.append(f"access method: {before.access_method.value} → {after.access_method.value}")
    if before.rate_limit_per_minute != after.rate_limit_per_minute:
        changed.append(f"rate limit: {before.rate_limit_per_minute} → {after.rate_limit_per_minute} a minute")
    return "; ".join(changed)


def clean_name(name: str) -> str:
    """A server's or an API token's name: one line, 1 to 80 characters."""
    name = validate_text(" ".join(name.split()), field="name")
    if not name:
        raise InvalidInput("Enter a name.", field="name")
    if len(name) > 80:
        raise InvalidInput("A name can have at most 80 characters.", field="name")
    return name


def _slug(slug: str) -> str:
    slug = slug.strip()
    if not SLUG.fullmatch(slug):
        raise InvalidInput(
            "Use lower-case letters, digits and hyphens (at most 64, not starting or ending with a hyphen).",
            field="slug",
        )
    return slug


def _text(text: str, field: str, limit: int) -> str:
    text = validate_text(text.strip(), field=field)
    if len(text) > limit:
        raise InvalidInput(f"This can have at most {limit} characters.", field=field)
    return text


def _rate(limit: int) -> int:
    if not 0 <= limit <= 100_000:
        raise InvalidInput(
            "Enter a number of requests a minute from 0 (no limit) to 100000.",
            field="rate_limit_per_minute",
        )
    return limit
