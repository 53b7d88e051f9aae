"""A remote MCP server together with its connections: its tools listed with a connection's credentials,
and its connections moved along when a change gives the server another client."""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.connections.credentials import Caller, CredentialService
from switchboard.connectors.connections.lifecycle import ConnectionLifecycle
from switchboard.connectors.connections.models import ConnectionInput
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.remote.models import RemoteServer, RemoteServerPatch
from switchboard.connectors.remote.service import RemoteServerService
from switchboard.identity.principal import Actor, Principal
from switchboard.platform.core.errors import InvalidInput


class RemoteConnections:
    def __init__(
        self,
        *,
        remote: RemoteServerService,
        connections: ConnectionService,
        lifecycle: ConnectionLifecycle,
        credentials: CredentialService,
    ) -> None:
        self._remote = remote
        self._connections = connections
        self._lifecycle = lifecycle
        self._credentials = credentials

    async def refresh_tools(
        self, key: str, principal: Principal, *, connection_id: UUID | None = None
    ) -> RemoteServer:
        """A remote server's tools listed again: with its own settings, or with a connection's credentials
        (the builder's own grant for an end user's connection)."""
        principal.require_builder()
        if connection_id is None:
            return await self._remote.refresh_own(key)
        connection = await self._connections.get(connection_id)
        if connection.connector != key:
            raise InvalidInput(f"{connection.name} is not a connection to {key!r}.", field="connection_id")
        caller = Caller(principal.user_id, principal.email)
        auth = await self._credentials.auth_for(connection, caller)
        return await self._remote.refresh_tools(key, headers=auth.headers)

    async def update(self, key: str, patch: RemoteServerPatch, *, actor: Actor) -> RemoteServer:
        """Change a remote server; when that gives it another client (a new issuer means registering
        again), its connections move to the new client and every user's grant asks for consent again."""
        before = await self._remote.get(key)
        after = await self._remote.update(key, patch, actor=actor)
        old, new = before.auth.client_id, after.auth.client_id
        if not old or new == old:
            return after
        defaults = await self._remote.client_defaults(key)
        secret = defaults[1].client_secret if defaults else ""
        for connection in await self._connections.list_all():
            if connection.connector != key or connection.client_id != old:
                continue
            data = ConnectionInput(
                name=connection.name,
                project_id=connection.project_id,
                connector=key,
                mode=connection.mode,
                client_id=new,
                client_secret=secret,
                scopes=connection.scopes,
                fields=connection.fields,
            )
            await self._lifecycle.update(connection.id, data, actor=actor)
        return after
