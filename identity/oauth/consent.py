"""Consent: what each user allowed each client for each resource, and My apps."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.client_store import client_entry
from switchboard.identity.oauth.models import AppGrant, ClientKind
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked
from switchboard.identity.tables import OAuthClient, OAuthConsent, OAuthGrant, OAuthRefreshToken
from switchboard.platform.core.errors import NotFound


class ConsentService:
    def __init__(self, audit: AuditLog, revocations: RevocationList) -> None:
        self._audit = audit
        self._revocations = revocations

    async def covers(self, user_id: UUID, client_pk: UUID, resource: str, requested: tuple[str, ...]) -> bool:
        row = (
            await OAuthConsent.select(OAuthConsent.scope)
            .where(
                (OAuthConsent.user == user_id)
                & (OAuthConsent.client == client_pk)
                & (OAuthConsent.resource == resource)
            )
            .first()
        )
        return row is not None and scopes.covers(scopes.parse(row["scope"]), requested)

    async def grant(
        self,
        *,
        user_id: UUID,
        user_email: str,
        client_pk: UUID,
        client_id: str,
        client_name: str,
        resource: str,
        requested: tuple[str, ...],
    ) -> None:
        """Remember the consent; a consent that grows keeps what was allowed before."""
        now = datetime.now(UTC)
        row = (
            await OAuthConsent.objects()
            .where(
                (OAuthConsent.user == user_id)
                & (OAuthConsent.client == client_pk)
                & (OAuthConsent.resource == resource)
            )
            .first()
        )
        if row is None:
            await OAuthConsent.insert(
                OAuthConsent(
                    user=user_id,
                    client=client_pk,
                    resource=resource,
                    scope=scopes.join(requested),
                    created_at=now,
                    updated_at=now,
                )
            ).on_conflict(action="DO NOTHING")
        else:
            merged = scopes.join((*scopes.parse(row.scope), *requested))
            await OAuthConsent.update({OAuthConsent.scope: merged, OAuthConsent.updated_at: now}).where(
                OAuthConsent.id == row.id
            )
        await self._audit.record(
            client_entry(
                "consent.granted",
                client_id,
                client_name,
                actor=user_email,
                subject=user_email,
                scope=scopes.join(requested),
                reason=resource,
            )
        )

    async def apps(self, user_id: UUID) -> list[AppGrant]:
        """The clients the user has authorized, with what and when."""
        consents = await OAuthConsent.select(
            OAuthConsent.resource,
            OAuthConsent.scope,
            OAuthConsent.created_at,
            OAuthConsent.client.client_id.as_alias("client_id"),
            OAuthConsent.client.name.as_alias("client_name"),
            OAuthConsent.client.kind.as_alias("client_kind"),
        ).where(OAuthConsent.user == user_id)
        used = await OAuthGrant.select(
            OAuthGrant.client.client_id.as_alias("client_id"), OAuthGrant.last_used_at
        ).where((OAuthGrant.user == user_id) & OAuthGrant.revoked_at.is_null())
        last_used: dict[str, datetime] = {}
        for row in used:
            current = last_used.get(row["client_id"])
            if current is None or row["last_used_at"] > current:
                last_used[row["client_id"]] = row["last_used_at"]
        apps: dict[str, AppGrant] = {}
        for row in consents:
            known = apps.get(row["client_id"])
            resources = [*(known.resources if known else []), row["resource"]]
            granted = [*(known.scopes if known else []), *scopes.parse(row["scope"])]
            apps[row["client_id"]] = AppGrant(
                client_id=row["client_id"],
                client_name=row["client_name"],
                client_kind=ClientKind(row["client_kind"]),
                resources=[resource for resource in dict.fromkeys(resources) if resource],
                scopes=list(dict.fromkeys(granted)),
                authorized_at=min(row["created_at"], known.authorized_at) if known else row["created_at"],
                last_used_at=last_used.get(row["client_id"]),
            )
        return sorted(apps.values(), key=lambda app: app.client_name.lower())

    async def revoke_app(self, user_id: UUID, user_email: str, client_id: str) -> None:
        """End the user's grant to the client: its consent, its refresh tokens and its access tokens."""
        client = (
            await OAuthClient.select(OAuthClient.id, OAuthClient.name)
            .where(OAuthClient.client_id == client_id)
            .first()
        )
        if client is None:
            raise NotFound("There is no such app.", field="client_id")
        deleted = (
            await OAuthConsent.delete()
            .where((OAuthConsent.user == user_id) & (OAuthConsent.client == client["id"]))
            .returning(OAuthConsent.id)
        )
        grants = await OAuthGrant.select(OAuthGrant.id).where(
            (OAuthGrant.user == user_id)
            & (OAuthGrant.client == client["id"])
            & OAuthGrant.revoked_at.is_null()
        )
        if not deleted and not grants:
            raise NotFound("You have not authorized this app.", field="client_id")
        for grant in grants:
            await revoke_grant(self._revocations, grant["id"], reason="revoked by the user")
        await self._audit.record(
            client_entry("consent.revoked", client_id, client["name"], actor=user_email, subject=user_email)
        )


async def revoke_grant(revocations: RevocationList, grant_id: UUID, *, reason: str) -> None:
    """Stop a grant: its refresh tokens are deleted and its access tokens refused from now on.

    A grant already revoked is not revoked again: a spent code replayed over and over would otherwise
    add a revocation row (read by every process) each time.
    """
    newly_revoked = (
        await OAuthGrant.update({OAuthGrant.revoked_at: datetime.now(UTC), OAuthGrant.revoked_reason: reason})
        .where((OAuthGrant.id == grant_id) & OAuthGrant.revoked_at.is_null())
        .returning(OAuthGrant.id)
    )
    if newly_revoked or not await OAuthGrant.exists().where(OAuthGrant.id == grant_id):
        await revocations.revoke(Revoked.GRANT, str(grant_id))
    await OAuthRefreshToken.delete().where(OAuthRefreshToken.grant == grant_id)
