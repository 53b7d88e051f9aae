"""The connector services a running app shares, wired from the settings."""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec

from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.calls import ActionCalls
from switchboard.connectors.connections.accounts import ConnectedAccounts
from switchboard.connectors.connections.checks import ConnectionCheck
from switchboard.connectors.connections.connect import ConnectFlow
from switchboard.connectors.connections.credentials import CredentialService, Signer
from switchboard.connectors.connections.grant_store import GrantStore, UserEmails
from switchboard.connectors.connections.grants import CALLBACK_PATH, GrantService
from switchboard.connectors.connections.lifecycle import ConnectionLifecycle
from switchboard.connectors.connections.projects import ProjectService
from switchboard.connectors.connections.provider import ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.connections import RemoteConnections
from switchboard.connectors.remote.network import Network
from switchboard.connectors.remote.registration import CLIENT_METADATA_PATH, ClientProfile, Registrar
from switchboard.connectors.remote.service import RemoteServerService
from switchboard.identity.audit import AuditLog
from switchboard.platform.core.crypto import SecretBox
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
    audit: AuditLog
    """The audit log every service here records through (the app's one, which the recipes use too)."""
    registry: ConnectorRegistry
    projects: ProjectService
    connections: ConnectionService
    lifecycle: ConnectionLifecycle
    checks: ConnectionCheck
    grants: GrantService
    grant_store: GrantStore
    accounts: ConnectedAccounts
    connect: ConnectFlow
    credentials: CredentialService
    provider: ProviderClient
    runner: ActionRunner
    calls: ActionCalls
    remote: RemoteServerService
    remote_connections: RemoteConnections

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        audit: AuditLog,
        sign: Signer,
        users: UserEmails,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ConnectorServices:
        """``users`` names people in audit records; ``transport`` lets tests inject faults into calls to
        third-party apps."""
        box = SecretBox(settings.secret_key, CREDENTIALS_PURPOSE, settings.previous_keys)
        registry = ConnectorRegistry(
            Path(settings.connectors_dir) if settings.connectors_dir else None, audit=audit
        )
        network = Network()
        remote = RemoteServerService(
            box=box,
            registry=registry,
            network=network,
            registrar=Registrar(network, client_profile(settings)),
            audit=audit,
        )
        connections = ConnectionService(
            box=box, definitions=registry, remote_defaults=remote.client_defaults, audit=audit
        )
        provider = ProviderClient(timeout=settings.provider_timeout_seconds, transport=transport)
        grant_store = GrantStore(box=box, audit=audit, users=users)
        grants = GrantService(
            base_url=settings.base_url, store=grant_store, connections=connections, provider=provider
        )
        credentials = CredentialService(
            issuer=settings.base_url, connections=connections, grants=grants, provider=provider, sign=sign
        )
        lifecycle = ConnectionLifecycle(connections=connections, grants=grants, credentials=credentials)
        runner = ActionRunner(
            transport=transport,
            network=network,
            on_tools_changed=lambda key, headers: remote.refresh_tools(key, headers=headers),
        )
        return cls(
            audit=audit,
            registry=registry,
            projects=ProjectService(audit),
            connections=connections,
            lifecycle=lifecycle,
            checks=ConnectionCheck(
                connections=connections, credentials=credentials, provider=provider, runner=runner
            ),
            grants=grants,
            grant_store=grant_store,
            accounts=ConnectedAccounts(connections=connections, users=users),
            connect=ConnectFlow(
                box=box, connections=connections, provider=provider, grants=grants, store=grant_store
            ),
            credentials=credentials,
            provider=provider,
            runner=runner,
            calls=ActionCalls(connections=connections, credentials=credentials, grants=grants, runner=runner),
            remote=remote,
            remote_connections=RemoteConnections(
                remote=remote, connections=connections, lifecycle=lifecycle, credentials=credentials
            ),
        )

    async def aclose(self) -> None:
        await self.provider.aclose()
        await self.runner.aclose()
