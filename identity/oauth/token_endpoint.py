"""The token endpoint (RFC 6749 §3.2): authenticates the client (§2.3), holds it to the request limits
and to the grant types it registered, and hands the request to the grant (``grants``), with an
``audience`` parameter taken for ``resource`` (RFC 8707). Every token issued or refused is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.oauth.client_authentication import ClientAuthenticator
from switchboard.identity.oauth.client_store import ClientStore
from switchboard.identity.oauth.errors import OAuthError, invalid_request, invalid_target, unauthorized_client
from switchboard.identity.oauth.grants.base import Grant, RefusedFor
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.parameters import RequestContext, single
from switchboard.identity.oauth.rate_limits import EndpointLimits
from switchboard.identity.oauth.tokens import TokenResponse
from switchboard.identity.tables import OAuthCode, OAuthRefreshToken
from switchboard.platform.core.tokens import token_hash

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class TokenEndpoint:
    def __init__(
        self,
        *,
        authenticator: ClientAuthenticator,
        clients: ClientStore,
        grants: Mapping[str, Grant],
        audit: AuditLog,
        limits: EndpointLimits,
    ) -> None:
        self._authenticator = authenticator
        self._clients = clients
        self._grants = dict(grants)
        self._audit = audit
        self._limits = limits

    async def token(self, context: RequestContext) -> TokenResponse:
        """The access token response (§5.1), or ``OAuthError`` for the error response (§5.2)."""
        form = context.form
        grant_type = single(form, "grant_type")
        await self._limits.token_request_from(context.ip_address)
        client: Client | None = None
        try:
            client = await self._authenticator.authenticate(context)
            await self._limits.token_request_by(client.client_id)
            if not grant_type:
                raise invalid_request("Send grant_type.")
            grant = self._grants.get(grant_type)
            if grant is None:
                raise OAuthError(
                    "unsupported_grant_type", "Use authorization_code, refresh_token or client_credentials."
                )
            if grant_type not in client.grant_types:
                raise unauthorized_client(f"This client may not use the {grant_type} grant.")
            issued = await grant.issue(client, _audience_as_resource(form))
        except OAuthError as exc:
            await self._audit.record(
                AuditEntry(
                    action="token.refused",
                    outcome="refused",
                    subject=(
                        exc.subject
                        if isinstance(exc, RefusedFor)
                        else await _subject_of_refused(grant_type, form, client)
                    ),
                    client_id=client.client_id if client else (_first(form, "client_id") or ""),
                    client_name=client.name if client else "",
                    grant_type=(grant_type or "")[:40],
                    reason=f"{exc.code}: {exc.description}",
                    ip_address=context.ip_address,
                )
            )
            raise
        await self._clients.touch(client)
        await self._audit.record(
            AuditEntry(
                action="token.issued",
                subject=issued.subject,
                client_id=client.client_id,
                client_name=client.name,
                grant_type=grant_type,
                scope=issued.response.scope,
                ip_address=context.ip_address,
            )
        )
        return issued.response


def _audience_as_resource(form: Mapping[str, Sequence[str]]) -> Mapping[str, Sequence[str]]:
    """The request with ``audience``, which some machine clients send instead of ``resource`` (RFC 8707),
    taken for it, to be checked as it is. Never ignored: the client means to present the token there, and
    a token for another audience would be refused where it is used. Naming another resource than
    ``resource`` does is ``invalid_target``."""
    audience = form.get("audience") or []
    if not audience:
        return form
    if len(audience) > 1:
        raise invalid_target("Ask for one audience per request.")
    resource = form.get("resource") or []
    if not resource:
        return {**form, "resource": [audience[0]]}
    if any(value != audience[0] for value in resource):
        raise invalid_target("audience and resource name different resources.")
    return form


async def _subject_of_refused(
    grant_type: str | None, form: Mapping[str, Sequence[str]], client: Client | None
) -> str:
    """Whose token a refused request was after, when the code or refresh token says (for audit)."""
    if grant_type == "client_credentials":
        return (client.service_account_email or "") if client else ""
    presented = _first(form, "code" if grant_type == "authorization_code" else "refresh_token")
    if not presented or grant_type not in ("authorization_code", "refresh_token"):
        return ""
    if grant_type == "authorization_code":
        row = (
            await OAuthCode.select(OAuthCode.user.email.as_alias("email"))
            .where(OAuthCode.code_hash == token_hash(presented))
            .first()
        )
    else:
        row = (
            await OAuthRefreshToken.select(
                OAuthRefreshToken.grant.user.email.as_alias("email")  # type: ignore[union-attr]
            )
            .where(OAuthRefreshToken.token_hash == token_hash(presented))
            .first()
        )
    return str(row["email"]) if row else ""


def _first(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    """A parameter's first value, cut short: for the audit of a request that may be malformed."""
    values = form.get(name) or []
    return values[0][:500] if values else None
