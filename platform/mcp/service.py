"""MCP servers: create and change them, who may use them (groups), their tools, and their API tokens.

A tool's name, title and description are those of the recipe's published version; versions never change,
so what a version says is read once and kept in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

import msgspec

from switchboard.connectors.connections.service import Definitions
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.identity.oauth import scopes
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import validate_text
from switchboard.identity.tables import Group, GroupMember
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound
from switchboard.platform.mcp.models import (
    SLUG,
    AccessMethod,
    McpServer,
    NewServerToken,
    RemoteTool,
    RemoteToolAttach,
    ServerCreate,
    ServerGroup,
    ServerToken,
    ServerTool,
    ServerUpdate,
    Standing,
    ToolAttach,
    ToolUpdate,
)
from switchboard.platform.mcp.tables import Server as ServerRow
from switchboard.platform.mcp.tables import ServerGroup as ServerGroupRow
from switchboard.platform.mcp.tables import ServerRemoteTool as RemoteToolRow
from switchboard.platform.mcp.tables import ServerToken as TokenRow
from switchboard.platform.mcp.tables import ServerTool as ServerToolRow
from switchboard.recipes.model import TOOL_NAME_PATTERN, decode_definition
from switchboard.recipes.tables import Recipe as RecipeRow
from switchboard.recipes.tables import RecipeVersion as VersionRow

TOKEN_PREFIX = "sbt_"  # noqa: S105 (how server API tokens start, not a secret)
_TOUCH_EVERY = timedelta(minutes=1)
# How long a process serves a server's settings and tools as it read them: changes made in this process
# apply at once, changes made by another process (another worker, the CLI) and newly published recipe
# versions within this time. Who may use a server is never kept: ``standing`` reads it on every request.
SERVING_TTL = 2.0

# The token's client, its user, the user's groups and which of them may use the server, in one query.
_STANDING = """
SELECT u.email, u.name, u.is_active, u.kind,
  EXISTS (SELECT 1 FROM identity_oauth_client c WHERE c.client_id = {}) AS client_exists,
  g.name AS group_name,
  EXISTS (SELECT 1 FROM mcp_server_group sg WHERE sg.server = {} AND sg."group" = g.id) AS assigned
