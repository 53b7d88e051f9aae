"""An MCP server's tools: published recipes attached to it, and remote MCP servers' tools it offers directly.

A tool's name, title and description are those of the recipe's published version; versions never change,
so what a version says is read once (from the recipes) and kept in memory.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

import msgspec

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth import scopes
from switchboard.identity.principal import Actor
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound
from switchboard.platform.mcp.models import (
    RemoteTool,
    RemoteToolAttach,
    ServerTool,
    ToolAttach,
    ToolUpdate,
)
from switchboard.platform.mcp.servers import record_server_change
from switchboard.platform.mcp.tables import ServerRemoteTool as RemoteToolRow
from switchboard.platform.mcp.tables import ServerTool as ServerToolRow
from switchboard.recipes.model import TOOL_NAME_PATTERN
from switchboard.recipes.service import draft_trigger, published_triggers

if TYPE_CHECKING:
    from switchboard.platform.mcp.servers import ServerRecords, ServingCache


class Connections(Protocol):
    """What offering a remote tool asks of the connections (``ConnectionService`` provides it)."""

    async def get(self, connection_id: UUID) -> Connection: ...

    async def definition_of(self, connection: Connection) -> ConnectorDefinition: ...


class _Published(msgspec.Struct, frozen=True):
    name: str
    title: str
    description: str


class ServerTools:
    def __init__(self, *, records: ServerRecords, cache: ServingCache, audit: AuditLog | None = None) -> None:
        self._records = records
        self._cache = cache
        self._audit = audit or AuditLog()
        self._published: dict[tuple[UUID, int], _Published] = {}

    # --- recipes as tools -----------------------------------------------------------------------------

    async def list_all(self, server_id: UUID) -> list[ServerTool]:
        """The attached recipes, by tool name; ``published_version`` None for one never published."""
        # The recipe's draft tool name and published version are read through the tool's foreign key.
        rows = await ServerToolRow.select(
            ServerToolRow.recipe,
            ServerToolRow.scope,
            ServerToolRow.read_only,
            ServerToolRow.destructive,
            ServerToolRow.recipe.tool_name.as_alias("draft_name"),
            ServerToolRow.recipe.published_version.as_alias("published_version"),
        ).where(ServerToolRow.server == server_id)
        await self._load_published(rows)
        tools = []
        for row in rows:
            version = row["published_version"]
            published = self._published.get((row["recipe"], version)) if version is not None else None
            name = published.name if published else row["draft_name"]
            tools.append(
                ServerTool(
                    recipe_id=row["recipe"],
                    tool_name=name,
                    title=published.title if published else "",
                    description=published.description if published else "",
                    scope=row["scope"] or scopes.tool_scope(name),
                    read_only=row["read_only"],
                    destructive=row["destructive"],
                    published_version=version,
                )
            )
        return sorted(tools, key=lambda tool: tool.tool_name)

    async def attach(self, server_id: UUID, data: ToolAttach, *, actor: Actor) -> ServerTool:
        actor.require_builder()
        server = await self._records.get(server_id)
        draft = await draft_trigger(data.recipe_id)
        if draft is None:
            raise NotFound("There is no such recipe.", field="recipe_id")
        tools = await self.list_all(server_id)
        if any(tool.recipe_id == data.recipe_id for tool in tools):
            raise Conflict("This recipe is a tool of this server already.", field="recipe_id")
        if any(tool.tool_name == draft.name for tool in tools):
            raise Conflict(f"This server has a tool called {draft.name} already.", field="recipe_id")
        await ServerToolRow.insert(
            ServerToolRow(
                server=server_id,
                recipe=data.recipe_id,
                scope=_scope(data.scope),
                read_only=data.read_only,
                destructive=data.destructive,
            )
        )
        self._cache.changed()
        tool = await self._tool(server_id, data.recipe_id)
        await record_server_change(
            self._audit, actor, "server.tool_attached", server, f"tool {tool.tool_name}"
        )
        return tool

    async def update(self, server_id: UUID, recipe_id: UUID, data: ToolUpdate, *, actor: Actor) -> ServerTool:
        actor.require_builder()
        before = await self._tool(server_id, recipe_id)
        values: dict[Any, Any] = {}
        if data.scope is not None:
            values[ServerToolRow.scope] = _scope(data.scope)
        if data.read_only is not None:
            values[ServerToolRow.read_only] = data.read_only
        if data.destructive is not None:
            values[ServerToolRow.destructive] = data.destructive
        if values:
            await ServerToolRow.update(values).where(
                (ServerToolRow.server == server_id) & (ServerToolRow.recipe == recipe_id)
            )
            self._cache.changed()
        after = await self._tool(server_id, recipe_id)
        changed = [
            f"{field}: {getattr(before, field)} → {getattr(after, field)}"
            for field in ("scope", "read_only", "destructive")
            if getattr(before, field) != getattr(after, field)
        ]
        if changed:
            server = await self._records.get(server_id)
            reason = f"tool {after.tool_name}: {'; '.join(changed)}"
            await record_server_change(self._audit, actor, "server.tool_changed", server, reason)
        return after

    async def detach(self, server_id: UUID, recipe_id: UUID, *, actor: Actor) -> None:
        actor.require_builder()
        tool = await self._tool(server_id, recipe_id)
        await ServerToolRow.delete().where(
            (ServerToolRow.server == server_id) & (ServerToolRow.recipe == recipe_id)
        )
        self._cache.changed()
        server = await self._records.get(server_id)
        await record_server_change(
            self._audit, actor, "server.tool_detached", server, f"tool {tool.tool_name}"
        )

    # --- remote tools offered directly ----------------------------------------------------------------

    async def list_remote(self, server_id: UUID) -> list[RemoteTool]:
        # The connection's name and connector are read through the tool's foreign key.
        rows = await RemoteToolRow.select(
            RemoteToolRow.id,
            RemoteToolRow.name,
            RemoteToolRow.connection,
            RemoteToolRow.connection.name.as_alias("connection_name"),
            RemoteToolRow.connection.connector.as_alias("connector"),
            RemoteToolRow.action,
            RemoteToolRow.scope,
            RemoteToolRow.read_only,
            RemoteToolRow.destructive,
        ).where(RemoteToolRow.server == server_id)
        tools = [
            RemoteTool(
                id=row["id"],
                tool_name=row["name"],
                connection_id=row["connection"],
                connection_name=row["connection_name"],
                connector=row["connector"],
                action=row["action"],
                scope=row["scope"] or scopes.tool_scope(row["name"]),
                read_only=row["read_only"],
                destructive=row["destructive"],
            )
            for row in rows
        ]
        return sorted(tools, key=lambda tool: tool.tool_name)

    async def attach_remote(
        self, server_id: UUID, data: RemoteToolAttach, *, connections: Connections, actor: Actor
    ) -> RemoteTool:
        """Offer a remote server's tool directly, called through ``data.connection_id``."""
        actor.require_builder()
        server = await self._records.get(server_id)
        try:
            connection = await connections.get(data.connection_id)
        except NotFound:
            raise NotFound("There is no such connection.", field="connection_id") from None
        definition = await connections.definition_of(connection)
        if definition.mcp is None:
            raise InvalidInput(
                f"{connection.name} is not a connection to a remote MCP server.", field="connection_id"
            )
        if definition.action(data.action) is None:
            raise InvalidInput(f"{definition.name} has no tool {data.action!r}.", field="action")
        name = data.name or data.action
        if not re.fullmatch(TOOL_NAME_PATTERN, name):
            raise InvalidInput(
                "A tool name uses a-z, 0-9 and _, starting with a letter (at most 64).", field="name"
            )
        taken = {tool.tool_name for tool in await self.list_all(server_id)}
        taken |= {tool.tool_name for tool in await self.list_remote(server_id)}
        if name in taken:
            raise Conflict(f"This server has a tool called {name} already.", field="name")
        tool_id = uuid4()
        await RemoteToolRow.insert(
            RemoteToolRow(
                id=tool_id,
                server=server_id,
                connection=data.connection_id,
                action=data.action,
                name=name,
                scope=_scope(data.scope),
                read_only=data.read_only,
                destructive=data.destructive,
            )
        )
        self._cache.changed()
        reason = f"tool {name}: {data.action} through {connection.name}"
        await record_server_change(self._audit, actor, "server.remote_tool_attached", server, reason)
        return next(tool for tool in await self.list_remote(server_id) if tool.id == tool_id)

    async def detach_remote(self, server_id: UUID, tool_id: UUID, *, actor: Actor) -> None:
        actor.require_builder()
        deleted = (
            await RemoteToolRow.delete()
            .where((RemoteToolRow.server == server_id) & (RemoteToolRow.id == tool_id))
            .returning(RemoteToolRow.name)
        )
        if not deleted:
            raise NotFound("This remote tool is not offered by this server.", field="tool_id")
        self._cache.changed()
        server = await self._records.get(server_id)
        reason = f"tool {deleted[0]['name']}"
        await record_server_change(self._audit, actor, "server.remote_tool_detached", server, reason)

    async def _tool(self, server_id: UUID, recipe_id: UUID) -> ServerTool:
        tool = next((tool for tool in await self.list_all(server_id) if tool.recipe_id == recipe_id), None)
        if tool is None:
            raise NotFound("This recipe is not a tool of this server.", field="recipe_id")
        return tool

    async def _load_published(self, rows: list[dict[str, Any]]) -> None:
        missing = {
            (row["recipe"], row["published_version"])
            for row in rows
            if row["published_version"] is not None
            and (row["recipe"], row["published_version"]) not in self._published
        }
        if not missing:
            return
        for (recipe, version), trigger in (await published_triggers(missing)).items():
            self._published[(recipe, version)] = _Published(trigger.name, trigger.title, trigger.description)


def _scope(scope: str) -> str:
    scope = scope.strip()
    if scope and not scopes.is_well_formed(scope):
        raise InvalidInput(
            "A scope is one word of visible characters, such as mcp:tools:create_task.", field="scope"
        )
    return scope
