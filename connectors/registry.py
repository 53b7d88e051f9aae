"""Where connector definitions come from: built in, a folder of files, and the console.

Three sources, in order of precedence: the built-in definitions shipped in ``connectors/builtin/``, the
``*.yaml``, ``*.yml`` and ``*.json`` files of the folder named by ``SWITCHBOARD_CONNECTORS_DIR``, and the
definitions builders saved through the console or the command line (``CustomConnector`` rows, kept as
written). When two share a key the earlier source wins and the other is reported in ``problems()``.

The folder is read again whenever a file in it is added, removed or changed (names, sizes and modification
times are compared on every call, which costs one directory listing). A file that fails to load is reported
with its name and the field at fault; it does not hide the others or stop the app.

Reading a definition (parsing, checking its schemas), writing one as YAML and importing an OpenAPI document
cost CPU time that grows with the document, so the async methods do them in a worker thread: the event
loop goes on serving other requests meanwhile. The limits in ``definitions.limits`` bound each of them.
"""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

import msgspec
from anyio import to_thread

from switchboard.connectors.definitions import (
    ConnectorDefinition,
    DefinitionError,
    dump_definition,
    load_definition,
)
from switchboard.connectors.openapi import definition_from_openapi
from switchboard.connectors.tables import Connection, CustomConnector
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor, Principal, SystemActor
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound

BUILTIN_FOLDER = Path(__file__).parent / "builtin"
SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 1024 * 1024
Origin = Literal["built-in", "folder", "custom", "remote"]
T = TypeVar("T")


class ConnectorSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the connectors list."""

    key: str
    name: str
    icon: str
    description: str
    auth_type: str
    origin: Origin
    action_count: int


class _Folder(msgspec.Struct):
    """What the folder held when it was last read: definitions by key, each file's problem."""

    snapshot: tuple[tuple[str, int, int], ...] | None = None
    definitions: dict[str, ConnectorDefinition] = {}
    files: dict[str, str] = {}
    problems: list[str] = []


@functools.cache
def load_builtins() -> Mapping[str, ConnectorDefinition]:
    """The definitions shipped with Switchboard (read once per process: they are part of the package and
    definitions are immutable); one that fails to load is a bug, so it raises."""
    found: dict[str, ConnectorDefinition] = {}
    for path in sorted(BUILTIN_FOLDER.glob("*.yaml")):
        definition = load_definition(path.read_text(encoding="utf-8"), source=f"built-in {path.name}")
        if definition.key in found:
            raise DefinitionError(f"built-in {path.name}: the key {definition.key!r} is used twice")
        found[definition.key] = definition
    return MappingProxyType(found)


