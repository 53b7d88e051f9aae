"""OAuth clients: dynamic registration (RFC 7591), metadata documents, static clients, approval, deletion.

Dynamic clients and metadata-document clients follow the registration policy admins set: ``open``
approves them at once, ``admin_approval`` (the default) keeps them pending until an owner or admin
approves them (in the console, or by completing their first authorization), ``closed`` refuses them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from switchboard.identity.oauth import redirects, scopes, spec
from switchboard.identity.oauth.audit import AuditEntry, AuditLog
from switchboard.identity.oauth.consent import revoke_grant
from switchboard.identity.oauth.errors import OAuthError, invalid_client
from switchboard.identity.oauth.models import (
    Client,
    ClientGroup,
    ClientKind,
    ClientStatus,
    ClientWithSecret,
    RegistrationPolicy,
    StaticClientCreate,
)
from switchboard.identity.oauth.revocation import RevocationList, Revoked
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import validate_text
from switchboard.identity.tables import IdentitySetting, OAuthClient, OAuthGrant, User
from switchboard.platform.core.errors import InvalidInput, NotFound
from switchboard.platform.core.tokens import new_token, token_hash

CLIENT_ID_PREFIX = "sbc_"
SECRET_PREFIX = "sbs_"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
USER_GRANTS = frozenset({"authorization_code", "refresh_token"})
ALL_GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials"})
# The client metadata of RFC 7591 §2 this server keeps and answers with. Anything else a client sends is
# ignored (§2: "the authorization server MUST ignore any client metadata sent by the client that it does
# not understand"), notably values only the server issues, such as client_id and client_secret.
_CLIENT_METADATA = frozenset(
    {
        "redirect_uris",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "client_name",
        "client_uri",
        "logo_uri",
        "scope",
        "contacts",
        "tos_uri",
        "policy_uri",
        "software_id",
        "software_version",
    }
)
# Web addresses a client describes itself with. The consent page links to client_uri, so a script URL
# there would run in Switchboard's origin when clicked: only http(s) URLs are accepted.
_CLIENT_WEB_ADDRESSES = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
# Enough for any real client (MCP clients register one to three); the console lists them all.
MAX_REDIRECT_URIS = 20
# Stored as a service account's password hash: not an argon2 hash, so no password ever matches it (an
# empty hash would be checked against the sign-in's dummy hash, whose password is public).
NO_PASSWORD = "!no password: service account"
_POLICY_KEY = "registration_policy"
_ALLOW_PRIVATE_KEY = "metadata_fetch_allow_private"
_TOUCH_INTERVAL = timedelta(minutes=1)


class MetadataFetchFailed(Exception):
    """A client ID metadata document could not be fetched; the message says why, for the user."""


class MetadataFetcher(Protocol):
    async def fetch(self, url: str, *, allow_private: bool) -> Any:
        """The parsed JSON document at ``url``; raises ``MetadataFetchFailed``."""


def _now() -> datetime:
    return datetime.now(UTC)


def _fingerprint(name: str, redirect_uris: list[str]) -> str:
    return hashlib.sha256(json.dumps([name.strip().lower(), sorted(redirect_uris)]).encode()).hexdigest()


def _service_account_email(name: str, client_id: str) -> str:
    """A recognisable address that can never receive mail (.invalid), such as
    ``nightly-sync-4f2a9c@service-accounts.invalid``; the client ID makes it unique."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"
    return f"{slug}-{client_id[len(CLIENT_ID_PREFIX) :][:6].lower()}@service-accounts.invalid"


def is_metadata_document_url(client_id: str) -> bool:
    return client_id.startswith("https://")


def _json_value(value: Any) -> Any:
    """A JSON column's value: Piccolo hands some back still encoded."""
    return json.loads(value) if isinstance(value, str) else value


def _list(value: Any) -> list[Any]:
    return list(_json_value(value) or [])