FROM identity_user u
LEFT JOIN identity_group_member m ON m."user" = u.id
LEFT JOIN identity_group g ON g.id = m."group"
WHERE u.id = {}
"""


K = TypeVar("K")
V = TypeVar("V")


class _Kept(Generic[K, V]):
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


class _Published(msgspec.Struct, frozen=True):
    name: str
    title: str
    description: str


class ServerService:
    def __init__(self) -> None:
        self._published: dict[tuple[UUID, int], _Published] = {}
        self._serving: _Kept[str, McpServer] = _Kept()
        self._serving_tools: _Kept[UUID, list[ServerTool]] = _Kept()
        self._serving_remote: _Kept[UUID, list[RemoteTool]] = _Kept()

    # --- servers --------------------------------------------------------------------------------------

    async def list_all(self) -> list[McpServer]:
        rows = await ServerRow.select().order_by(ServerRow.name)
        groups = await self._groups([row["id"] for row in rows])
        return [_server(row, groups.get(row["id"], ())) for row in rows]

    async def get(self, server_id: UUID) -> McpServer:
        row = await ServerRow.select().where(ServerRow.id == server_id).first()
        if row is None:
            raise NotFound("There is no such MCP server.", field="server_id")
        return _server(row, (await self._groups([server_id])).get(server_id, ()))

    async def get_by_slug(self, slug: str) -> McpServer:
        row = await ServerRow.select().where(ServerRow.slug == slug).first()
        if row is None:
            raise NotFound(f"There is no MCP server {slug}.", field="slug")
        return _server(row, (await self._groups([row["id"]])).get(row["id"], ()))

    async def serving(self, slug: str) -> McpServer:
        """``get_by_slug`` for answering MCP requests: kept for ``SERVING_TTL`` seconds (see there)."""
        return await self._serving.get(slug, lambda: self.get_by_slug(slug))

    async def serving_tools(self, server_id: UUID) -> list[ServerTool]:
        """``tools`` for answering MCP requests, kept like ``serving`` (a newly published version of a
        recipe is served within ``SERVING_TTL`` seconds)."""
        return await self._serving_tools.get(server_id, lambda: self.tools(server_id))

    async def serving_remote_tools(self, server_id: UUID) -> list[RemoteTool]:
        """``remote_tools`` for answering MCP requests, kept like ``serving``."""
        return await self._serving_remote.get(server_id, lambda: self.remote_tools(server_id))

    def _changed(self) -> None:
        self._serving.clear()
        self._serving_tools.clear()
        self._serving_remote.clear()

    async def standing(self, server_id: UUID, user_id: UUID, client_id: str) -> Standing | None:
        """Whether the client still exists, the user is active and may use the server (None: no such
        user), read fresh: a deleted client, a deactivated user or a removed group count at once."""
        rows = await ServerRow.raw(_STANDING, client_id, server_id, user_id)
        if not rows:
            return None
        first = rows[0]
        names = sorted({row["group_name"] for row in rows if row["group_name"] is not None}, key=str.lower)
        return Standing(
            client_exists=bool(first["client_exists"]),
            is_active=bool(first["is_active"]),
            email=first["email"],
            name=first["name"],
            groups=tuple(names),
            may_use=any(bool(row["assigned"]) for row in rows if row["group_name"] is not None),
            service_account=first["kind"] == "service",
        )

    async def create(self, data: ServerCreate, *, actor: Principal | None) -> McpServer:
        if actor is not None:
            actor.require_admin()
        slug = _slug(data.slug)
        now = datetime.now(UTC)
        row = ServerRow(
            id=uuid4(),
            slug=slug,
            name=_name(data.name),
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
        return await self.get(row.id)

    async def update(self, server_id: UUID, data: ServerUpdate, *, actor: Principal | None) -> McpServer:
        if actor is not None:
            actor.require_admin()
        await self.get(server_id)
        values: dict[Any, Any] = {ServerRow.updated_at: datetime.now(UTC)}
        if data.name is not None:
            values[ServerRow.name] = _name(data.name)
        if data.description is not None:
            values[ServerRow.description] = _text(data.description, "description", 500)
        if data.instructions is not None:
            values[ServerRow.instructions] = _text(data.instructions, "instructions", 4000)
        if data.access_method is not None:
            values[ServerRow.access_method] = AccessMethod(data.access_method).value
        if data.rate_limit_per_minute is not None:
            values[ServerRow.rate_limit_per_minute] = _rate(data.rate_limit_per_minute)
        await ServerRow.update(values).where(ServerRow.id == server_id)
        self._changed()
        return await self.get(server_id)

    async def delete(self, server_id: UUID, *, actor: Principal | None) -> None:
        if actor is not None:
            actor.require_admin()
        await self.get(server_id)
        await ServerRow.delete().where(ServerRow.id == server_id)
        self._changed()

    # --- who may use it -------------------------------------------------------------------------------

    async def add_groups(
        self, server_id: UUID, group_ids: list[UUID], *, actor: Principal | None
    ) -> McpServer:
        if actor is not None:
            actor.require_admin()
        server = await self.get(server_id)
        wanted = list(dict.fromkeys(group_ids))
        found = (
            {row["id"] for row in await Group.select(Group.id).where(Group.id.is_in(wanted))}
            if wanted
            else set()
        )
        missing = [group_id for group_id in wanted if group_id not in found]
        if missing:
            raise NotFound("There is no such user group.", field="group_ids")
        assigned = {group.id for group in server.groups}
        for group_id in wanted:
            if group_id not in assigned:
                await ServerGroupRow.insert(ServerGroupRow(server=server_id, group=group_id))
        self._changed()
        return await self.get(server_id)

    async def remove_group(self, server_id: UUID, group_id: UUID, *, actor: Principal | None) -> McpServer:
        if actor is not None:
            actor.require_admin()
        await self.get(server_id)
        await ServerGroupRow.delete().where(
            (ServerGroupRow.server == server_id) & (ServerGroupRow.group == group_id)
        )
        self._changed()
        return await self.get(server_id)

    async def may_use(self, server_id: UUID, user_id: UUID) -> bool:
        """Whether the user is in one of the server's groups (one query)."""
        groups = ServerGroupRow.select(ServerGroupRow.group).where(ServerGroupRow.server == server_id)
        return await GroupMember.exists().where(
            (GroupMember.user == user_id) & GroupMember.group.is_in(groups)
        )

    # --- tools ----------------------------------------------------------------------------------------

    async def tools(self, server_id: UUID) -> list[ServerTool]:
        """The attached recipes, by tool name; ``published_version`` None for one never published."""
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

    async def attach_tool(self, server_id: UUID, data: ToolAttach, *, actor: Principal | None) -> ServerTool:
        if actor is not None:
            actor.require_builder()
        await self.get(server_id)
        recipe = (
            await RecipeRow.select(RecipeRow.id, RecipeRow.tool_name)
            .where(RecipeRow.id == data.recipe_id)
            .first()
        )
        if recipe is None:
            raise NotFound("There is no such recipe.", field="recipe_id")
        tools = await self.tools(server_id)
        if any(tool.recipe_id == data.recipe_id for tool in tools):
            raise Conflict("This recipe is a tool of this server already.", field="recipe_id")
        if any(tool.tool_name == recipe["tool_name"] for tool in tools):
            raise Conflict(f"This server has a tool called {recipe['tool_name']} already.", field="recipe_id")
        await ServerToolRow.insert(
            ServerToolRow(
                server=server_id,
                recipe=data.recipe_id,
                scope=_scope(data.scope),
                read_only=data.read_only,
                destructive=data.destructive,
            )
        )
        self._changed()
        return await self._tool(server_id, data.recipe_id)

    async def update_tool(
        self, server_id: UUID, recipe_id: UUID, data: ToolUpdate, *, actor: Principal | None
    ) -> ServerTool:
        if actor is not None:
            actor.require_builder()
        await self._tool(server_id, recipe_id)
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
            self._changed()
        return await self._tool(server_id, recipe_id)

    async def detach_tool(self, server_id: UUID, recipe_id: UUID, *, actor: Principal | None) -> None:
        if actor is not None:
            actor.require_builder()
        await self._tool(server_id, recipe_id)
        await ServerToolRow.delete().where(
            (ServerToolRow.server == server_id) & (ServerToolRow.recipe == recipe_id)
        )
        self._changed()

    # --- remote tools offered directly -----------------------------------------------------------------

    async def remote_tools(self, server_id: UUID) -> list[RemoteTool]:
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

    async def attach_remote_tool(
        self, server_id: UUID, data: RemoteToolAttach, *, definitions: Definitions, actor: Principal | None
    ) -> RemoteTool:
        """Offer a remote server's tool directly, called through ``data.connection_id``."""
        if actor is not None:
            actor.require_builder()
        await self.get(server_id)
        connection = (
            await ConnectionRow.select(ConnectionRow.name, ConnectionRow.connector)
            .where(ConnectionRow.id == data.connection_id)
            .first()
        )
        if connection is None:
            raise NotFound("There is no such connection.", field="connection_id")
        definition = await definitions.get(connection["connector"])
        if definition.mcp is None:
            raise InvalidInput(
                f"{connection['name']} is not a connection to a remote MCP server.", field="connection_id"
            )
        if definition.action(data.action) is None:
            raise InvalidInput(f"{definition.name} has no tool {data.action!r}.", field="action")
        name = data.name or data.action
        if not re.fullmatch(TOOL_NAME_PATTERN, name):
            raise InvalidInput(
                "A tool name uses a-z, 0-9 and _, starting with a letter (at most 64).", field="name"
            )
        taken = {tool.tool_name for tool in await self.tools(server_id)}
        taken |= {tool.tool_name for tool in await self.remote_tools(server_id)}
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
        self._changed()
        return next(tool for tool in await self.remote_tools(server_id) if tool.id == tool_id)

    async def detach_remote_tool(self, server_id: UUID, tool_id: UUID, *, actor: Principal | None) -> None:
        if actor is not None:
            actor.require_builder()
        deleted = (
            await RemoteToolRow.delete()
            .where((RemoteToolRow.server == server_id) & (RemoteToolRow.id == tool_id))
            .returning(RemoteToolRow.id)
        )
        if not deleted:
            raise NotFound("This remote tool is not offered by this server.", field="tool_id")
        self._changed()

    async def _tool(self, server_id: UUID, recipe_id: UUID) -> ServerTool:
        tool = next((tool for tool in await self.tools(server_id) if tool.recipe_id == recipe_id), None)
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
        versions = await VersionRow.select(VersionRow.recipe, VersionRow.number, VersionRow.definition).where(
            VersionRow.recipe.is_in(list({recipe for recipe, _ in missing}))
        )
        for version in versions:
            key = (version["recipe"], version["number"])
            if key in missing:
                trigger = decode_definition(version["definition"]).trigger
                self._published[key] = _Published(trigger.name, trigger.title, trigger.description)

    # --- API tokens -----------------------------------------------------------------------------------

    async def create_token(self, server_id: UUID, name: str, *, actor: Principal | None) -> NewServerToken:
        if actor is not None:
            actor.require_admin()
        await self.get(server_id)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            id=uuid4(),
            server=server_id,
            name=_name(name),
            prefix=secret[:12],
            secret_hash=_hash(secret),
            created_at=datetime.now(UTC),
            created_by=actor.email if actor is not None else "",
        )
        await row.save()
        token = next(token for token in await self.list_tokens(server_id) if token.id == row.id)
        return NewServerToken(token=token, secret=secret)

    async def list_tokens(self, server_id: UUID) -> list[ServerToken]:
        rows = await TokenRow.select().where(TokenRow.server == server_id).order_by(TokenRow.created_at)
        return [_token(row) for row in rows]

    async def revoke_token(self, server_id: UUID, token_id: UUID, *, actor: Principal | None) -> None:
        if actor is not None:
            actor.require_admin()
        deleted = (
            await TokenRow.delete()
            .where((TokenRow.server == server_id) & (TokenRow.id == token_id))
            .returning(TokenRow.id)
        )
        if not deleted:
            raise NotFound("There is no such API token.", field="token_id")

    async def verify_token(self, server_id: UUID, secret: str) -> ServerToken | None:
        """The token ``secret`` is, if it belongs to the server (compared by hash, in constant time)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = _hash(secret)
        row = (
            await TokenRow.select()
            .where((TokenRow.server == server_id) & (TokenRow.secret_hash == digest))
            .first()
        )
        if row is None or not hmac.compare_digest(row["secret_hash"], digest):
            return None
        now = datetime.now(UTC)
        if row["last_used_at"] is None or row["last_used_at"] < now - _TOUCH_EVERY:
            await TokenRow.update({TokenRow.last_used_at: now}).where(TokenRow.id == row["id"])
        return _token(row)

    async def _groups(self, server_ids: list[UUID]) -> dict[UUID, tuple[ServerGroup, ...]]:
        if not server_ids:
            return {}
        rows = await ServerGroupRow.select(
            ServerGroupRow.server, ServerGroupRow.group, ServerGroupRow.group.name.as_alias("group_name")
        ).where(ServerGroupRow.server.is_in(server_ids))
        found: dict[UUID, list[ServerGroup]] = {}
        for row in rows:
            found.setdefault(row["server"], []).append(ServerGroup(id=row["group"], name=row["group_name"]))
        return {key: tuple(sorted(groups, key=lambda g: g.name.lower())) for key, groups in found.items()}


def _server(row: dict[str, Any], groups: tuple[ServerGroup, ...]) -> McpServer:
    return McpServer(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        instructions=row["instructions"],
        access_method=AccessMethod(row["access_method"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        groups=groups,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _token(row: dict[str, Any]) -> ServerToken:
    return ServerToken(
        id=row["id"],
        server_id=row["server"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        last_used_at=row["last_used_at"],
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _slug(slug: str) -> str:
    slug = slug.strip()
    if not SLUG.fullmatch(slug):
        raise InvalidInput(
            "Use lower-case letters, digits and hyphens (at most 64, not starting or ending with a hyphen).",
            field="slug",
        )
    return slug


def _name(name: str) -> str:
    name = validate_text(" ".join(name.split()), field="name")
    if not name:
        raise InvalidInput("Enter a name.", field="name")
    if len(name) > 80:
        raise InvalidInput("A name can have at most 80 characters.", field="name")
    return name


def _text(text: str, field: str, limit: int) -> str:
    text = validate_text(text.strip(), field=field)
    if len(text) > limit:
        raise InvalidInput(f"This can have at most {limit} characters.", field=field)
    return text


def _rate(limit: int) -> int:
    if not 0 <= limit <= 100_000:
        raise InvalidInput(
            "Enter a number of tool calls a minute from 0 (no limit) to 100000.",
            field="rate_limit_per_minute",
        )
    return limit


def _scope(scope: str) -> str:
    scope = scope.strip()
    if scope and not scopes.is_well_formed(scope):
        raise InvalidInput(
            "A scope is one word of visible characters, such as mcp:tools:create_task.", field="scope"
        )
    return scope
