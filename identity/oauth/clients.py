"""OAuth clients, as the console, the command line and the pages use them: one service over the parts.

Each concern has its own module: ``client_store`` (lookups), ``registration`` (RFC 7591 dynamic
registration), ``metadata_documents`` (client ID metadata documents), ``static_clients`` (clients admins
create, service accounts) and ``client_lifecycle`` (registration policy, approval, refusal, scope caps,
deletion, removal of unused clients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth.client_lifecycle import ClientLifecycle
from switchboard.identity.oauth.client_store import ClientStore
from switchboard.identity.oauth.metadata_documents import MetadataDocumentClients, MetadataFetcher
from switchboard.identity.oauth.models import (
    Client,
    ClientGroup,
    ClientStatus,
    ClientWithSecret,
    RegistrationPolicy,
    StaticClientCreate,
)
from switchboard.identity.oauth.registration import DynamicRegistration
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.static_clients import StaticClients
from switchboard.identity.principal import Actor, Principal
from switchboard.identity.tables import OAuthClient


class ClientService:
    def __init__(
        self,
        *,
        audit: AuditLog,
        revocations: RevocationList,
        fetcher: MetadataFetcher | None,
        unused_lifetime: timedelta,
    ) -> None:
        self.store = ClientStore()
        self.lifecycle = ClientLifecycle(
            store=self.store, audit=audit, revocations=revocations, unused_lifetime=unused_lifetime
        )
        self.registration = DynamicRegistration(store=self.store, lifecycle=self.lifecycle, audit=audit)
        self.metadata_documents = MetadataDocumentClients(
            store=self.store, lifecycle=self.lifecycle, audit=audit, fetcher=fetcher
        )
        self.static = StaticClients(store=self.store, audit=audit)

    # Lookups (client_store) --------------------------------------------------------------------------

    async def get(self, client_id: str) -> Client:
        return await self.store.get(client_id)

    async def find(self, client_id: str) -> Client | None:
        return await self.store.find(client_id)

    async def get_by_pk(self, client_pk: UUID) -> Client:
        return await self.store.get_by_pk(client_pk)

    async def list_all(self) -> list[Client]:
        return await self.store.list_all()

    async def list_grouped(self) -> list[ClientGroup]:
        return await self.store.list_grouped()

    async def count_awaiting_approval(self) -> int:
        """How many clients wait for an administrator's approval."""
        count: int = await OAuthClient.count().where(OAuthClient.status == ClientStatus.PENDING.value)
        return count

    # Registration and metadata documents -------------------------------------------------------------

    async def register(
        self, metadata: Mapping[str, Any], *, ip_address: str = ""
    ) -> tuple[Client, str | None, dict[str, Any]]:
        return await self.registration.register(metadata, ip_address=ip_address)

    # Static clients ----------------------------------------------------------------------------------

    async def create_static(self, data: StaticClientCreate, *, actor: Actor) -> ClientWithSecret:
        return await self.static.create(data, actor=actor)

    async def regenerate_secret(self, client_id: str, *, actor: Actor) -> str:
        return await self.static.regenerate_secret(client_id, actor=actor)

    # Lifecycle (client_lifecycle) --------------------------------------------------------------------

    async def policy(self) -> RegistrationPolicy:
        return await self.lifecycle.policy()

    async def allow_private_metadata_hosts(self) -> bool:
        return await self.lifecycle.allow_private_metadata_hosts()

    async def set_policy(
        self,
        policy: RegistrationPolicy,
        *,
        allow_private_metadata_hosts: bool | None = None,
        actor: Actor,
    ) -> None:
        await self.lifecycle.set_policy(
            policy, allow_private_metadata_hosts=allow_private_metadata_hosts, actor=actor
        )

    async def approve(self, client_id: str, *, actor: Actor) -> Client:
        return await self.lifecycle.approve(client_id, actor=actor)

    async def refuse(self, client_id: str, *, actor: Principal) -> Client:
        return await self.lifecycle.refuse(client_id, actor=actor)

    async def cap_scopes(self, client_id: str, cap: Sequence[str], *, actor: Actor) -> Client:
        return await self.lifecycle.cap_scopes(client_id, cap, actor=actor)

    async def delete(self, client_id: str, *, actor: Actor, reason: str = "") -> None:
        await self.lifecycle.delete(client_id, actor=actor, reason=reason)

    async def remove_unused(self) -> int:
        return await self.lifecycle.remove_unused()