def _registered_row(
    client_id: str,
    kind: ClientKind,
    name: str,
    cleaned: dict[str, Any],
    status: ClientStatus,
    secret: str | None,
) -> OAuthClient:
    """The row of a client that described itself (registration or metadata document)."""
    return OAuthClient(
        client_id=client_id,
        kind=kind.value,
        name=name[:200],
        redirect_uris=cleaned["redirect_uris"],
        grant_types=cleaned["grant_types"],
        token_endpoint_auth_method=cleaned["token_endpoint_auth_method"],
        secret_hash=token_hash(secret) if secret else None,
        scope=cleaned.get("scope", ""),
        client_uri=str(cleaned.get("client_uri", "")),
        logo_uri=str(cleaned.get("logo_uri", "")),
        status=status.value,
        fingerprint=_fingerprint(name, cleaned["redirect_uris"]),
        metadata=cleaned,
        created_at=_now(),
    )


class ClientService:
    def __init__(
        self,
        *,
        audit: AuditLog,
        revocations: RevocationList,
        fetcher: MetadataFetcher | None,
        unused_lifetime: timedelta,
    ) -> None:
        self._audit = audit
        self._revocations = revocations
        self._fetcher = fetcher
        self._unused_lifetime = unused_lifetime

    # Policy ----------------------------------------------------------------------------------------

    async def policy(self) -> RegistrationPolicy:
        value = await self._setting(_POLICY_KEY)
        try:
            return RegistrationPolicy(value)
        except ValueError:
            return RegistrationPolicy.ADMIN_APPROVAL

    async def allow_private_metadata_hosts(self) -> bool:
        return await self._setting(_ALLOW_PRIVATE_KEY) is True

    async def set_policy(
        self,
        policy: RegistrationPolicy,
        *,
        allow_private_metadata_hosts: bool | None = None,
        actor: Principal | None,
    ) -> None:
        if actor is not None:
            actor.require_admin()
        await self._store_setting(_POLICY_KEY, policy.value)
        if allow_private_metadata_hosts is not None:
            await self._store_setting(_ALLOW_PRIVATE_KEY, allow_private_metadata_hosts)
        reason = f"registration {policy.value}"
        if allow_private_metadata_hosts is not None:
            allowed = "allowed" if allow_private_metadata_hosts else "refused"
            reason += f"; private metadata hosts {allowed}"
        await self._audit.record(
            AuditEntry(action="policy.changed", actor=actor.email if actor else "", reason=reason)
        )

    # Registration ----------------------------------------------------------------------------------

    async def register(
        self, metadata: Mapping[str, Any], *, ip_address: str = ""
    ) -> tuple[Client, str | None, dict[str, Any]]:
        """RFC 7591 registration; returns the client, its secret (confidential clients) and metadata."""
        policy = await self.policy()
        if policy is RegistrationPolicy.CLOSED:
            await self._audit.record(
                AuditEntry(
                    action="client.registered",
                    outcome="refused",
                    reason="registration is closed",
                    ip_address=ip_address,
                )
            )
            raise OAuthError(
                "access_denied",
                "Client registration is closed on this server; ask an administrator to create a client.",
                status=403,
            )
        await self.remove_unused()
        cleaned = self._validate_registration(metadata)
        name = cleaned.get("client_name") or "Unnamed client"
        confidential = cleaned["token_endpoint_auth_method"] != "none"
        secret = new_token(SECRET_PREFIX) if confidential else None
        status = ClientStatus.APPROVED if policy is RegistrationPolicy.OPEN else ClientStatus.PENDING
        row = _registered_row(
            new_token(CLIENT_ID_PREFIX)[:40], ClientKind.DYNAMIC, name, cleaned, status, secret
        )
        await row.save()
        client = await self.get(row.client_id)
        await self._audit.record(
            AuditEntry(
                action="client.registered",
                client_id=client.client_id,
                client_name=client.name,
                reason=f"dynamic registration, {status.value}",
                ip_address=ip_address,
            )
        )
        return client, secret, cleaned

    def _validate_registration(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(metadata, Mapping):
            raise OAuthError("invalid_client_metadata", "The registration request must be a JSON object.")
        redirect_uris = metadata.get("redirect_uris", [])
        if not isinstance(redirect_uris, list) or not all(isinstance(uri, str) for uri in redirect_uris):
            raise OAuthError("invalid_redirect_uri", "redirect_uris must be an array of strings.")
        if len(redirect_uris) > MAX_REDIRECT_URIS:
            raise OAuthError(
                "invalid_redirect_uri", f"Register at most {MAX_REDIRECT_URIS} redirect URIs per client."
            )
        redirects.check_all(redirect_uris)
        for field in ("client_name", "scope", "token_endpoint_auth_method", *_CLIENT_WEB_ADDRESSES):
            if field in metadata and not isinstance(metadata[field], str):
                raise OAuthError("invalid_client_metadata", f"{field} must be a string.")
        for field in _CLIENT_WEB_ADDRESSES:
            if metadata.get(field) and not redirects.is_web_url(metadata[field]):
                raise OAuthError(
                    "invalid_client_metadata",
                    f"{field} must be an http or https URL of at most 500 characters.",
                )
        cleaned = {
            key: value
            for key, value in spec.validate_client_metadata(metadata).items()
            if key in _CLIENT_METADATA
        }
        # RFC 7591 defaults to authorization_code alone; MCP clients need refreshes too, and the
        # registration response tells the client what it got.
        grant_types = cleaned.get("grant_types") or ["authorization_code", "refresh_token"]
        response_types = cleaned.get("response_types") or ["code"]
        if not isinstance(grant_types, list) or not set(grant_types) <= USER_GRANTS:
            raise OAuthError(
                "invalid_client_metadata",
                "grant_types may only contain authorization_code and refresh_token; clients for the "
                "client_credentials grant are created by an administrator.",
            )
        if not isinstance(response_types, list) or set(response_types) != {"code"}:
            raise OAuthError("invalid_client_metadata", 'response_types must be ["code"].')
        if "authorization_code" in grant_types and not redirect_uris:
            raise OAuthError("invalid_redirect_uri", "The authorization_code grant needs redirect_uris.")
        method = cleaned["token_endpoint_auth_method"]
        if method not in AUTH_METHODS:
            raise OAuthError(
                "invalid_client_metadata",
                f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.",
            )
        name = str(cleaned.get("client_name", "")).strip()
        if len(name) > 200 or not validate_text_ok(name):
            raise OAuthError("invalid_client_metadata", "client_name must be at most 200 characters of text.")
        scope = str(cleaned.get("scope", ""))
        for item in scopes.parse(scope):
            if not scopes.is_well_formed(item):
                raise OAuthError("invalid_client_metadata", f"scope {item[:50]!r} is not a valid scope.")
        cleaned.update(
            grant_types=grant_types,
            response_types=response_types,
            redirect_uris=redirect_uris,
            client_name=name,
            scope=scopes.join(scopes.parse(scope)),
        )
        return cleaned

    # Metadata documents ------------------------------------------------------------------------------

    async def from_metadata_document(self, url: str) -> Client:
        """The client a metadata-document ``client_id`` names, fetched (through the cache) and checked."""
        if self._fetcher is None:
            raise MetadataFetchFailed("client ID metadata documents are not enabled on this server")
        if len(url) > 500 or "#" in url:
            raise MetadataFetchFailed("the client ID URL is too long or has a fragment")
        document = await self._fetcher.fetch(url, allow_private=await self.allow_private_metadata_hosts())
        if not isinstance(document, dict):
            raise MetadataFetchFailed("the client ID metadata document is not a JSON object")
        if document.get("client_id") != url:
            raise MetadataFetchFailed("the document's client_id is not the URL it was fetched from")
        method = document.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise MetadataFetchFailed(
                "only public clients (token_endpoint_auth_method none) can use a metadata document"
            )
        try:
            cleaned = self._validate_registration({**document, "token_endpoint_auth_method": "none"})
        except OAuthError as exc:
            raise MetadataFetchFailed(
                f"the client ID metadata document is invalid: {exc.description}"
            ) from None
        name = cleaned.get("client_name") or url
        existing = await OAuthClient.objects().where(OAuthClient.client_id == url).first()
        if existing is None:
            policy = await self.policy()
            status = {
                RegistrationPolicy.OPEN: ClientStatus.APPROVED,
                RegistrationPolicy.ADMIN_APPROVAL: ClientStatus.PENDING,
                RegistrationPolicy.CLOSED: ClientStatus.REFUSED,
            }[policy]
            await OAuthClient.insert(
                _registered_row(url, ClientKind.METADATA_DOCUMENT, name, cleaned, status, None)
            ).on_conflict(action="DO NOTHING")
            await self._audit.record(
                AuditEntry(
                    action="client.registered",
                    client_id=url,
                    client_name=name,
                    reason=f"client ID metadata document, {status.value}",
                )
            )
        elif _json_value(existing.metadata) != cleaned:
            # The document is the truth for what it says; approval stays the admins'.
            await OAuthClient.update(
                {
                    OAuthClient.name: name[:200],
                    OAuthClient.redirect_uris: cleaned["redirect_uris"],
                    OAuthClient.grant_types: cleaned["grant_types"],
                    OAuthClient.scope: cleaned.get("scope", ""),
                    OAuthClient.client_uri: str(cleaned.get("client_uri", "")),
                    OAuthClient.logo_uri: str(cleaned.get("logo_uri", "")),
                    OAuthClient.fingerprint: _fingerprint(name, cleaned["redirect_uris"]),
                    OAuthClient.metadata: cleaned,
                }
            ).where(OAuthClient.id == existing.id)
        return await self.get(url)

    # Static clients ----------------------------------------------------------------------------------

    async def create_static(self, data: StaticClientCreate, *, actor: Principal | None) -> ClientWithSecret:
        if actor is not None:
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
        secret = new_token(SECRET_PREFIX) if data.confidential else None
        client_id = new_token(CLIENT_ID_PREFIX)[:40]
        service_account = None
        if "client_credentials" in grants:
            service_account = User(
                email=_service_account_email(name, client_id),
                name=f"{name} (service account)",
                role="member",
                kind="service",
                password_hash=NO_PASSWORD,
                created_at=_now(),
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
            approved_by=actor.user_id if actor else None,
            approved_at=_now(),
            created_by=actor.user_id if actor else None,
            service_account=service_account.id if service_account else None,
            may_introspect_any=data.may_introspect_any,
            fingerprint=_fingerprint(name, list(data.redirect_uris)),
            metadata={},
            created_at=_now(),
        )
        await row.save()
        client = await self.get(client_id)
        await self._audit.record(
            AuditEntry(
                action="client.created",
                actor=actor.email if actor else "",
                client_id=client_id,
                client_name=name,
                grant_type=" ".join(grants),
            )
        )
        return ClientWithSecret(client=client, client_secret=secret)

    async def regenerate_secret(self, client_id: str, *, actor: Principal | None) -> str:
        """A new secret, shown once; tokens issued before stay valid until they expire."""
        if actor is not None:
            actor.require_admin()
        client = await self.get(client_id)
        if not client.is_confidential:
            raise InvalidInput("This is a public client: it has no secret.", field="client_id")
        secret = new_token(SECRET_PREFIX)
        await OAuthClient.update(
            {OAuthClient.secret_hash: token_hash(secret), OAuthClient.secret_rotated_at: _now()}
        ).where(OAuthClient.id == client.id)
        await self._admin_event("client.secret_regenerated", client, actor)
        return secret

    # Approval and deletion ---------------------------------------------------------------------------

    async def approve(self, client_id: str, *, actor: Principal | None) -> Client:
        """Approve a pending client (``actor=None``: the operator, from the command line)."""
        if actor is not None:
            actor.require_admin()
        client = await self.get(client_id)
        await OAuthClient.update(
            {
                OAuthClient.status: ClientStatus.APPROVED.value,
                OAuthClient.approved_by: actor.user_id if actor else None,
                OAuthClient.approved_at: _now(),
            }
        ).where(OAuthClient.id == client.id)
        await self._admin_event("client.approved", client, actor)
        return await self.get(client_id)

    async def refuse(self, client_id: str, *, actor: Principal) -> Client:
        actor.require_admin()
        client = await self.get(client_id)
        await OAuthClient.update({OAuthClient.status: ClientStatus.REFUSED.value}).where(
            OAuthClient.id == client.id
        )
        # Its grants, not its client ID: approved again later, it can be given new tokens at once.
        await self._revoke_grants(client, reason="client refused")
        await self._admin_event("client.refused", client, actor)
        return await self.get(client_id)

    async def delete(self, client_id: str, *, actor: Principal | None, reason: str = "") -> None:
        """Delete the client with its codes, grants, refresh tokens and consents; its tokens stop now."""
        if actor is not None:
            actor.require_admin()
        client = await self.get(client_id)
        if client.kind is ClientKind.METADATA_DOCUMENT:
            # Its client ID is its URL, which may come back: end its grants, not every token of that ID.
            await self._revoke_grants(client, reason="client deleted")
        else:
            await self._revocations.revoke(Revoked.CLIENT, client.client_id)
        await OAuthClient.delete().where(OAuthClient.id == client.id)
        if client.service_account_id is not None:
            await User.delete().where((User.id == client.service_account_id) & (User.kind == "service"))
        await self._admin_event("client.deleted", client, actor, reason=reason)

    async def remove_unused(self) -> int:
        """Delete dynamic and metadata-document clients never used within the configured time."""
        cutoff = _now() - self._unused_lifetime
        rows = await OAuthClient.select(OAuthClient.client_id, OAuthClient.name).where(
            (OAuthClient.kind != ClientKind.STATIC.value)
            & OAuthClient.last_used_at.is_null()
            & (OAuthClient.created_at < cutoff)
        )
        for row in rows:
            await OAuthClient.delete().where(OAuthClient.client_id == row["client_id"])
            await self._audit.record(
                AuditEntry(
                    action="client.deleted",
                    client_id=row["client_id"],
                    client_name=row["name"],
                    reason="never used",
                )
            )
        return len(rows)

    # Lookups -----------------------------------------------------------------------------------------

    async def get(self, client_id: str) -> Client:
        client = await self.find(client_id)
        if client is None:
            raise NotFound("There is no such client.", field="client_id")
        return client

    async def find(self, client_id: str) -> Client | None:
        if not client_id or len(client_id) > 500:
            return None
        rows = await self._select().where(OAuthClient.client_id == client_id)
        return _client(rows[0]) if rows else None

    async def get_by_pk(self, client_pk: UUID) -> Client:
        """The client with this database id (pages use it: client IDs can be URLs)."""
        rows = await self._select().where(OAuthClient.id == client_pk)
        if not rows:
            raise NotFound("There is no such client.", field="client_id")
        return _client(rows[0])

    async def list_all(self) -> list[Client]:
        rows = await self._select().order_by(OAuthClient.created_at, ascending=False)
        return [_client(row) for row in rows]

    async def list_grouped(self) -> list[ClientGroup]:
        """Clients with repeated registrations (same name and redirect URIs) shown together."""
        groups: dict[str, list[Client]] = {}
        for client in await self.list_all():
            groups.setdefault(client.fingerprint, []).append(client)
        return [ClientGroup(name=clients[0].name, clients=clients) for clients in groups.values()]

    async def authenticate(self, *, client_id: str | None, client_secret: str | None, method: str) -> Client:
        """Token-endpoint client authentication (RFC 6749 §2.3) by the method the client registered."""
        basic = method == "client_secret_basic"
        known = client_id and len(client_id) <= 500
        rows = await self._select().where(OAuthClient.client_id == client_id) if known else []
        if not rows:
            raise invalid_client("Unknown client.", basic=basic)
        client, stored = _client(rows[0]), rows[0]["secret_hash"]
        if client.token_endpoint_auth_method == "none":
            if client_secret or method != "none":
                raise invalid_client("This public client has no secret; send only client_id.", basic=basic)
        else:
            if method == "none" or not client_secret:
                raise invalid_client("This client must authenticate with its client secret.", basic=basic)
            if not stored or not hmac.compare_digest(stored, token_hash(client_secret)):
                raise invalid_client("The client secret is wrong.", basic=basic)
        if client.status is not ClientStatus.APPROVED:
            raise invalid_client(
                "This client is awaiting approval by an administrator."
                if client.status is ClientStatus.PENDING
                else "This client was refused by an administrator.",
                basic=basic,
            )
        return client

    async def touch(self, client: Client) -> None:
        now = _now()
        if client.last_used_at is None or now - client.last_used_at > _TOUCH_INTERVAL:
            await OAuthClient.update({OAuthClient.last_used_at: now}).where(OAuthClient.id == client.id)

    # Helpers -----------------------------------------------------------------------------------------

    async def _revoke_grants(self, client: Client, *, reason: str) -> None:
        for grant in await OAuthGrant.select(OAuthGrant.id).where(
            (OAuthGrant.client == client.id) & OAuthGrant.revoked_at.is_null()
        ):
            await revoke_grant(self._revocations, grant["id"], reason=reason)

    async def _admin_event(
        self, action: str, client: Client, actor: Principal | None, reason: str = ""
    ) -> None:
        await self._audit.record(
            AuditEntry(
                action=action,
                actor=actor.email if actor else "",
                client_id=client.client_id,
                client_name=client.name,
                reason=reason,
            )
        )

    @staticmethod
    def _select() -> Any:
        return OAuthClient.select(
            *OAuthClient.all_columns(exclude=[OAuthClient.metadata]),
            OAuthClient.approved_by.email.as_alias("approved_by_email"),
            OAuthClient.service_account.email.as_alias("service_account_email"),
        )

    @staticmethod
    async def _setting(key: str) -> Any:
        row = await IdentitySetting.select(IdentitySetting.value).where(IdentitySetting.key == key).first()
        return None if row is None else _json_value(row["value"])

    @staticmethod
    async def _store_setting(key: str, value: Any) -> None:
        # Piccolo stores a str in a JSON column as it is (as if already encoded).
        value = json.dumps(value)
        now = _now()
        updated = (
            await IdentitySetting.update({IdentitySetting.value: value, IdentitySetting.updated_at: now})
            .where(IdentitySetting.key == key)
            .returning(IdentitySetting.key)
        )
        if not updated:
            await IdentitySetting.insert(IdentitySetting(key=key, value=value, updated_at=now)).on_conflict(
                action="DO NOTHING"
            )


def validate_text_ok(text: str) -> bool:
    """Text without control characters, nor invisible formatting ones (such as right-to-left overrides
    and zero-width joiners) that could make a client's name read as another's on the consent page."""
    try:
        validate_text(text, field="client_name")
    except InvalidInput:
        return False
    return not any(unicodedata.category(char) in ("Cf", "Zl", "Zp") for char in text)


def _client(row: Mapping[str, Any]) -> Client:
    return Client(
        id=row["id"],
        client_id=row["client_id"],
        kind=ClientKind(row["kind"]),
        name=row["name"],
        redirect_uris=[str(uri) for uri in _list(row["redirect_uris"])],
        grant_types=[str(grant) for grant in _list(row["grant_types"])],
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        scope=row["scope"],
        client_uri=row["client_uri"],
        status=ClientStatus(row["status"]),
        approved_by=row.get("approved_by_email"),
        approved_at=row["approved_at"],
        service_account_id=row["service_account"],
        service_account_email=row.get("service_account_email"),
        may_introspect_any=row["may_introspect_any"],
        fingerprint=row["fingerprint"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        has_secret=bool(row.get("secret_hash")),
    )
