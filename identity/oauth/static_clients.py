"""Static clients: created by an admin (console or command line) and approved by their creator.

A confidential client's secret is shown once, when it is made or regenerated; only its hash is kept. A
client of the client credentials grant (RFC 6749 §4.4) gets a service account: a user of kind
``service`` that cannot sign in, whose tokens the client asks for as itself.
"""

from __future__ import annotations

import re

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth import redirects
from switchboard.identity.oauth.client_store import (
    CLIENT_ID_PREFIX,
    ClientStore,
    fingerprint,
    new_client_id,
    new_secret,
    now,
    record_admin_event,
)
from switchboard.identity.oauth.models import ClientKind, ClientStatus, ClientWithSecret, StaticClientCreate
from switchboard.identity.principal import Actor
from switchboard.identity.services.users import validate_text
from switchboard.identity.tables import OAuthClient, User
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.tokens import token_hash

ALL_GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials"})
# Stored as a service account's password hash: not an argon2 hash, so no password ever matches it (an
# empty hash would be checked against the sign-in's dummy hash, whose password is public).
NO_PASSWORD = "!no password: service account"


def _service_account_email(name: str, client_id: str) -> str:
    """A recognisable address that can never receive mail (.invalid), such as
    ``nightly-sync-4f2a9c@service-accounts.invalid``; the client ID makes it unique."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"
    return f"{slug}-{client_id[len(CLIENT_ID_PREFIX) :][:6].lower()}@service-accounts.invalid"


class StaticClients:
    def __init__(self, *, store: ClientStore, audit: AuditLog) -> None:
        self._store = store
        self._audit = audit

    async def create(self, data: StaticClientCreate, *, actor: Actor) -> ClientWithSecret:
        """A new client, approved, with its secret (confidential clients): the only time it is shown."""
        actor.require_admin()
        name = validate_text(data.name.strip(), field="name")
        if not name or len(name) > 200:
            raise InvalidInput("Give the client a name of at most 200 characters.", field="name")
        grants = list(dict.fromkeys(data.grant_types))
        unknown = set(grants) - ALL_GRANTS
        if unknown or not grants:
            raise InvalidInput(
                "Grant types are authorization_code, refresh_token and client_credentials.",
                field="grant_types",
            )
        for uri in data.redirect_uris:
            reason = redirects.problem(uri)
            if reason:
                raise InvalidInput(f"The redirect URI {uri[:200]} {reason}.", field="redirect_uris")
        if "authorization_code" in grants and not data.redirect_uris:
            raise InvalidInput(
                "Add at least one redirect URI for the authorization code grant.", field="redirect_uris"
            )
        if "client_credentials" in grants and not data.confidential:
            raise InvalidInput(
                "The client credentials grant needs a confidential client (with a secret).",
                field="grant_types",
            )
        secret = new_secret() if data.confidential else None
        client_id = new_client_id()
        service_account = None
        if "client_credentials" in grants:
            service_account = User(
                email=_service_account_email(name, client_id),
                name=f"{name} (service account)",
                role="member",
                kind="service",
                password_hash=NO_PASSWORD,
                created_at=now(),
            )
            await service_account.save()
        row = OAuthClient(
            client_id=client_id,
            kind=ClientKind.STATIC.value,
            name=name,
            redirect_uris=list(data.redirect_uris),
            grant_types=grants,
            token_endpoint_auth_method="client_secret_basic" if data.confidential else "none",
            secret_hash=token_hash(secret) if secret else None,
            status=ClientStatus.APPROVED.value,
            approved_by=actor.user_id,
            approved_at=now(),
            created_by=actor.user_id,
            service_account=service_account.id if service_account else None,
            may_introspect_any=data.may_introspect_any,
            fingerprint=fingerprint(name, list(data.redirect_uris)),
            metadata={},
            created_at=now(),
        )
        await row.save()
        client = await self._store.get(client_id)
        await record_admin_event(self._audit, "client.created", client, actor, grant_type=" ".join(grants))
        return ClientWithSecret(client=client, client_secret=secret)

    async def regenerate_secret(self, client_id: str, *, actor: Actor) -> str:
        """A new secret, shown once; tokens issued before stay valid until they expire."""
        actor.require_admin()
        client = await self._store.get(client_id)
        if not client.is_confidential:
            raise InvalidInput("This is a public client: it has no secret.", field="client_id")
        secret = new_secret()
        await OAuthClient.update(
            {OAuthClient.secret_hash: token_hash(secret), OAuthClient.secret_rotated_at: now()}
        ).where(OAuthClient.id == client.id)
        await record_admin_event(self._audit, "client.secret_regenerated", client, actor)
        return secret
