"""Each end user's own grant for an end user's connection, and the one grant of a shared connection
that a builder connected with their own account: stored encrypted, refreshed, revoked.

Grants are made by the connect flow (``connect``); this module keeps them. A connect link is absolute,
single-use, valid for ten minutes and bound to one user. A shared connection has at most one grant: the
builder who connects it last replaces the one before, and every caller (even one without a signed-in
user) uses it; when it cannot be used, the error says a builder must connect it again, never with a link.

Refresh happens before expiry, once at a time per grant across processes: the process that takes the
grant's database lease refreshes; the others wait for the new token. A refused refresh (``invalid_grant``)
marks the grant "needs reconnect"; any other provider fault leaves the stored grant as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.errors import ConnectionRequired, ProviderError, SharedGrantMissing
from switchboard.connectors.connections.models import (
    Connection,
    GrantStatus,
    Mode,
    TokenSet,
    UserConnection,
    union,
)
from switchboard.connectors.connections.provider import ClientCredentials, ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import ConnectLink, UserGrant
from switchboard.identity.oauth.audit import AuditEntry, AuditLog
from switchboard.identity.tables import User
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.errors import DomainError, NotFound
from switchboard.platform.core.tokens import new_token, token_hash

log = logging.getLogger("switchboard.connectors")

LINK_LIFETIME = timedelta(minutes=10)
UNREADABLE = (
    "The stored tokens were encrypted with an earlier secret key that is no longer configured; connect again."
)
REFRESH_LEEWAY = timedelta(seconds=60)
LEASE = timedelta(seconds=30)
CALLBACK_PATH = "/connections/callback"
CONNECT_PATH = "/connect/"


class StoredTokens(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"


class FreshToken(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str
    scopes: tuple[str, ...]


class GrantService:
    def __init__(
        self,
        *,
        base_url: str,
        box: SecretBox,
        connections: ConnectionService,
        provider: ProviderClient,
        audit: AuditLog,
    ) -> None:
        self._base_url = base_url
        self._box = box
        self._connections = connections
        self._provider = provider
        self._audit = audit
        self._locks: dict[UUID, asyncio.Lock] = {}

    @property
    def redirect_uri(self) -> str:
        """The callback every app must have registered for Switchboard's client."""
        return self._base_url + CALLBACK_PATH

    # -- connect links ------------------------------------------------------------------------------

    async def connect_link(
        self,
        user_id: UUID,
        connection_id: UUID,
        *,
        return_to: str = "",
        shared: bool = False,
        more_scopes: tuple[str, ...] = (),
    ) -> str:
        """An absolute, single-use link, valid for ten minutes, that only ``user_id`` can use. ``shared``:
        the link connects a shared connection for everyone (the caller must have checked the user is a
        builder); otherwise only an end user's connection can be connected. ``more_scopes``: asked for
        besides the connection's scopes (a step-up)."""
        connection = await self._connections.get(connection_id)
        wanted = Mode.SHARED if shared else Mode.END_USER
        if connection.mode is not wanted or connection.auth_type != "oauth2_authorization_code":
            raise NotFound(
                f"{connection.name} is not connected by {'a builder' if shared else 'each user'}.",
                field="connection_id",
            )
        token = new_token()
        now = datetime.now(UTC)
        await ConnectLink(
            link_hash=token_hash(token),
            user=user_id,
            connection=connection_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            redirect_to=return_to if return_to.startswith("/") and not return_to.startswith("//") else "",
            more_scopes=" ".join(more_scopes),
        ).save()
        return f"{self._base_url}{CONNECT_PATH}{token}"

    # -- using the grant -----------------------------------------------------------------------------

    async def access_token(self, user_id: UUID | None, connection_id: UUID) -> FreshToken:
        """A valid access token of this user for this connection (of a shared connection: its one grant,
        whoever calls), refreshed first when it is about to expire. Raises ConnectionRequired (with a new
        connect link) when the user must (re)connect, SharedGrantMissing when a builder must."""
        connection = await self._connections.get(connection_id)
        grant = await self._grant_of(connection, user_id)
        if grant is None:
            raise await self._required(connection, user_id, "not_connected")
        user_id = grant["user"]
        if grant["status"] != GrantStatus.CONNECTED or grant["scopes_version"] < connection.scopes_version:
            raise await self._required(connection, user_id, "needs_reconnect")
        if _expiring(grant["expires_at"]):
            grant = await self._refreshed(connection, user_id, grant)
        tokens = self._open(grant)
        if tokens is None:
            await self._mark(grant["id"], UNREADABLE)
            raise await self._required(connection, user_id, "needs_reconnect")
        return FreshToken(tokens.access_token, tokens.token_type, tuple(grant["scopes"].split()))

    async def refresh_refused(
        self, user_id: UUID | None, connection_id: UUID, refused_token: str
    ) -> FreshToken:
        """The app refused ``refused_token`` (401) before it expired: refresh now, once across every caller
        and process (whoever finds the token already replaced uses the replacement). Raises
        ConnectionRequired (SharedGrantMissing) when the grant cannot be refreshed."""
        connection = await self._connections.get(connection_id)
        grant = await self._grant_of(connection, user_id)
        if grant is None:
            raise await self._required(connection, user_id, "needs_reconnect")
        user_id = grant["user"]

        def still_refused(row: dict[str, Any]) -> bool:
            stored = self._open(row)
            return stored is None or stored.access_token == refused_token

        grant = await self._refreshed(connection, user_id, grant, still_refused)
        tokens = self._open(grant)
        if tokens is None:
            await self._mark(grant["id"], UNREADABLE)
            raise await self._required(connection, user_id, "needs_reconnect")
        return FreshToken(tokens.access_token, tokens.token_type, tuple(grant["scopes"].split()))

    async def more_access(
        self, user_id: UUID | None, connection_id: UUID, scopes: tuple[str, ...]
    ) -> DomainError:
        """The app wants ``scopes`` this grant lacks (403 ``insufficient_scope``): for an end user's
        connection, a ConnectionRequired whose link asks for what the grant has plus ``scopes`` (RFC 6750
        §3.1 step-up); for a shared one, a SharedGrantMissing naming the scopes a builder must add."""
        connection = await self._connections.get(connection_id)
        definition = await self._connections.definition_of(connection)
        grant = await self._grant_of(connection, user_id)
        held = tuple(grant["scopes"].split()) if grant else ()
        wanted = " ".join(scope for scope in scopes if scope not in held) or " ".join(scopes)
        if connection.mode is Mode.SHARED or user_id is None:
            return SharedGrantMissing(
                f"{definition.name} needs more access ({wanted}) than the shared connection "
                f"{connection.name} was granted: a builder adds it to the connection's scopes and connects "
                "it again."
            )
        more = union(held, scopes)
        url = await self.connect_link(user_id, connection.id, more_scopes=more)
        return ConnectionRequired(
            f"This tool needs more access to your {definition.name} account ({wanted}). Open {url} to "
            "allow it (the link works once, for 10 minutes), then try again.",
            connect_url=url,
            connection_name=connection.name,
            app_name=definition.name,
            reason="more_access",
        )

    async def mark_needs_reconnect(self, user_id: UUID, connection_id: UUID, reason: str) -> None:
        """The app refused the token outright (HTTP 401 after a refresh): the user must connect again."""
        await UserGrant.update(
            {UserGrant.status: GrantStatus.NEEDS_RECONNECT.value, UserGrant.reason: reason[:300]}
        ).where((UserGrant.connection == connection_id) & (UserGrant.user == user_id))

    async def disconnect(self, user_id: UUID, connection_id: UUID) -> str:
        """Revoke at the app (RFC 7009) when it can, then delete the tokens. Returns a warning when the app
        could not revoke them (the tokens are deleted here either way)."""
        connection = await self._connections.get(connection_id)
        grant = await self._grant_of(connection, user_id)
        if grant is None:
            raise NotFound(f"You have not connected {connection.name}.", field="connection_id")
        user_id = grant["user"]
        warning = ""
        definition = await self._connections.definition_of(connection)
        endpoints = endpoints_for(connection, definition)
        tokens = self._open(grant)
        if endpoints.revocation_url and tokens is not None:
            credentials = await self._connections.credentials(connection.id)
            client = ClientCredentials(connection.client_id, credentials.client_secret)
            try:
                if tokens.refresh_token:
                    await self._provider.revoke(endpoints, client, tokens.refresh_token, "refresh_token")
                try:
                    await self._provider.revoke(endpoints, client, tokens.access_token, "access_token")
                except ProviderError as exc:
                    # RFC 7009 §2.2.1: an app may not revoke access tokens (self-contained JWTs expire on
                    # their own); revoking the refresh token ended the grant.
                    if not (tokens.refresh_token and exc.oauth_error == "unsupported_token_type"):
                        raise
            except ProviderError as exc:
                warning = f"{exc.message} Remove Switchboard's access in {definition.name} too."
        await UserGrant.delete().where(UserGrant.id == grant["id"])
        await self.record(
            "connection.disconnect",
            connection,
            user_id,
            outcome="partial" if warning else "ok",
            reason=warning,
        )
        return warning

    # -- what people see -----------------------------------------------------------------------------

    async def for_user(
        self, user_id: UUID, *, names: dict[str, tuple[str, str]] | None = None
    ) -> list[UserConnection]:
        """Every end user's connection with this user's status in it. ``names`` maps connector keys to
        (app name, icon); by default they come from the connector definitions."""
        email = await User.select(User.email).where(User.id == user_id).first()
        grants = {row["connection"]: row for row in await UserGrant.select().where(UserGrant.user == user_id)}
        connections = [c for c in await self._connections.list_all() if c.mode is Mode.END_USER]
        names = names if names is not None else await self._app_names(connections)
        return [
            _user_connection(connection, grants.get(connection.id), email["email"] if email else "", names)
            for connection in connections
            if connection.auth_type == "oauth2_authorization_code"
        ]

    async def connected_users(
        self, connection_id: UUID, *, names: dict[str, tuple[str, str]] | None = None
    ) -> list[UserConnection]:
        connection = await self._connections.get(connection_id)
        names = names if names is not None else await self._app_names([connection])
        rows = (
            await UserGrant.select(*UserGrant.all_columns(), UserGrant.user.email.as_alias("email"))
            .where(UserGrant.connection == connection_id)
            .order_by(UserGrant.user.email)
        )
        return [_user_connection(connection, row, row["email"], names) for row in rows]

    async def users_of(self, connection_id: UUID) -> list[UUID]:
        rows = await UserGrant.select(UserGrant.user).where(UserGrant.connection == connection_id)
        return [row["user"] for row in rows]

    async def connected_counts(self) -> dict[UUID, int]:
        """How many people have a working grant, per connection (grants to re-consent count as not)."""
        rows = await UserGrant.select(
            UserGrant.connection,
            UserGrant.scopes_version,
            UserGrant.connection.scopes_version.as_alias("current"),
        ).where(UserGrant.status == GrantStatus.CONNECTED.value)
        counts: dict[UUID, int] = {}
        for row in rows:
            if row["scopes_version"] >= row["current"]:
                counts[row["connection"]] = counts.get(row["connection"], 0) + 1
        return counts

    async def reencrypt(self) -> int:
        changed = 0
        for row in await UserGrant.select(UserGrant.id, UserGrant.tokens):
            value = self._box.reencrypt(row["tokens"])
            if value is not None:
                await UserGrant.update({UserGrant.tokens: value}).where(UserGrant.id == row["id"])
                changed += 1
        return changed

    # -- internals ------------------------------------------------------------------------------------

    async def _app_names(self, connections: list[Connection]) -> dict[str, tuple[str, str]]:
        names: dict[str, tuple[str, str]] = {}
        for connection in connections:
            if connection.connector not in names:
                try:
                    definition = await self._connections.definition_of(connection)
                except NotFound:
                    continue
                names[connection.connector] = (definition.name, definition.icon)
        return names

    async def _required(self, connection: Connection, user_id: UUID | None, reason: str) -> DomainError:
        definition = await self._connections.definition_of(connection)
        if connection.mode is Mode.SHARED:
            state = "is not connected" if reason == "not_connected" else "must be connected again"
            return SharedGrantMissing(
                f"The shared connection {connection.name} {state} to {definition.name}: a builder connects "
                "it with Connect on its page in the console (Connections)."
            )
        assert user_id is not None
        url = await self.connect_link(user_id, connection.id)
        verb = "connect" if reason == "not_connected" else "reconnect"
        return ConnectionRequired(
            f"This tool needs your {definition.name} account. Open {url} to {verb} it "
            "(the link works once, for 10 minutes), then try again.",
            connect_url=url,
            connection_name=connection.name,
            app_name=definition.name,
            reason=reason,
        )

    async def _grant(self, connection_id: UUID, user_id: UUID) -> dict[str, Any] | None:
        return (
            await UserGrant.select()
            .where((UserGrant.connection == connection_id) & (UserGrant.user == user_id))
            .first()
        )

    async def _grant_of(self, connection: Connection, user_id: UUID | None) -> dict[str, Any] | None:
        """The grant a call uses: the user's own, or the shared connection's one grant (anyone's)."""
        if connection.mode is Mode.SHARED:
            return await UserGrant.select().where(UserGrant.connection == connection.id).first()
        return None if user_id is None else await self._grant(connection.id, user_id)

    async def store(
        self,
        connection: Connection,
        user_id: UUID,
        tokens: TokenSet,
        *,
        account: str,
        scopes: tuple[str, ...],
        issuer: str,
    ) -> None:
        now = datetime.now(UTC)
        values: dict[Any, Any] = {
            "status": GrantStatus.CONNECTED.value,
            "reason": "",
            "account": account,
            "scopes": " ".join(scopes),
            "scopes_version": connection.scopes_version,
            "tokens": self._seal(tokens),
            "expires_at": tokens.expires_at,
            "issuer": issuer,
            "lease_until": None,
            "connected_at": now,
            "refreshed_at": None,
        }
        if connection.mode is Mode.SHARED:  # one grant for everyone: the builder who connected last
            others = (UserGrant.connection == connection.id) & (UserGrant.user != user_id)
            await UserGrant.delete().where(others)
        existing = await self._grant(connection.id, user_id)
        if existing is not None:
            await UserGrant.update(values).where(UserGrant.id == existing["id"])
        else:
            await UserGrant(connection=connection.id, user=user_id, **values).save()

    def _open(self, grant: dict[str, Any]) -> StoredTokens | None:
        """The stored tokens, or None when they were sealed with a secret key this process no longer has."""
        try:
            return msgspec.json.decode(self._box.decrypt(grant["tokens"]), type=StoredTokens)
        except DecryptionFailed:
            log.warning("grant %s was encrypted with an unknown secret key", grant["id"])
            return None

    def _seal(self, tokens: TokenSet, *, keep_refresh: str | None = None) -> str:
        stored = StoredTokens(tokens.access_token, tokens.refresh_token or keep_refresh, tokens.token_type)
        return self._box.encrypt(msgspec.json.encode(stored).decode())

    async def _refreshed(
        self,
        connection: Connection,
        user_id: UUID,
        grant: dict[str, Any],
        stale: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Refresh once across every caller: take the lease, or wait for whoever holds it. ``stale`` says
        whether a grant row still needs refreshing (default: its access token is about to expire)."""
        needs = stale or (lambda row: _expiring(row["expires_at"]))
        lock = self._locks.setdefault(grant["id"], asyncio.Lock())
        async with lock:
            deadline = datetime.now(UTC) + LEASE + timedelta(seconds=5)
            while True:
                current = await self._connected(connection, user_id, grant["id"])
                if not needs(current):
                    return current
                now = datetime.now(UTC)
                taken = (
                    await UserGrant.update({UserGrant.lease_until: now + LEASE})
                    .where(
                        (UserGrant.id == grant["id"])
                        & (UserGrant.lease_until.is_null() | (UserGrant.lease_until < now))
                    )
                    .returning(UserGrant.id)
                )
                if taken:
                    # Read again under the lease: another process may have refreshed (and released its
                    # lease) since ``current`` was read, spending the refresh token it holds.
                    leased = await self._connected(connection, user_id, grant["id"])
                    if not needs(leased):
                        await UserGrant.update({UserGrant.lease_until: None}).where(
                            UserGrant.id == grant["id"]
                        )
                        return leased
                    return await self._refresh(connection, user_id, leased)
                if now > deadline:
                    raise ProviderError(
                        "Another refresh of this connection is taking too long; try again in a moment.",
                        problem="unreachable",
                    )
                await asyncio.sleep(0.1)

    async def _connected(self, connection: Connection, user_id: UUID, grant_id: UUID) -> dict[str, Any]:
        """The grant row as it is now; ConnectionRequired when it is gone or needs reconnecting."""
        row = await UserGrant.select().where(UserGrant.id == grant_id).first()
        if row is None or row["status"] != GrantStatus.CONNECTED:
            raise await self._required(connection, user_id, "needs_reconnect")
        return row

    async def _refresh(self, connection: Connection, user_id: UUID, grant: dict[str, Any]) -> dict[str, Any]:
        stored = self._open(grant)
        release = UserGrant.update({UserGrant.lease_until: None}).where(UserGrant.id == grant["id"])
        if stored is None or not stored.refresh_token:
            reason = (
                UNREADABLE
                if stored is None
                else "The app gave no refresh token and the access token expired."
            )
            await self._mark(grant["id"], reason)
            raise await self._required(connection, user_id, "needs_reconnect")
        definition = await self._connections.definition_of(connection)
        endpoints = endpoints_for(connection, definition)
        credentials = await self._connections.credentials(connection.id)
        try:
            tokens = await self._provider.refresh(
                endpoints,
                ClientCredentials(connection.client_id, credentials.client_secret),
                stored.refresh_token,
            )
        except ProviderError as exc:
            if exc.problem == "invalid_grant":
                await self._mark(grant["id"], exc.message)
                await self.record(
                    "connection.refresh", connection, user_id, outcome="refused", reason=exc.message
                )
                raise await self._required(connection, user_id, "needs_reconnect") from exc
            await release
            raise
        values: dict[Any, Any] = {
            UserGrant.tokens: self._seal(tokens, keep_refresh=stored.refresh_token),
            UserGrant.expires_at: tokens.expires_at,
            UserGrant.refreshed_at: datetime.now(UTC),
            UserGrant.lease_until: None,
        }
        if tokens.scope:
            values[UserGrant.scopes] = tokens.scope
        await UserGrant.update(values).where(UserGrant.id == grant["id"])
        refreshed = await UserGrant.select().where(UserGrant.id == grant["id"]).first()
        assert refreshed is not None
        return refreshed

    async def _mark(self, grant_id: UUID, reason: str) -> None:
        await UserGrant.update(
            {
                UserGrant.status: GrantStatus.NEEDS_RECONNECT.value,
                UserGrant.reason: reason[:300],
                UserGrant.lease_until: None,
            }
        ).where(UserGrant.id == grant_id)

    async def record_refusal(self, connection_id: UUID, user_id: UUID, reason: str) -> None:
        row = await ConnectionRow.select(ConnectionRow.name).where(ConnectionRow.id == connection_id).first()
        email = await User.select(User.email).where(User.id == user_id).first()
        await self._audit.record(
            AuditEntry(
                action="connection.link",
                outcome="refused",
                actor=email["email"] if email else "",
                subject=row["name"] if row else "",
                reason=reason,
            )
        )

    async def record(
        self,
        action: str,
        connection: Connection,
        user_id: UUID,
        *,
        outcome: str = "ok",
        reason: str = "",
        scope: str = "",
    ) -> None:
        email = await User.select(User.email).where(User.id == user_id).first()
        await self._audit.record(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor=email["email"] if email else "",
                subject=connection.name,
                client_name=connection.connector,
                scope=scope,
                reason=reason,
            )
        )


def _expiring(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at - REFRESH_LEEWAY <= datetime.now(UTC)


def _user_connection(
    connection: Connection, grant: dict[str, Any] | None, email: str, names: dict[str, tuple[str, str]]
) -> UserConnection:
    app_name, icon = names.get(connection.connector, (connection.connector, ""))
    if grant is None:
        status = GrantStatus.NOT_CONNECTED
    elif grant["status"] != GrantStatus.CONNECTED or grant["scopes_version"] < connection.scopes_version:
        status = GrantStatus.NEEDS_RECONNECT
    else:
        status = GrantStatus.CONNECTED
    return UserConnection(
        connection_id=connection.id,
        connection_name=connection.name,
        connector=connection.connector,
        app_name=app_name,
        app_icon=icon,
        project_name=connection.project_name,
        user_email=email,
        status=status,
        account=grant["account"] if grant else "",
        scopes=tuple(grant["scopes"].split()) if grant else (),
        reason=(
            grant["reason"]
            or ("The connection's scopes changed." if status is GrantStatus.NEEDS_RECONNECT else "")
        )
        if grant
        else "",
        connected_at=grant["connected_at"] if grant else None,
        refreshed_at=grant["refreshed_at"] if grant else None,
    )
