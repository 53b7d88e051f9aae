"""The connector services a running app shares, and their dependency providers."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import httpx
import msgspec

from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.calls import ActionCalls
from switchboard.connectors.connections.checks import ConnectionCheck
from switchboard.connectors.connections.connect import ConnectFlow
from switchboard.connectors.connections.credentials import Caller, CredentialService, Signer
from switchboard.connectors.connections.grants import CALLBACK_PATH, GrantService
from switchboard.connectors.connections.models import ConnectionInput, TestOutcome
from switchboard.connectors.connections.projects import ProjectService
from switchboard.connectors.connections.provider import ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.models import RemoteServer, RemoteServerPatch
from switchboard.connectors.remote.network import Network
from switchboard.connectors.remote.registration import CLIENT_METADATA_PATH, ClientProfile, Registrar
from switchboard.connectors.remote.service import RemoteServerService
from switchboard.identity.oauth.audit import AuditLog
from switchboard.identity.principal import Principal
from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.settings import Settings

CREDENTIALS_PURPOSE = "switchboard connection credentials"


def client_profile(settings: Settings) -> ClientProfile:
    """How Switchboard presents itself to remote MCP servers' authorization servers: its client ID
    metadata document is published (and usable) only when the base URL is https."""
    document = settings.base_url + CLIENT_METADATA_PATH if settings.base_url.startswith("https://") else ""
    return ClientProfile(
        name="Switchboard", redirect_uri=settings.base_url + CALLBACK_PATH, metadata_document_url=document
    )


class ConnectorServices(msgspec.Struct, frozen=True):
    registry: ConnectorRegistry
    projects: ProjectService
    connections: ConnectionService
    grants: GrantService
    connect: ConnectFlow
    credentials: CredentialService
    provider: ProviderClient
    runner: ActionRunner
    calls: ActionCalls
    remote: RemoteServerService

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        audit: AuditLog,
        sign: Signer,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ConnectorServices:
        """``transport`` lets tests inject faults into calls to third-party apps."""
        box = SecretBox(settings.secret_key, CREDENTIALS_PURPOSE, settings.previous_keys)
        registry = ConnectorRegistry(Path(settings.connectors_dir) if settings.connectors_dir else None)
        network = Network()
        remote = RemoteServerService(
            box=box,
            registry=registry,
            network=network,
            registrar=Registrar(network, client_profile(settings)),
        )
        connections = ConnectionService(box=box, definitions=registry, remote_defaults=remote.client_defaults)
        provider = ProviderClient(timeout=settings.provider_timeout_seconds, transport=transport)
        grants = GrantService(
            base_url=settings.base_url, box=box, connections=connections, provider=provider, audit=audit
        )
        credentials = CredentialService(
            issuer=settings.base_url, connections=connections, grants=grants, provider=provider, sign=sign
        )
        runner = ActionRunner(
            transport=transport,
            network=network,
            on_tools_changed=lambda key, headers: remote.refresh_tools(key, headers=headers),
        )
        return cls(
            registry=registry,
            projects=ProjectService(),
            connections=connections,
            grants=grants,
            connect=ConnectFlow(box=box, connections=connections, provider=provider, grants=grants),
            credentials=credentials,
            provider=provider,
            runner=runner,
            calls=ActionCalls(connections=connections, credentials=credentials, grants=grants, runner=runner),
            remote=remote,
        )

    async def test_connection(self, connection_id: UUID, principal: Principal) -> TestOutcome:
        """Console "Test connection": as the builder, with their own grant for an end user's connection."""
        principal.require_builder()
        check = ConnectionCheck(
            connections=self.connections,
            credentials=self.credentials,
            provider=self.provider,
            runner=self.runner,
        )
        return await check.run(connection_id, Caller(principal.user_id, principal.email))

    async def shared_connect_link(self, connection_id: UUID, principal: Principal, *, return_to: str) -> str:
        """A builder's link to connect a shared connection with their own account, for every caller."""
        principal.require_builder()
        return await self.grants.connect_link(
            principal.user_id, connection_id, return_to=return_to, shared=True
        )

    async def disconnect_shared(self, connection_id: UUID, principal: Principal) -> str:
        """Revoke and forget a shared connection's grant, whoever connected it; returns a warning when the
        app could not revoke it."""
        principal.require_builder()
        connection = await self.connections.get(connection_id)
        if connection.is_end_user:
            raise InvalidInput(
                f"{connection.name} is connected by each end user; they disconnect under My connections.",
                field="connection_id",
            )
        return await self.grants.disconnect(principal.user_id, connection_id)

    async def delete_connection(self, connection_id: UUID, *, actor: Principal) -> None:
        """Delete a connection after asking the app to revoke every user's tokens (best effort: an app
        that cannot be reached does not keep the connection alive here)."""
        actor.require_builder()
        for user_id in await self.grants.users_of(connection_id):
            await self.grants.disconnect(user_id, connection_id)
        await self.connections.delete(connection_id, actor=actor)
        self.credentials.forget(connection_id)

    async def refresh_remote_tools(
        self, key: str, principal: Principal, *, connection_id: UUID | None = None
    ) -> RemoteServer:
        """A remote server's tools listed again: with its own settings, or with a connection's credentials
        (the builder's own grant for an end user's connection)."""
        principal.require_builder()
        if connection_id is None:
            return await self.remote.refresh_own(key)
        connection = await self.connections.get(connection_id)
        if connection.connector != key:
            raise InvalidInput(f"{connection.name} is not a connection to {key!r}.", field="connection_id")
        auth = await self.credentials.request_auth(connection_id, Caller(principal.user_id, principal.email))
        return await self.remote.refresh_tools(key, headers=auth.headers)

    async def update_remote(
        self, key: str, patch: RemoteServerPatch, *, actor: Principal | None
    ) -> RemoteServer:
        """Change a remote server; when that gives it another client (a new issuer means registering
        again), its connections move to the new client and every user's grant asks for consent again."""
        before = await self.remote.get(key)
        after = await self.remote.update(key, patch, actor=actor)
        old, new = before.auth.client_id, after.auth.client_id
        if not old or new == old:
            return after
        defaults = await self.remote.client_defaults(key)
        secret = defaults[1].client_secret if defaults else ""
        for connection in await self.connections.list_all():
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
            await self.connections.update(connection.id, data, actor=None)
            self.credentials.forget(connection.id)
        return after

    async def aclose(self) -> None:
        await self.provider.aclose()
        await self.runner.aclose()
