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

from switchboard.connectors.action_requests import fill_template, url_problem
from switchboard.connectors.connections.audit import (
    describe_changes,
    describe_new,
    record_connection_change,
)
from switchboard.connectors.connections.endpoints import fill
from switchboard.connectors.connections.models import (
    END_USER_AUTH_TYPES,
    SHARED_AUTH_TYPES,
    Connection,
    ConnectionInput,
    Credentials,
    Mode,
)
from switchboard.connectors.definitions import ConnectorDefinition, is_acceptable_url
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import Project as ProjectRow
from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.services.users import validate_text
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, checked_url, origin

# The generic HTTP connector takes its auth from the connection rather than from its definition.
GENERIC_CONNECTORS = frozenset({"http"})
# Generic connectors have no OAuth provider of their own, so only these make sense for them.
GENERIC_AUTH_TYPES = ("none", "api_key", "bearer", "basic")
SECRET_FIELDS = ("client_secret", "api_key", "token", "password")


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
        origins = _allowance(clean, definition, None, actor)
        now = datetime.now(UTC)
        row = ConnectionRow(
            project=data.project_id,
            name=clean.name,
            name_key=clean.name.lower(),
            connector=definition.key,
            mode=clean.mode.value,
            auth_type=clean.auth_type,
            settings=json.dumps(_settings(clean)),
            secrets=self._box.encrypt(msgspec.json.encode(_credentials(clean)).decode()),
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
        origins = _allowance(clean, definition, current, actor)
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
                    ConnectionRow.settings: json.dumps(_settings(clean)),
                    ConnectionRow.secrets: self._box.encrypt(
                        msgspec.json.encode(_credentials(clean)).decode()
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
        auth_type = _auth_type(data, definition)
        if definition.mcp is not None and self._remote_defaults is not None:
            data, stored = await self._from_remote(definition.key, data, stored)
            if not _scopes(data.scopes) and definition.provider is not None:  # what the server asks for
                data = msgspec.structs.replace(data, scopes=definition.provider.default_scopes)
        secrets = {field: getattr(data, field) or getattr(stored, field) for field in SECRET_FIELDS}
        clean = msgspec.structs.replace(
            data,
            name=name,
            auth_type=auth_type,
            client_id=data.client_id.strip(),
            username=data.username.strip(),
            scopes=_scopes(data.scopes),
            fields=_fields(data.fields, definition),
            **secrets,
        )
        _require_credentials(clean)
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


def _auth_type(data: ConnectionInput, definition: ConnectorDefinition) -> str:
    """The connector decides the auth type, except for generic connectors, where the connection does."""
    if definition.key in GENERIC_CONNECTORS:
        auth_type = data.auth_type or "none"
        if auth_type not in GENERIC_AUTH_TYPES:
            raise InvalidInput(
                f"{definition.name} connections use one of: {', '.join(GENERIC_AUTH_TYPES)}.",
                field="auth_type",
            )
    else:
        auth_type = definition.auth_type
        if data.auth_type and data.auth_type != auth_type:
            raise InvalidInput(f"{definition.name} connections use {auth_type}.", field="auth_type")
    allowed = END_USER_AUTH_TYPES if data.mode is Mode.END_USER else SHARED_AUTH_TYPES
    if auth_type not in allowed:
        if data.mode is Mode.END_USER:
            raise InvalidInput(
                "An end user's connection needs an OAuth 2.0 authorization code grant (or token exchange); "
                f"{definition.name} does not offer one.",
                field="mode",
            )
        raise InvalidInput(
            f'{definition.name} connections are made by each end user; choose "End user\'s connection".',
            field="mode",
        )
    return auth_type


def _scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Scopes in the order chosen, without repeats; free entry allowed, one scope per item."""
    seen: list[str] = []
    for item in scopes:
        for scope in item.replace(",", " ").split():
            if len(scope) > 200 or not all(0x21 <= ord(char) <= 0x7E and char not in '"\\' for char in scope):
                raise InvalidInput(f"{scope[:40]!r} is not a valid scope.", field="scopes")
            if scope not in seen:
                seen.append(scope)
    if len(seen) > 50:
        raise InvalidInput("A connection can ask for at most 50 scopes.", field="scopes")
    return tuple(seen)


def _fields(values: dict[str, str], definition: ConnectorDefinition) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key in values:
        if definition.field(key) is None:
            raise InvalidInput(f"{definition.name} has no field {key!r}.", field=f"fields.{key}")
    for field in definition.fields:
        value = (values.get(field.key) or "").strip() or field.default
        if field.kind == "url":
            value = value.rstrip("/")
            problem = url_problem(value) if value else None
            if problem:
                raise InvalidInput(f"{field.label} cannot be used: {problem}.", field=f"fields.{field.key}")
            if value and not is_acceptable_url(value):
                raise InvalidInput(
                    f"{field.label} must be an https URL such as {field.placeholder or 'https://app.example.com'}.",
                    field=f"fields.{field.key}",
                )
        if field.required and not value:
            raise InvalidInput(f"Enter the {field.label}.", field=f"fields.{field.key}")
        if len(value) > 500:
            raise InvalidInput(f"{field.label} is too long.", field=f"fields.{field.key}")
        clean[field.key] = value
    return clean


def _allowance(
    data: ConnectionInput, definition: ConnectorDefinition, current: Connection | None, actor: Actor
) -> tuple[str, ...]:
    """The origins the connection may reach on private addresses: granting or withdrawing the allowance
    is an admin's decision; while it holds, it covers the origins the connection had when an admin last
    saved it, and a builder's change that would point it at another is refused."""
    approved = current.private_origins if current is not None else ()
    wanted = bool(approved) if data.allow_private is None else data.allow_private
    if wanted != bool(approved):
        actor.require_admin()
    if not wanted:
        return ()
    origins = _origins(data, definition)
    if not origins:
        raise InvalidInput(
            f"{data.name} names no address of its own to allow onto private addresses; enter its URL first.",
            field="allow_private",
        )
    if approved and not set(origins) <= set(approved) and not actor.is_admin:
        raise PermissionDenied(
            f"An admin allowed {current.name if current else data.name} onto private addresses at "
            f"{', '.join(approved)} only; only owners and admins can change where it connects.",
            field="fields",
        )
    return origins


def _origins(data: ConnectionInput, definition: ConnectorDefinition) -> tuple[str, ...]:
    """The origins of the URLs Switchboard calls for the connection: its base URL, its OAuth endpoints (not
    the authorize URL: a browser goes there), and its URL fields, filled in as the calls fill them."""
    values = data.fields
    urls = [
        fill_template(definition, definition.base_url, values),
        *(values.get(field.key, "") for field in definition.fields if field.kind == "url"),
    ]
    provider = definition.provider
    if provider is not None:
        urls += [
            fill(template, values)
            for template in (provider.token_url, provider.revocation_url, provider.userinfo_url)
        ]
    found: list[str] = []
    for url in urls:
        try:
            found.append(origin(checked_url(url, FetchPolicy(require_https=False))))
        except FetchRefused:
            continue  # empty, or no URL to call: nothing to allow
    return tuple(dict.fromkeys(found))


def _require_credentials(data: ConnectionInput) -> None:
    needs: dict[str, tuple[tuple[str, str], ...]] = {
        "oauth2_authorization_code": (("client_id", "Client ID"),),
        "oauth2_client_credentials": (("client_id", "Client ID"), ("client_secret", "Client secret")),
        "oauth2_token_exchange": (("client_id", "Client ID"),),
        "api_key": (("api_key", "API key"),),
        "bearer": (("token", "Token"),),
        "basic": (("username", "User name"), ("password", "Password")),
    }
    for field, label in needs.get(data.auth_type, ()):
        if not getattr(data, field):
            raise InvalidInput(f"Enter the {label}.", field=field)


def _settings(data: ConnectionInput) -> dict[str, Any]:
    return {
        "client_id": data.client_id,
        "username": data.username,
        "scopes": list(data.scopes),
        "fields": data.fields,
    }


def _credentials(data: ConnectionInput) -> Credentials:
    return Credentials(
        client_secret=data.client_secret, api_key=data.api_key, token=data.token, password=data.password
    )
