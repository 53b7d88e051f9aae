"""Connections: create, edit, list and delete them; their credentials are encrypted at rest.

A connection binds a connector to a project with its settings (field values such as the Host, a client ID,
scopes) and its secrets (client secret, API key, token or password), which are kept only as ciphertext
made with a key derived from the secret key (``SecretBox``; previous keys still open old values).

Switchboard calls a connection's app only at https and public addresses (``remote.network``), unless an
admin allowed the connection onto private addresses: the allowance is kept as the origins of the
connection's URLs at that moment, so it covers the addresses the admin saw and no others. A builder's
change that would point the connection at another origin is refused; an admin's moves the allowance along.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from switchboard.connectors.connections.audit import (
    describe_changes,
    describe_new,
    record_connection_change,
)
from switchboard.connectors.connections.inputs import (
    GENERIC_CONNECTORS,
    SECRET_FIELDS,
    auth_type_of,
    clean_fields,
    clean_scopes,
    private_allowance,
    require_credentials,
    stored_credentials,
    stored_settings,
)
from switchboard.connectors.connections.models import (
    Connection,
    ConnectionInput,
    Credentials,
    Mode,
)
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import Project as ProjectRow
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.services.users import validate_text
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound


class Definitions(Protocol):
    async def get(self, key: str) -> ConnectorDefinition: ...


RemoteDefaults = Callable[[str], Awaitable[tuple[str, Credentials] | None]]
"""A remote MCP server's client ID and credentials (registered or entered), by connector key."""


