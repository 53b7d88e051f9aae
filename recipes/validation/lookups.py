"""The connector definitions and connections validation looks up, each at most once per check."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.definitions.model import ConnectorDefinition
from switchboard.platform.core.errors import NotFound


class Definitions(Protocol):
    """Connector definitions by key (the ConnectorRegistry); ``get`` raises NotFound."""

    async def get(self, key: str) -> ConnectorDefinition: ...


class Connections(Protocol):
    """Connections by id (the ConnectionService); ``get`` raises NotFound."""

    async def get(self, connection_id: UUID) -> Connection: ...


class Lookups:
    """Connector definitions and connections, each looked up once per check."""

    def __init__(self, definitions: Definitions, connections: Connections) -> None:
        self._definitions = definitions
        self._connections = connections
        self._found_definitions: dict[str, ConnectorDefinition | None] = {}
        self._found_connections: dict[UUID, Connection | None] = {}

    async def definition(self, key: str) -> ConnectorDefinition | None:
        if key not in self._found_definitions:
            try:
                self._found_definitions[key] = await self._definitions.get(key)
            except NotFound:
                self._found_definitions[key] = None
        return self._found_definitions[key]

    async def connection(self, connection_id: UUID) -> Connection | None:
        if connection_id not in self._found_connections:
            try:
                self._found_connections[connection_id] = await self._connections.get(connection_id)
            except NotFound:
                self._found_connections[connection_id] = None
        return self._found_connections[connection_id]
