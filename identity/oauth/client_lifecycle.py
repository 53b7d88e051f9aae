"""What admins decide about clients, and how clients end.

The registration policy decides what becomes of a dynamically registered or metadata-document client:
``open`` approves it at once, ``admin_approval`` (the default) keeps it pending until an owner or admin
approves it (in the console, or by completing its first authorization), ``closed`` refuses it. A refused
client loses its grants; a deleted one loses everything it holds; a self-described client never used
within the configured time is removed. An admin may also cap the scopes a client can get (``scope_caps``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.client_store import (
    ClientStore,
    client_entry,
    json_value,
    now,
    record_admin_event,
)
from switchboard.identity.oauth.consent import revoke_grant
from switchboard.identity.oauth.models import Client, ClientKind, ClientStatus, RegistrationPolicy
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked
from switchboard.identity.oauth.scope_caps import clean_cap
from switchboard.identity.principal import Actor, Principal
from switchboard.identity.tables import IdentitySetting, OAuthClient, OAuthGrant, User

_POLICY_KEY = "registration_policy"
_POLICY_NAME = "Client registration policy"
_ALLOW_PRIVATE_KEY = "metadata_fetch_allow_private"


class ClientLifecycle:
    def __init__(
        self, *, store: ClientStore, audit: AuditLog, revocations: RevocationList, unused_lifetime: timedelta
    ) -> None:
        self._store = store
        self._audit = audit
        self._revocations = revocations
        self._unused_lifetime = unused_lifetime

    # Policy ----------------------------------------------------------------------------------------

    async def policy(self) -> RegistrationPolicy:
        value = await _setting(_POLICY_KEY)
        try:
            return RegistrationPolicy(value)
        except ValueError:
            return RegistrationPolicy.ADMIN_APPROVAL

    async def allow_private_metadata_hosts(self) -> bool:
        return await _setting(_ALLOW_PRIVATE_KEY) is True

    async def set_policy(
        self,
        policy: RegistrationPolicy,
        *,
        allow_private_metadata_hosts: bool | None = None,
        actor: Actor,
    ) -> None:
        actor.require_admin()
        await _store_setting(_POLICY_KEY, policy.value)
        if allow_private_metadata_hosts is not None:
            await _store_setting(_ALLOW_PRIVATE_KEY, allow_private_metadata_hosts)
        reason = f"registration {policy.value}"
        if allow_private_metadata_hosts is not None:
            allowed = "allowed" if allow_private_metadata_hosts else "refused"
            reason += f"; private metadata hosts {allowed}"
        await self._audit.change(
            actor,
            "policy.changed",
            object_type="settings",
            object_id=_POLICY_KEY,
            object_name=_POLICY_NAME,
            reason=reason,
        )

    # Approval, refusal and deletion ----------------------------------------------------------------

    async def approve(self, client_id: str, *, actor: Actor) -> Client:
        """Approve a pending client (the command line approves as ``COMMAND_LINE``)."""
        actor.require_admin()
        client = await self._store.get(client_id)
        await OAuthClient.update(
            {
                OAuthClient.status: ClientStatus.APPROVED.value,
                OAuthClient.approved_by: actor.user_id,
                OAuthClient.approved_at: now(),
            }
        ).where(OAuthClient.id == client.id)
        await record_admin_event(self._audit, "client.approved", client, actor)
        return await self._store.get(client_id)

    async def refuse(self, client_id: str, *, actor: Principal) -> Client:
        actor.require_admin()
        client = await self._store.get(client_id)
        await OAuthClient.update({OAuthClient.status: ClientStatus.REFUSED.value}).where(
            OAuthClient.id == client.id
        )
        # Its grants, not its client ID: approved again later, it can be given new tokens at once.
        await self._revoke_grants(client, reason="client refused")
        await record_admin_event(self._audit, "client.refused", client, actor)
        return await self._store.get(client_id)

    async def cap_scopes(self, client_id: str, cap: Sequence[str], *, actor: Actor) -> Client:
        """Allow the client at most the scopes of ``cap`` (empty: no cap), from its next token on
        (``scope_caps``)."""
        actor.require_admin()
        client = await self._store.get(client_id)
        cleaned = clean_cap(cap)
        await OAuthClient.update({OAuthClient.scope_cap: scopes.join(cleaned)}).where(
            OAuthClient.id == client.id
        )
        before = scopes.join(client.scope_cap)
        reason = "no cap before" if not before else f"{'' if cleaned else 'cap removed; '}was {before}"
        await record_admin_event(
            self._audit, "client.scopes_capped", client, actor, reason, scope=scopes.join(cleaned)
        )
        return await self._store.get(client_id)

    async def delete(self, client_id: str, *, actor: Actor, reason: str = "") -> None:
        """Delete the client with its codes, grants, refresh tokens and consents; its tokens stop now."""
        actor.require_admin()
        client = await self._store.get(client_id)
        if client.kind is ClientKind.METADATA_DOCUMENT:
            # Its client ID is its URL, which may come back: end its grants, not every token of that ID.
            await self._revoke_grants(client, reason="client deleted")
        else:
            await self._revocations.revoke(Revoked.CLIENT, client.client_id)
        await OAuthClient.delete().where(OAuthClient.id == client.id)
        if client.service_account_id is not None:
            await User.delete().where((User.id == client.service_account_id) & (User.kind == "service"))
        await record_admin_event(self._audit, "client.deleted", client, actor, reason=reason)

    async def remove_unused(self) -> int:
        """Delete dynamic and metadata-document clients never used within the configured time."""
        cutoff = now() - self._unused_lifetime
        rows = await OAuthClient.select(OAuthClient.client_id, OAuthClient.name).where(
            (OAuthClient.kind != ClientKind.STATIC.value)
            & OAuthClient.last_used_at.is_null()
            & (OAuthClient.created_at < cutoff)
        )
        for row in rows:
            await OAuthClient.delete().where(OAuthClient.client_id == row["client_id"])
            await self._audit.record(
                client_entry("client.deleted", row["client_id"], row["name"], reason="never used")
            )
        return len(rows)

    async def _revoke_grants(self, client: Client, *, reason: str) -> None:
        for grant in await OAuthGrant.select(OAuthGrant.id).where(
            (OAuthGrant.client == client.id) & OAuthGrant.revoked_at.is_null()
        ):
            await revoke_grant(self._revocations, grant["id"], reason=reason)


async def _setting(key: str) -> Any:
    row = await IdentitySetting.select(IdentitySetting.value).where(IdentitySetting.key == key).first()
    return None if row is None else json_value(row["value"])


async def _store_setting(key: str, value: Any) -> None:
    # Piccolo stores a str in a JSON column as it is (as if already encoded).
    value = json.dumps(value)
    current = now()
    updated = (
        await IdentitySetting.update({IdentitySetting.value: value, IdentitySetting.updated_at: current})
        .where(IdentitySetting.key == key)
        .returning(IdentitySetting.key)
    )
    if not updated:
        await IdentitySetting.insert(IdentitySetting(key=key, value=value, updated_at=current)).on_conflict(
            action="DO NOTHING"
        )