class ConnectionService:
    def __init__(
        self,
        *,
        box: SecretBox,
        definitions: Definitions,
        remote_defaults: RemoteDefaults | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._box = box
        self._definitions = definitions
        self._remote_defaults = remote_defaults
        self._audit = audit or AuditLog()

    async def list_all(self, *, project_id: UUID | None = None) -> list[Connection]:
        query = ConnectionRow.select(*_COLUMNS).order_by(ConnectionRow.name_key)
        if project_id is not None:
            query = query.where(ConnectionRow.project == project_id)
        return [self._out(row) for row in await query]

    async def get(self, connection_id: UUID) -> Connection:
        return self._out(await self._row(connection_id))

    async def definition_of(self, connection: Connection) -> ConnectorDefinition:
        return await self._definitions.get(connection.connector)

    async def credentials(self, connection_id: UUID) -> Credentials:
        """The decrypted secrets, for the services that call the app; never shown to anyone."""
        row = (
            await ConnectionRow.select(ConnectionRow.secrets).where(ConnectionRow.id == connection_id).first()
        )
        if row is None:
            raise NotFound("No such connection.", field="connection_id")
        secrets = self._open(row["secrets"])
        if secrets is None:
            raise Conflict(
                "This connection's secrets were encrypted with a secret key that is no longer configured: "
                "list the old key in SWITCHBOARD_PREVIOUS_SECRET_KEYS, or enter the secrets again.",
                field="client_secret",
            )
        return secrets

    async def create(self, data: ConnectionInput, *, actor: Actor) -> Connection:
        actor.require_builder()
        definition = await self._definition(data.connector)
        clean = await self._checked(data, definition, stored=Credentials())
        origins = private_allowance(clean, definition, None, actor)
        now = datetime.now(UTC)
        row = ConnectionRow(
            project=data.project_id,
            name=clean.name,
            name_key=clean.name.lower(),
            connector=definition.key,
            mode=clean.mode.value,
            auth_type=clean.auth_type,
            settings=json.dumps(stored_settings(clean)),
            secrets=self._box.encrypt(msgspec.json.encode(stored_credentials(clean)).decode()),
            scopes_version=1,
            private_origins=" ".join(origins),
            created_by=actor.email,
            created_at=now,
            updated_at=now,
        )
        await self._save(row.save(), clean.name)
        connection = await self.get(row.id)
        await record_connection_change(
            self._audit, actor, "connection.created", connection, describe_new(connection)
        )
        return connection

    async def update(self, connection_id: UUID, data: ConnectionInput, *, actor: Actor) -> Connection:
        """Edit a connection. Secrets left blank keep their value; a change of scopes, client ID or field
        values raises the scopes version, so every user's grant asks for consent again on next use."""
        actor.require_builder()
        current = await self.get(connection_id)
        if data.connector != current.connector:
            raise InvalidInput(
                "A connection's connector cannot change; create a new connection.", field="connector"
            )
        definition = await self._definition(data.connector)
        # Secrets sealed with a key no longer configured count as not set: the builder enters them again.
        stored = self._open((await self._row(connection_id))["secrets"]) or Credentials()
        clean = await self._checked(data, definition, stored=stored)
        origins = private_allowance(clean, definition, current, actor)
        regrant = (
            set(clean.scopes) != set(current.scopes)
            or clean.client_id != current.client_id
            or clean.fields != current.fields
            or clean.auth_type != current.auth_type
        )
        await self._save(
            ConnectionRow.update(
                {
                    ConnectionRow.project: clean.project_id,
                    ConnectionRow.name: clean.name,
                    ConnectionRow.name_key: clean.name.lower(),
                    ConnectionRow.mode: clean.mode.value,
                    ConnectionRow.auth_type: clean.auth_type,
                    ConnectionRow.settings: json.dumps(stored_settings(clean)),
                    ConnectionRow.secrets: self._box.encrypt(
                        msgspec.json.encode(stored_credentials(clean)).decode()
                    ),
                    ConnectionRow.scopes_version: current.scopes_version + (1 if regrant else 0),
                    ConnectionRow.private_origins: " ".join(origins),
                    ConnectionRow.updated_at: datetime.now(UTC),
                }
            ).where(ConnectionRow.id == connection_id),
            clean.name,
        )
        changed = await self.get(connection_id)
        if what := describe_changes(current, changed, data):
            await record_connection_change(self._audit, actor, "connection.changed", changed, what)
        return changed

    async def delete(self, connection_id: UUID, *, actor: Actor) -> None:
        actor.require_builder()
        connection = await self.get(connection_id)
        await ConnectionRow.delete().where(ConnectionRow.id == connection_id)
        await record_connection_change(self._audit, actor, "connection.deleted", connection)

    async def reencrypt(self) -> int:
        """Move every connection's secrets to the current key; returns how many changed."""
        changed = 0
        for row in await ConnectionRow.select(ConnectionRow.id, ConnectionRow.secrets):
            value = self._box.reencrypt(row["secrets"])
            if value is not None:
                await ConnectionRow.update({ConnectionRow.secrets: value}).where(
                    ConnectionRow.id == row["id"]
                )
                changed += 1
        return changed

    def _open(self, sealed: str) -> Credentials | None:
        try:
            return msgspec.json.decode(self._box.decrypt(sealed), type=Credentials)
        except DecryptionFailed:
            return None

    async def _definition(self, key: str) -> ConnectorDefinition:
        try:
            return await self._definitions.get(key)
        except NotFound as exc:
            raise InvalidInput(f"There is no connector {key!r}.", field="connector") from exc

    async def _checked(
        self, data: ConnectionInput, definition: ConnectorDefinition, *, stored: Credentials
    ) -> ConnectionInput:
        name = validate_text(" ".join(data.name.split()), field="name")
        if not name:
            raise InvalidInput("Enter a name for the connection.", field="name")
        if not await ProjectRow.exists().where(ProjectRow.id == data.project_id):
            raise InvalidInput("Choose a project (Location) for the connection.", field="project_id")
        auth_type = auth_type_of(data, definition)
        if definition.mcp is not None and self._remote_defaults is not None:
            data, stored = await self._from_remote(definition.key, data, stored)
            if not clean_scopes(data.scopes) and definition.provider is not None:  # what the server asks for
                data = msgspec.structs.replace(data, scopes=definition.provider.default_scopes)
        secrets = {field: getattr(data, field) or getattr(stored, field) for field in SECRET_FIELDS}
        clean = msgspec.structs.replace(
            data,
            name=name,
            auth_type=auth_type,
            client_id=data.client_id.strip(),
            username=data.username.strip(),
            scopes=clean_scopes(data.scopes),
            fields=clean_fields(data.fields, definition),
            **secrets,
        )
        require_credentials(clean)
        if definition.key in GENERIC_CONNECTORS and auth_type != "none" and not clean.fields.get("base_url"):
            # The step chooses the URL: credentials must be pinned to one address.
            raise InvalidInput(
                "Enter the Base URL: the credentials are only ever sent to that address.",
                field="fields.base_url",
            )
        return clean

    async def _from_remote(
        self, key: str, data: ConnectionInput, stored: Credentials
    ) -> tuple[ConnectionInput, Credentials]:
        """A remote server's connection starts from the server's client and token, unless others are given."""
        assert self._remote_defaults is not None
        defaults = await self._remote_defaults(key)
        if defaults is None:
            return data, stored
        client_id, credentials = defaults
        if data.client_id.strip() and data.client_id.strip() != client_id:
            return data, stored  # a client of the builder's own: its secret is theirs to give
        data = msgspec.structs.replace(data, client_id=client_id)
        stored = msgspec.structs.replace(
            stored,
            client_secret=stored.client_secret or credentials.client_secret,
            token=stored.token or credentials.token,
        )
        return data, stored

    async def _row(self, connection_id: UUID) -> dict[str, Any]:
        row = await ConnectionRow.select(*_COLUMNS).where(ConnectionRow.id == connection_id).first()
        if row is None:
            raise NotFound("No such connection.", field="connection_id")
        return row

    async def _save(self, query: Any, name: str) -> None:
        try:
            await query
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"The project already has a connection named {name!r}.", field="name") from exc
            raise

    def _out(self, row: dict[str, Any]) -> Connection:
        settings = row["settings"]
        if isinstance(settings, str):
            settings = json.loads(settings)
        secrets = self._open(row["secrets"]) or Credentials()
        return Connection(
            id=row["id"],
            name=row["name"],
            project_id=row["project"],
            project_name=row["project.name"],
            connector=row["connector"],
            mode=Mode(row["mode"]),
            auth_type=row["auth_type"],
            client_id=settings.get("client_id", ""),
            username=settings.get("username", ""),
            scopes=tuple(settings.get("scopes", ())),
            fields=dict(settings.get("fields", {})),
            secrets_set=tuple(field for field in SECRET_FIELDS if getattr(secrets, field)),
            scopes_version=row["scopes_version"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            private_origins=tuple(str(row["private_origins"]).split()),
        )


_COLUMNS = (
    ConnectionRow.id,
    ConnectionRow.name,
    ConnectionRow.project,
    ConnectionRow.project.name,
    ConnectionRow.connector,
    ConnectionRow.mode,
    ConnectionRow.auth_type,
    ConnectionRow.settings,
    ConnectionRow.secrets,
    ConnectionRow.scopes_version,
    ConnectionRow.private_origins,
    ConnectionRow.created_by,
    ConnectionRow.created_at,
    ConnectionRow.updated_at,
)