class ConnectorRegistry:
    def __init__(self, folder: Path | None, *, audit: AuditLog | None = None) -> None:
        self._folder_path = folder
        self._audit = audit or AuditLog()
        self._builtins = load_builtins()
        self._folder = _Folder()
        self._custom_cache: dict[str, tuple[str, ConnectorDefinition]] = {}
        self._custom_problems: list[str] = []

    async def list(self) -> list[ConnectorSummary]:
        """Every usable connector, built-in first, then by name."""
        folder = await self._current_folder()
        summaries = [_summary(definition, "built-in") for definition in self._builtins.values()]
        summaries += [_summary(definition, "folder") for definition in folder.definitions.values()]
        problems: list[str] = []
        rows = await CustomConnector.select(CustomConnector.key, CustomConnector.source).order_by(
            CustomConnector.key
        )
        for row in rows:
            shadowed_by = self._origin_of(row["key"], folder)
            if shadowed_by is not None:
                problems.append(
                    f"custom connector {row['key']!r}: hidden by the {shadowed_by} connector of that key"
                )
                continue
            try:
                definition = await self._parsed(row["key"], row["source"])
                summaries.append(_summary(definition, "remote" if definition.mcp else "custom"))
            except DefinitionError as exc:
                problems.append(exc.message)
        self._custom_problems = problems
        order = {"built-in": 0, "folder": 1, "custom": 2, "remote": 3}
        return sorted(summaries, key=lambda item: (order[item.origin], item.name.lower(), item.key))

    async def get(self, key: str) -> ConnectorDefinition:
        """The definition with this key, from the first source that has it."""
        if key in self._builtins:
            return self._builtins[key]
        folder = await self._current_folder()
        if key in folder.definitions:
            return folder.definitions[key]
        row = await CustomConnector.select(CustomConnector.source).where(CustomConnector.key == key).first()
        if row is None:
            raise NotFound(f"There is no connector {key!r}.", field="key")
        return await self._parsed(key, row["source"])

    async def origin(self, key: str) -> Origin:
        """Where the connector comes from: only custom ones can be edited or deleted here."""
        found = self._origin_of(key, await self._current_folder())
        if found is not None:
            return found
        row = await CustomConnector.select(CustomConnector.source).where(CustomConnector.key == key).first()
        if row is not None:
            return "remote" if (await self._parsed(key, row["source"])).mcp else "custom"
        raise NotFound(f"There is no connector {key!r}.", field="key")

    async def source(self, key: str) -> str:
        """The definition as text for editing: a custom one as its author wrote it, others as YAML."""
        if await self.origin(key) == "custom":
            row = (
                await CustomConnector.select(CustomConnector.source).where(CustomConnector.key == key).first()
            )
            if row is not None:
                return str(row["source"])
        return await self.yaml_of(await self.get(key))

    async def yaml_of(self, definition: ConnectorDefinition) -> str:
        """The definition as YAML, as builders read and edit it."""
        return await _in_worker(dump_definition, definition)

    async def save(
        self,
        source: str,
        *,
        actor: str | Principal,
        keeping_key: str | None = None,
        imported: bool = False,
    ) -> ConnectorDefinition:
        """Add a custom connector, or replace the custom one with the same key. ``actor`` is a signed-in
        person (who must be a builder) or the name of an operator's tool such as "command line". An edit
        passes ``keeping_key``: the key names the connector everywhere, so a new key is refused.
        ``imported``: the source was made from an OpenAPI document (as the audit trail records it)."""
        acting = actor if isinstance(actor, Principal) else SystemActor(actor)
        actor = _author(actor)
        definition = await _in_worker(functools.partial(load_definition, source, source="definition"))
        if keeping_key is not None and definition.key != keeping_key:
            raise InvalidInput(
                f"The key must stay {keeping_key!r}; add a connector to use another key.", field="source"
            )
        if definition.mcp is not None:
            raise Conflict("Remote MCP servers are added as remote servers, not as definitions.", field="mcp")
        taken = self._origin_of(definition.key, await self._current_folder())
        if taken is None and await self._is_remote(definition.key):
            taken = "remote"
        if taken is not None:
            raise Conflict(
                f"The key {definition.key!r} belongs to a {taken} connector; choose another key.", field="key"
            )
        existed = await CustomConnector.exists().where(CustomConnector.key == definition.key)
        stored = await self._store(definition, source, actor)
        action = "connector.imported" if imported else "connector.changed" if existed else "connector.created"
        reason = "from an OpenAPI document" if imported else ""
        if imported and existed:
            reason += ", replacing the connector of that key"
        await self._audit.change(
            acting,
            action,
            object_type="connector",
            object_id=stored.key,
            object_name=stored.name,
            reason=reason,
        )
        return stored

    async def save_remote(self, definition: ConnectorDefinition, *, actor: str) -> None:
        """The connector of a remote MCP server, written by ``connectors.remote`` (its key is checked free
        when the server is added).

        Its actions' input schemas are the remote server's own: before the definition is stored and kept,
        it is held to the limits a definition read again is held to (its size; each input schema valid and
        within ``schema_problem``'s), in a worker thread. One past them raises ``DefinitionError`` and
        nothing is stored."""
        await self._store(definition, await _in_worker(_checked_remote, definition), actor)

    async def delete_remote(self, key: str) -> None:
        await CustomConnector.delete().where(CustomConnector.key == key)
        self._custom_cache.pop(key, None)

    async def key_taken(self, key: str) -> Origin | None:
        """Which kind of connector already has this key, if any."""
        taken = self._origin_of(key, await self._current_folder())
        if taken is not None:
            return taken
        row = await CustomConnector.select(CustomConnector.source).where(CustomConnector.key == key).first()
        if row is None:
            return None
        return "remote" if (await self._parsed(key, row["source"])).mcp else "custom"

    async def _is_remote(self, key: str) -> bool:
        return await self.key_taken(key) == "remote"

    async def _store(self, definition: ConnectorDefinition, source: str, actor: str) -> ConnectorDefinition:
        now = datetime.now(UTC)
        # One statement, so two builders saving the same new key at once cannot both insert it.
        await CustomConnector.insert(
            CustomConnector(
                key=definition.key, source=source, created_by=actor, created_at=now, updated_at=now
            )
        ).on_conflict(
            target=CustomConnector.key,
            action="DO UPDATE",
            values=[CustomConnector.source, CustomConnector.updated_at],
        )
        self._custom_cache[definition.key] = (source, definition)
        return definition

    async def import_openapi(
        self, text: str, *, actor: str | Principal, key: str | None = None
    ) -> ConnectorDefinition:
        """Make a connector from an OpenAPI 3 document and save it as a custom one (as YAML)."""
        if isinstance(actor, Principal):
            actor.require_builder()  # before any work on the document
        imported = await _in_worker(lambda: dump_definition(definition_from_openapi(text, key=key)))
        return await self.save(imported, actor=actor, imported=True)

    async def delete(self, key: str, *, actor: Actor) -> None:
        """Delete a custom connector that no connection uses."""
        actor.require_builder()
        taken = self._origin_of(key, await self._current_folder())
        if taken is not None:
            raise Conflict(
                f"{key!r} is a {taken} connector; only custom connectors can be deleted.", field="key"
            )
        if not await CustomConnector.exists().where(CustomConnector.key == key):
            raise NotFound(f"There is no connector {key!r}.", field="key")
        if await self._is_remote(key):
            raise Conflict(
                f"{key!r} is a remote MCP server's connector; remove the remote server.", field="key"
            )
        used = await Connection.count().where(Connection.connector == key)
        if used:
            raise Conflict(
                f"{used} connection{'s' if used != 1 else ''} use{'' if used != 1 else 's'} {key!r}; "
                "delete them first.",
                field="key",
            )
        await CustomConnector.delete().where(CustomConnector.key == key)
        self._custom_cache.pop(key, None)
        await self._audit.change(
            actor, "connector.deleted", object_type="connector", object_id=key, object_name=key
        )

    def problems(self) -> builtins.list[str]:
        """Definitions that could not be used: folder files (named, with the field at fault), and custom
        ones found broken or hidden by the last ``list()``. After ``list()`` the folder is as it read it,
        unless a file changed since."""
        return [*self._read_folder().problems, *self._custom_problems]

    def _origin_of(self, key: str, folder: _Folder) -> Origin | None:
        if key in self._builtins:
            return "built-in"
        if key in folder.definitions:
            return "folder"
        return None

    async def _parsed(self, key: str, source: str) -> ConnectorDefinition:
        cached = self._custom_cache.get(key)
        if cached is not None and cached[0] == source:
            return cached[1]
        definition = await _in_worker(
            functools.partial(load_definition, source, source=f"custom connector {key!r}")
        )
        self._custom_cache[key] = (source, definition)
        return definition

    async def _current_folder(self) -> _Folder:
        """The folder's definitions, read again in a worker thread when a file changed."""
        if self._folder_path is not None and (snapshot := self._changed_snapshot()) is not None:
            self._folder = await _in_worker(self._load_folder, self._folder_path, snapshot)
        return self._folder

    def _read_folder(self) -> _Folder:
        if self._folder_path is not None and (snapshot := self._changed_snapshot()) is not None:
            self._folder = self._load_folder(self._folder_path, snapshot)
        return self._folder

    def _changed_snapshot(self) -> tuple[tuple[str, int, int], ...] | None:
        """The folder's files when they differ from those last read (an unreadable folder becomes its
        problem); None when nothing changed."""
        assert self._folder_path is not None
        try:
            snapshot = _snapshot(self._folder_path)
        except OSError as exc:
            self._folder = _Folder(
                problems=[
                    f"{self._folder_path}: the connectors folder cannot be read ({exc.strerror or exc})"
                ]
            )
            return None
        return snapshot if snapshot != self._folder.snapshot else None

    def _load_folder(self, folder: Path, snapshot: tuple[tuple[str, int, int], ...]) -> _Folder:
        loaded = _Folder(snapshot=snapshot, definitions={}, files={}, problems=[])
        for name, _, size in snapshot:
            if size > MAX_FILE_BYTES:
                loaded.problems.append(f"{name}: the file is larger than {MAX_FILE_BYTES // 1024} KiB")
                continue
            try:
                text = (folder / name).read_text(encoding="utf-8")
                definition = load_definition(text, source=name)
            except (OSError, UnicodeDecodeError) as exc:
                loaded.problems.append(f"{name}: the file cannot be read ({type(exc).__name__})")
                continue
            except DefinitionError as exc:
                loaded.problems.append(exc.message)
                continue
            if definition.key in self._builtins:
                loaded.problems.append(
                    f"{name}: `key`: the key {definition.key!r} belongs to a built-in connector"
                )
            elif definition.key in loaded.definitions:
                loaded.problems.append(
                    f"{name}: `key`: the key {definition.key!r} is already used by "
                    f"{loaded.files[definition.key]}"
                )
            else:
                loaded.definitions[definition.key] = definition
                loaded.files[definition.key] = name
        return loaded


