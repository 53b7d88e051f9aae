"""Changing or deleting a connection together with what hangs on it: its cached tokens are forgotten (the
next call fetches them with the new settings), and before it is deleted the grants made through it are
revoked at the app (best effort: an app that cannot be reached does not keep the connection alive here)."""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.connections.credentials import CredentialService
from switchboard.connectors.connections.grants import GrantService
from switchboard.connectors.connections.models import Connection, ConnectionInput
from switchboard.connectors.connections.service import ConnectionService
from switchboard.identity.principal import Actor


class ConnectionLifecycle:
    def __init__(
        self, *, connections: ConnectionService, grants: GrantService, credentials: CredentialService
    ) -> None:
        self._connections = connections
        self._grants = grants
        self._credentials = credentials

    async def update(self, connection_id: UUID, data: ConnectionInput, *, actor: Actor) -> Connection:
        connection = await self._connections.update(connection_id, data, actor=actor)
        self._credentials.forget(connection_id)
        return connection

    async def delete(self, connection_id: UUID, *, actor: Actor) -> None:
        actor.require_builder()
        await self._grants.disconnect_everyone(connection_id, actor=actor)
        await self._connections.delete(connection_id, actor=actor)
        self._credentials.forget(connection_id)
