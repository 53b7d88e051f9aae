"""The client credentials grant (RFC 6749 §4.4): a confidential client asks for tokens as its own
service account, an automation with no end user. It gets no refresh token (§4.4.3): it can always ask
again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from switchboard.identity.oauth import scopes
from switchboard.identity.oauth.errors import unauthorized_client
from switchboard.identity.oauth.grants.base import Issued, active_user
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.parameters import single
from switchboard.identity.oauth.resources import ResourceDirectory, requested_resource
from switchboard.identity.oauth.scope_caps import within_cap
from switchboard.identity.oauth.tokens import TokenIssuer
from switchboard.identity.tables import OAuthGrant


class ClientCredentialsGrant:
    def __init__(self, *, tokens: TokenIssuer, resources: ResourceDirectory) -> None:
        self._tokens = tokens
        self._resources = resources

    async def issue(self, client: Client, form: Mapping[str, Sequence[str]]) -> Issued:
        if not client.is_confidential or client.service_account_id is None:
            raise unauthorized_client(
                "Only a confidential client bound to a service account may use this grant."
            )
        resource = await requested_resource(self._resources, form)
        requested = scopes.requested(
            single(form, "scope"), registered=client.scope, catalogue=resource.scopes if resource else ()
        )
        requested = within_cap(client, tuple(item for item in requested if item != scopes.OFFLINE_ACCESS))
        user = await active_user(client.service_account_id)
        now = datetime.now(UTC)
        grant = OAuthGrant(
            client=client.id,
            user=client.service_account_id,
            grant_type="client_credentials",
            scope=scopes.join(requested),
            resource=resource.url if resource else "",
            created_at=now,
            last_used_at=now,
        )
        await grant.save()
        return Issued(await self._tokens.issue(client, grant, with_refresh=False), user)
