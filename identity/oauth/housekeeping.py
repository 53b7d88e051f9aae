"""Clearing what the authorization server no longer needs: unused registrations, expired codes and
refresh tokens, grants no token can come from any more, revocations no token can match any more.

``platform/housekeeping.py`` runs ``sweep`` with the other areas' clean-ups; its statements are
idempotent, so processes sweeping at the same time do no harm.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.tables import OAuthCode, OAuthGrant, OAuthRefreshToken


class Swept(msgspec.Struct, frozen=True):
    clients: int
    codes: int
    refresh_tokens: int
    grants: int
    revocations: int


async def sweep(server: AuthorizationServer) -> Swept:
    now = datetime.now(UTC)
    codes = (
        await OAuthCode.delete().where(OAuthCode.expires_at < now - timedelta(days=1)).returning(OAuthCode.id)
    )
    refresh_tokens = (
        await OAuthRefreshToken.delete()
        .where(OAuthRefreshToken.expires_at < now)
        .returning(OAuthRefreshToken.id)
    )
    # Every client-credentials token request makes a grant; once its last access token has expired (and a
    # revoked grant's too) nothing can come from it. Live grants of people stay: My apps shows their use.
    token_expired = now - server.lifetimes.access_token - timedelta(minutes=1)
    grants = (
        await OAuthGrant.delete()
        .where(
            (OAuthGrant.last_used_at < token_expired)
            & ((OAuthGrant.grant_type == "client_credentials") | OAuthGrant.revoked_at.is_not_null())
        )
        .returning(OAuthGrant.id)
    )
    return Swept(
        clients=await server.clients.remove_unused(),
        codes=len(codes),
        refresh_tokens=len(refresh_tokens),
        grants=len(grants),
        revocations=await RevocationList.prune(),
    )
