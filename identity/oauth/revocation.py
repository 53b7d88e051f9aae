"""Token revocation (RFC 7009): a client ends one of its refresh tokens, with the whole grant it belongs
to, or one of its access tokens.

The client authenticates as at the token endpoint (§2.1). A token that is unknown, invalid or another
client's is answered like a revoked one (§2.2), so the answer tells nothing about it.
"""

from __future__ import annotations

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.oauth.client_authentication import ClientAuthenticator
from switchboard.identity.oauth.consent import revoke_grant
from switchboard.identity.oauth.errors import invalid_request
from switchboard.identity.oauth.parameters import RequestContext, single
from switchboard.identity.oauth.revocation_list import RevocationList, Revoked
from switchboard.identity.oauth.verifier import TokenVerifier
from switchboard.identity.tables import OAuthRefreshToken
from switchboard.platform.core.tokens import token_hash


class RevocationEndpoint:
    def __init__(
        self,
        *,
        authenticator: ClientAuthenticator,
        verifier: TokenVerifier,
        revocations: RevocationList,
        audit: AuditLog,
    ) -> None:
        self._authenticator = authenticator
        self._verifier = verifier
        self._revocations = revocations
        self._audit = audit

    async def revoke(self, context: RequestContext) -> None:
        """Revoke the ``token`` sent (§2.1), whatever its ``token_type_hint``: a refresh token is looked
        up first, as only its hash is known."""
        client = await self._authenticator.authenticate(context)
        token = single(context.form, "token")
        if not token:
            raise invalid_request("Send the token to revoke.")
        row = (
            await OAuthRefreshToken.select(OAuthRefreshToken.grant, OAuthRefreshToken.grant.client)
            .where(OAuthRefreshToken.token_hash == token_hash(token))
            .first()
        )
        if row is not None:
            if row["grant.client"] == client.id:
                await revoke_grant(
                    self._revocations, row["grant"], reason="refresh token revoked by the client"
                )
                await self._audit.record(
                    AuditEntry(
                        action="token.revoked",
                        client_id=client.client_id,
                        client_name=client.name,
                        reason="refresh token",
                    )
                )
            return
        claims = await self._verifier.claims_if_valid(token)
        if claims is not None and claims.client_id == client.client_id:
            await self._revocations.revoke(Revoked.TOKEN, claims.token_id)
            await self._audit.record(
                AuditEntry(
                    action="token.revoked",
                    client_id=client.client_id,
                    client_name=client.name,
                    reason="access token",
                )
            )
