"""The refresh token grant (RFC 6749 §6), with rotation and reuse detection (OAuth 2.1 §4.3.1,
RFC 9700 §4.14.2).

Every refresh spends the token presented and issues a new one, which names the token it was issued for.
A spent token presented again means it leaked, and the whole grant is revoked. The one exception is a
client that sent the same refresh twice at once: within the grace window after the first use, and only
while no token issued for the spent one has itself been refreshed with, the second request gets tokens
of its own. Once the client has moved on, nobody but a thief holds the old token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID

from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.consent import revoke_grant
from switchboard.identity.oauth.errors import invalid_grant, invalid_request, invalid_scope, invalid_target
from switchboard.identity.oauth.grants.base import Issued, RefusedFor, active_user, email_of
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.parameters import single
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.scope_caps import within_cap
from switchboard.identity.oauth.tokens import TokenIssuer
from switchboard.identity.tables import OAuthGrant, OAuthRefreshToken
from switchboard.platform.core.tokens import token_hash

log = logging.getLogger("switchboard.oauth")


class RefreshTokenGrant:
    def __init__(self, *, tokens: TokenIssuer, revocations: RevocationList, reuse_grace: timedelta) -> None:
        self._tokens = tokens
        self._revocations = revocations
        self._reuse_grace = reuse_grace

    async def issue(self, client: Client, form: Mapping[str, Sequence[str]]) -> Issued:
        presented = single(form, "refresh_token")
        if not presented:
            raise invalid_request("Send the refresh_token.")
        row = (
            await OAuthRefreshToken.objects()
            .where(OAuthRefreshToken.token_hash == token_hash(presented))
            .first()
        )
        if row is None:
            raise invalid_grant("The refresh token is unknown, expired or revoked.")
        grant = await OAuthGrant.objects().where(OAuthGrant.id == row.grant).first()
        if grant is None or grant.client != client.id:
            raise invalid_grant("The refresh token was issued to another client.")
        if cast("datetime | None", grant.revoked_at) is not None:
            raise invalid_grant("The refresh token has been revoked.")
        now = datetime.now(UTC)
        if row.expires_at <= now:
            raise invalid_grant("The refresh token has expired.")
        if cast("datetime | None", row.used_at) is not None:
            await self._presented_again(row.id, grant, client)
        # A request refused for its scope or resource leaves an unused token usable (RFC 6749 §5.2).
        requested = scopes.parse(single(form, "scope"))
        granted = scopes.parse(grant.scope)
        if requested and not scopes.covers(granted, requested):
            raise invalid_scope("A refresh can only keep or narrow the granted scopes.")
        # Never beyond the client's scope cap as it is now, however it was when the grant was made.
        scope = within_cap(client, requested or granted)
        resource = single(form, "resource")
        if resource is not None and resource != grant.resource:
            raise invalid_target("The resource differs from the one that was authorized.")
        used = (
            await OAuthRefreshToken.update({OAuthRefreshToken.used_at: now})
            .where((OAuthRefreshToken.id == row.id) & OAuthRefreshToken.used_at.is_null())
            .returning(OAuthRefreshToken.id)
        )
        if not used:
            await self._presented_again(row.id, grant, client)
        user = await active_user(grant.user)
        await OAuthGrant.update({OAuthGrant.last_used_at: now}).where(OAuthGrant.id == grant.id)
        response = await self._tokens.issue(
            client, grant, with_refresh=True, scope=scope, rotated_from=row.id
        )
        return Issued(response, user)

    async def _presented_again(self, token_id: UUID, grant: OAuthGrant, client: Client) -> None:
        """A spent refresh token presented again. Taken for the same client refreshing twice at once only
        within the grace window after its first use, and only while no token issued for it has been used
        in turn (the grace covers requests that crossed, not a client that has moved on); otherwise the
        token leaked and the whole grant is revoked. A grace of zero allows no second use at all."""
        first_use = (
            await OAuthRefreshToken.select(OAuthRefreshToken.used_at)
            .where(OAuthRefreshToken.id == token_id)
            .first()
        )
        used_at = first_use["used_at"] if first_use else None
        if used_at is not None and self._within_grace(used_at) and not await _successor_used(token_id):
            return
        await revoke_grant(self._revocations, grant.id, reason="refresh token reused")
        log.warning(
            "A spent refresh token of client %s was presented again: grant %s and its tokens are revoked.",
            client.client_id,
            grant.id,
        )
        refusal = invalid_grant("The refresh token was already used; every token of this grant is revoked.")
        raise RefusedFor(refusal, subject=await email_of(grant.user))

    def _within_grace(self, used_at: datetime) -> bool:
        grace = self._reuse_grace
        return grace > timedelta(0) and datetime.now(UTC) - used_at <= grace


async def _successor_used(token_id: UUID) -> bool:
    """Whether a token issued for ``token_id`` has been refreshed with."""
    return bool(
        await OAuthRefreshToken.exists().where(
            (OAuthRefreshToken.rotated_from == token_id) & OAuthRefreshToken.used_at.is_not_null()
        )
    )
