"""The authorization code grant's token request (RFC 6749 §4.1.3-4.1.4), with PKCE (RFC 7636 §4.6).

A code is spent once. Spending it and recording the grant it produced is one statement, and a code
presented again revokes that grant: it leaked (OAuth 2.1 §4.1.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import NoReturn, cast
from uuid import UUID

from switchboard.identity.oauth import scopes, spec
from switchboard.identity.oauth.consent import revoke_grant
from switchboard.identity.oauth.errors import invalid_grant, invalid_request, invalid_target
from switchboard.identity.oauth.grants.base import Issued, active_user
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.parameters import single
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.scope_caps import within_cap
from switchboard.identity.oauth.tokens import TokenIssuer
from switchboard.identity.tables import OAuthCode, OAuthGrant
from switchboard.platform.core.tokens import token_hash


class AuthorizationCodeGrant:
    def __init__(self, *, tokens: TokenIssuer, revocations: RevocationList) -> None:
        self._tokens = tokens
        self._revocations = revocations

    async def issue(self, client: Client, form: Mapping[str, Sequence[str]]) -> Issued:
        code = single(form, "code")
        redirect_uri = single(form, "redirect_uri")
        verifier = single(form, "code_verifier")
        if not code:
            raise invalid_request("Send the authorization code.")
        row = await OAuthCode.objects().where(OAuthCode.code_hash == token_hash(code)).first()
        if row is None:
            raise invalid_grant("The authorization code is unknown, expired or already used.")
        if cast("datetime | None", row.used_at) is not None:
            await self._replayed(row.id)
        # Checked before the code is spent, so that a mistaken request leaves the client its code.
        now = datetime.now(UTC)
        if row.client != client.id:
            raise invalid_grant("The authorization code was issued to another client.")
        if row.expires_at <= now:
            raise invalid_grant("The authorization code has expired.")
        if redirect_uri != row.redirect_uri:
            raise invalid_grant("redirect_uri does not match the one of the authorization request.")
        if not verifier or not spec.verify_pkce(verifier, row.code_challenge):
            raise invalid_grant("The code_verifier does not match the code_challenge (PKCE).")
        resource = single(form, "resource")
        if resource is not None and resource != row.resource:
            raise invalid_target("The resource differs from the one that was authorized.")
        # The client's scope cap as it is now: an admin may have narrowed it since the consent.
        granted = within_cap(client, scopes.parse(row.scope))
        user = await active_user(row.user)
        grant = OAuthGrant(
            client=client.id,
            user=row.user,
            grant_type="authorization_code",
            scope=row.scope,
            resource=row.resource,
            created_at=now,
            last_used_at=now,
        )
        await grant.save()
        # Spending the code and recording what it produced is one statement: a concurrent replay
        # either finds the code unspent (and loses here) or finds the grant to revoke.
        spent = (
            await OAuthCode.update({OAuthCode.used_at: now, OAuthCode.grant: grant.id})
            .where((OAuthCode.id == row.id) & OAuthCode.used_at.is_null())
            .returning(OAuthCode.id)
        )
        if not spent:
            await OAuthGrant.delete().where(OAuthGrant.id == grant.id)
            await self._replayed(row.id)
        return Issued(await self._tokens.issue(client, grant, with_refresh=True, scope=granted), user)

    async def _replayed(self, code_id: UUID) -> NoReturn:
        """The code leaked: whatever it produced is revoked (OAuth 2.1 §4.1.3), and the request refused."""
        spent = await OAuthCode.select(OAuthCode.grant).where(OAuthCode.id == code_id).first()
        if spent and spent["grant"]:
            await revoke_grant(self._revocations, spent["grant"], reason="authorization code replayed")
        raise invalid_grant("The authorization code was already used; the tokens it produced are revoked.")
