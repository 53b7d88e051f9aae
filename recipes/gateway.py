"""The engine's way into the connector layer: definitions, credentials and actions.

A protocol, so engine tests can put a fault between the engine and real connector services.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from switchboard.connectors.actions import Reauthorize, RequestAuth
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.models import Mode
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.deps import ConnectorServices


class ConnectorGateway(Protocol):
    """What the engine needs of the connector layer."""

    async def definition(self, key: str) -> ConnectorDefinition: ...

    async def request_auth(self, connection_id: UUID, caller: Caller) -> RequestAuth: ...

    async def run_action(
        self,
        definition: ConnectorDefinition,
        action: str,
        inputs: dict[str, Any],
        auth: RequestAuth,
        reauthorize: Reauthorize | None = None,
    ) -> Any: ...

    async def after_refusal(
        self, connection_id: UUID, caller: Caller, refused: RequestAuth, scopes: tuple[str, ...] = ()
    ) -> RequestAuth | None: ...

    async def mark_needs_reconnect(self, user_id: UUID, connection_id: UUID, reason: str) -> None: ...

    async def is_end_user(self, connection_id: UUID) -> bool: ...


class ServicesGateway:
    """The gateway over the app's connector services."""

    def __init__(self, services: ConnectorServices) -> None:
        self._services = services

    async def definition(self, key: str) -> ConnectorDefinition:
        return await self._services.registry.get(key)

    async def request_auth(self, connection_id: UUID, caller: Caller) -> RequestAuth:
        return await self._services.credentials.request_auth(connection_id, caller)

    async def run_action(
        self,
        definition: ConnectorDefinition,
        action: str,
        inputs: dict[str, Any],
        auth: RequestAuth,
        reauthorize: Reauthorize | None = None,
    ) -> Any:
        return (await self._services.runner.run(definition, action, inputs, auth, reauthorize)).output

    async def after_refusal(
        self, connection_id: UUID, caller: Caller, refused: RequestAuth, scopes: tuple[str, ...] = ()
    ) -> RequestAuth | None:
        return await self._services.credentials.after_refusal(connection_id, caller, refused, scopes)

    async def mark_needs_reconnect(self, user_id: UUID, connection_id: UUID, reason: str) -> None:
        await self._services.grants.mark_needs_reconnect(user_id, connection_id, reason)

    async def is_end_user(self, connection_id: UUID) -> bool:
        return (await self._services.connections.get(connection_id)).mode is Mode.END_USER