def _snapshot(folder: Path) -> tuple[tuple[str, int, int], ...]:
    entries: list[tuple[str, int, int]] = []
    with os.scandir(folder) as listing:
        for entry in listing:
            if entry.name.startswith(".") or not entry.name.lower().endswith(SUFFIXES):
                continue
            if not entry.is_file():
                continue
            stat = entry.stat()
            entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def _summary(definition: ConnectorDefinition, origin: Origin) -> ConnectorSummary:
    return ConnectorSummary(
        key=definition.key,
        name=definition.name,
        icon=definition.icon,
        description=definition.description,
        auth_type=definition.auth_type,
        origin=origin,
        action_count=len(definition.actions),
    )


def _checked_remote(definition: ConnectorDefinition) -> str:
    """A remote server's connector as YAML, once checked as every process will check it when it reads it
    back (``load_definition``: size, its actions' input schemas, its addresses under the server's
    allowance)."""
    source = dump_definition(definition)
    load_definition(source, source=f"remote MCP server {definition.key!r}")
    return source


async def _in_worker(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` in a worker thread, leaving the event loop free while it runs."""
    return await to_thread.run_sync(work, *args)


def _author(actor: str | Principal) -> str:
    if isinstance(actor, Principal):
        actor.require_builder()
        return actor.email
    return actor
