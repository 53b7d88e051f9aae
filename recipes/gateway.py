"""The engine's way into the connector layer: definitions, and actions run as the caller.

A protocol, so engine tests can put a fault between the engine and real connector services.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from switchboard.connectors.action_answers import ActionResult
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices


class ActionCall(Protocol):
    """A connector's actions, run with one caller's credentials (``connectors.calls.Call``)."""

    async def run(self, action: str, inputs: dict[str, Any]) -> ActionResult: ...


class ConnectorGateway(Protocol):
    """What the engine needs of the connector layer."""

    async def definition(self, key: str) -> ConnectorDefinition: ...

    async def open(
        self, definition: ConnectorDefinition, connection_id: UUID | None, caller: Caller
    ) -> ActionCall: ...


class ServicesGateway:
    """The gateway over the app's connector services."""

    def __init__(self, services: ConnectorServices) -> None:
        self._services = services

    async def definition(self, key: str) -> ConnectorDefinition:
        return await self._services.registry.get(key)

    async def open(
        self, definition: ConnectorDefinition, connection_id: UUID | None, caller: Caller
    ) -> ActionCall:
        return await self._services.calls.open(definition, connection_id, caller)
