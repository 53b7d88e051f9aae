"""Each end user's own grant for an end user's connection, and the one grant of a shared connection
that a builder connected with their own account: its tokens for a call, refreshed, revoked.

Grants are made by the connect flow (``connect``) and kept by ``grant_store``. A connect link is absolute,
single-use, valid for ten minutes and bound to one user. A shared connection has at most one grant: the
builder who connects it last replaces the one before, and every caller (even one without a signed-in
user) uses it; when it cannot be used, the error says a builder must connect it again, never with a link.
Refresh happens before expiry, once at a time per grant across processes (``grant_refresh``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.connectors.connections.account_names import AccountNames
from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.errors import ConnectionRequired, ProviderError, SharedGrantMissing
from switchboard.connectors.connections.grant_refresh import GrantRefresher, GrantUnusable, expiring
from switchboard.connectors.connections.grant_store import UNREADABLE, GrantStore, Row, clean_label, owned
from switchboard.connectors.connections.models import (
    PERSONAL_AUTH_TYPES,
    Connection,
    GrantStatus,
    Mode,
    union,
)
from switchboard.connectors.connections.provider import ClientCredentials, ProviderClient
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.tables import ConnectLink
from switchboard.identity.principal import Actor, Principal, SystemActor
from switchboard.platform.core.errors import DomainError, InvalidInput, NotFound
from switchboard.platform.core.tokens import new_token, token_hash

LINK_LIFETIME = timedelta(minutes=10)
CALLBACK_PATH = "/connections/callback"
CONNECT_PATH = "/connect/"
CONNECTION_DELETED = SystemActor("connection deleted")
"""Who revokes the grants of a connection being deleted, when the deletion names nobody."""


class FreshToken(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str
    scopes: tuple[str, ...]


class GrantService:
    def __init__(
        self,
        *,
        base_url: str,
        store: GrantStore,
        connections: ConnectionService,
        provider: ProviderClient,
    ) -> None:
        self._base_url = base_url
        self._store = store
        self._connections = connections
        self._provider = provider
        self._refresher = GrantRefresher(store=store, connections=connections, provider=provider)
        self.accounts = AccountNames(store=store, connections=connections)

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
        label: str = "",
    ) -> str:
        """An absolute, single-use link, valid for ten minutes, that only ``user_id`` can use. ``shared``:
        the link connects a shared connection for everyone (the caller must have checked the user is a
        builder); otherwise only an end user's connection can be connected. ``more_scopes``: asked for
        besides the connection's scopes (a step-up). ``label``: the person's account of that name is
        connected (again, or as another account); '': their default one (their first, when they have
        none)."""
        connection = await self._connections.get(connection_id)
        wanted = Mode.SHARED if shared else Mode.END_USER
        kinds = ("oauth2_authorization_code", *(() if shared else PERSONAL_AUTH_TYPES))
        if connection.mode is not wanted or connection.auth_type not in kinds:
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
            label=clean_label(label) if label and not shared else "",
        ).save()
        return f"{self._base_url}{CONNECT_PATH}{token}"

    # -- using the grant -----------------------------------------------------------------------------

    async def access_token(self, user_id: UUID | None, connection_id: UUID, account: str = "") -> FreshToken:
        """A valid access token of this user for this connection (of a shared connection: its one grant,
        whoever calls), refreshed first when it is about to expire. ``account``: the user's account of
        that name ('': their default one). Raises ConnectionRequired (with a new connect link) when the
        user must (re)connect or has no account of that name, SharedGrantMissing when a builder must."""
        connection = await self._connections.get(connection_id)
        account = account.strip() if connection.is_end_user else ""
        grant = await self._store.of(connection, user_id, account)
        if grant is None:
            raise await self._required(connection, user_id, "not_connected", account)
        user_id = grant["user"]
        if grant["status"] != GrantStatus.CONNECTED or grant["scopes_version"] < connection.scopes_version:
            raise await self._required(connection, user_id, "needs_reconnect", _label(connection, grant))
        return await self._fresh(connection, user_id, grant, refresh=expiring(grant["expires_at"]))

    async def refresh_refused(
        self, user_id: UUID | None, connection_id: UUID, refused_token: str, account: str = ""
    ) -> FreshToken:
        """The app refused ``refused_token`` (401) before it expired: refresh now, once across every caller
        and process (whoever finds the token already replaced uses the replacement). Raises
        ConnectionRequired (SharedGrantMissing) when the grant cannot be refreshed."""
        connection = await self._connections.get(connection_id)
        grant = await self._store.of(connection, user_id, account.strip())
        if grant is None:
            raise await self._required(connection, user_id, "needs_reconnect", account.strip())
        user_id = grant["user"]

        def still_refused(row: Row) -> bool:
            stored = self._store.open(row)
            return stored is None or stored.access_token == refused_token

        return await self._fresh(connection, user_id, grant, refresh=True, stale=still_refused)

    async def more_access(
        self, user_id: UUID | None, connection_id: UUID, scopes: tuple[str, ...], account: str = ""
    ) -> DomainError:
        """The app wants ``scopes`` this grant lacks (403 ``insufficient_scope``): for an end user's
        connection, a ConnectionRequired whose link asks for what the grant has plus ``scopes`` (RFC 6750
        §3.1 step-up); for a shared one, a SharedGrantMissing naming the scopes a builder must add."""
        connection = await self._connections.get(connection_id)
        definition = await self._connections.definition_of(connection)
        grant = await self._store.of(connection, user_id, account.strip())
        held = tuple(grant["scopes"].split()) if grant else ()
        wanted = " ".join(scope for scope in scopes if scope not in held) or " ".join(scopes)
        if connection.mode is Mode.SHARED or user_id is None:
            return SharedGrantMissing(
                f"{definition.name} needs more access ({wanted}) than the shared connection "
                f"{connection.name} was granted: a builder adds it to the connection's scopes and connects "
                "it again."
            )
        more = union(held, scopes)
        url = await self.connect_link(
            user_id, connection.id, more_scopes=more, label=grant["label"] if grant else account.strip()
        )
        return ConnectionRequired(
            f"This tool needs more access to your {definition.name} account ({wanted}). Open {url} to "
            "allow it (the link works once, for 10 minutes), then try again.",
            connect_url=url,
            connection_name=connection.name,
            app_name=definition.name,
            reason="more_access",
        )

    async def mark_needs_reconnect(
        self, user_id: UUID, connection_id: UUID, reason: str, account: str = ""
    ) -> None:
        """The app refused the token outright (HTTP 401 after a refresh): the user must connect that
        account (``account``: by its name; '': their default one) again."""
        grant = await self._store.own(connection_id, user_id, account.strip())
        if grant is not None:
            await self._store.mark(grant["id"], reason)

    async def disconnect(self, user_id: UUID, connection_id: UUID, grant_id: UUID | None = None) -> str:
        """The person's own account (``grant_id``; None: their default one) in an end user's connection:
        revoked at the app (RFC 7009) when it can be, then its tokens deleted; their other accounts stay.
        Returns a warning when the app could not revoke them (the tokens are deleted here either way). A
        shared connection is nobody's own: only a builder disconnects it (``disconnect_shared``)."""
        connection = await self._connections.get(connection_id)
        if not connection.is_end_user:
            raise NotFound(f"{connection.name} is not connected by each user.", field="connection_id")
        if grant_id is None:
            grant = await self._store.own(connection.id, user_id)
            if grant is None:
                raise NotFound(f"You have not connected {connection.name}.", field="connection_id")
        else:
            grant = owned(await self._store.by_id(grant_id), user_id)
            if grant["connection"] != connection.id:
                raise NotFound("You have no such account.", field="grant_id")
        return await self._revoke(connection, grant, actor_id=user_id)

    async def shared_connect_link(self, connection_id: UUID, principal: Principal, *, return_to: str) -> str:
        """A builder's link to connect a shared connection with their own account, for every caller."""
        principal.require_builder()
        return await self.connect_link(principal.user_id, connection_id, return_to=return_to, shared=True)

    async def disconnect_shared(self, connection_id: UUID, principal: Principal) -> str:
        """Revoke and forget a shared connection's grant, whoever connected it; returns a warning when the
        app could not revoke it. The audit names ``principal``, who acted."""
        principal.require_builder()
        connection = await self._connections.get(connection_id)
        if connection.is_end_user:
            raise InvalidInput(
                f"{connection.name} is connected by each end user; they disconnect under My connections.",
                field="connection_id",
            )
        grant = await self._store.of(connection, None)
        if grant is None:
            raise NotFound(f"You have not connected {connection.name}.", field="connection_id")
        return await self._revoke(connection, grant, actor_id=principal.user_id)

    async def disconnect_everyone(self, connection_id: UUID, *, actor: Actor = CONNECTION_DELETED) -> None:
        """Before a connection goes: ask the app to revoke every grant made through it (best effort: an
        app that cannot be reached does not keep the connection alive here). ``actor`` is who deletes the
        connection, named by the audit of each grant (the caller has checked they may)."""
        connection = await self._connections.get(connection_id)
        for grant in await self._store.grants_of(connection_id):
            await self._revoke(connection, grant, actor_id=actor.user_id, why="the connection was deleted")

    # -- internals ------------------------------------------------------------------------------------

    async def _revoke(
        self, connection: Connection, grant: Row, *, actor_id: UUID | None, why: str = ""
    ) -> str:
        """Revoke ``grant`` at the app when it can (RFC 7009), delete it, and audit it as ``actor_id``'s
        doing (None: Switchboard's own). Returns a warning when the app could not revoke the tokens."""
        warning = ""
        definition = await self._connections.definition_of(connection)
        personal = connection.auth_type in PERSONAL_AUTH_TYPES  # a key or login: nothing to revoke
        endpoints = None if personal else endpoints_for(connection, definition)
        tokens = self._store.open(grant)
        if endpoints is not None and endpoints.revocation_url and tokens is not None:
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
        await self._store.delete(grant["id"])
        # The audit names who acted; whose grant it was is said when that is someone else.
        owner = (
            "" if grant["user"] == actor_id else f"the grant of {await self._store.email_of(grant['user'])}"
        )
        await self._store.record(
            "connection.disconnect",
            connection,
            actor_id,
            outcome="partial" if warning else "ok",
            reason="; ".join(part for part in (why, owner, warning) if part),
            label=grant["label"],
        )
        return warning

    async def _fresh(
        self,
        connection: Connection,
        user_id: UUID,
        grant: Row,
        *,
        refresh: bool,
        stale: Callable[[Row], bool] | None = None,
    ) -> FreshToken:
        """The grant's access token, refreshed first when ``refresh`` (see ``GrantRefresher``)."""
        try:
            if refresh:
                grant = await self._refresher.refreshed(connection, grant, stale)
        except GrantUnusable:
            raise await self._required(
                connection, user_id, "needs_reconnect", _label(connection, grant)
            ) from None
        tokens = self._store.open(grant)
        if tokens is None:
            await self._store.mark(grant["id"], UNREADABLE)
            raise await self._required(connection, user_id, "needs_reconnect", _label(connection, grant))
        return FreshToken(tokens.access_token, tokens.token_type, tuple(grant["scopes"].split()))

    async def _required(
        self, connection: Connection, user_id: UUID | None, reason: str, account: str = ""
    ) -> DomainError:
        """Who must do what: a builder (shared), or the user with a link that connects their account named
        ``account`` ('': their default one)."""
        definition = await self._connections.definition_of(connection)
        if connection.mode is Mode.SHARED:
            state = "is not connected" if reason == "not_connected" else "must be connected again"
            return SharedGrantMissing(
                f"The shared connection {connection.name} {state} to {definition.name}: a builder connects "
                "it with Connect on its page in the console (Connections)."
            )
        assert user_id is not None
        url = await self.connect_link(user_id, connection.id, label=account)
        accounts = await self._store.accounts(connection.id, user_id) if account else []
        if account and reason == "not_connected" and accounts:
            return await self._unknown_account(connection, definition.name, user_id, account, url)
        # The account is named when the call asked for it by name, or when the person has several.
        account = account if reason == "not_connected" or len(accounts) > 1 else ""
        verb = "connect" if reason == "not_connected" else "reconnect"
        named = f" named {account!r}" if account else ""
        if connection.auth_type in PERSONAL_AUTH_TYPES:
            what = "user name and password" if connection.auth_type == "basic" else "API key"
            message = f"This tool needs your own {definition.name} {what}{named}. Open {url} to enter it"
        else:
            message = f"This tool needs your {definition.name} account{named}. Open {url} to {verb} it"
        return ConnectionRequired(
            f"{message} (the link works once, for 10 minutes), then try again.",
            connect_url=url,
            connection_name=connection.name,
            app_name=definition.name,
            reason=reason,
        )

    async def _unknown_account(
        self, connection: Connection, app_name: str, user_id: UUID, account: str, url: str
    ) -> DomainError:
        """The call named an account the user has not connected: say which they have (only theirs) and
        give the link that connects one under that name."""
        names = ", ".join(repr(row["label"]) for row in await self._store.accounts(connection.id, user_id))
        return ConnectionRequired(
            f"You have no {app_name} account named {account!r} in {connection.name}; yours are {names}. "
            f"Open {url} to connect one named {account!r} (the link works once, for 10 minutes), then try "
            "again, or name one of yours.",
            connect_url=url,
            connection_name=connection.name,
            app_name=app_name,
            reason="unknown_account",
        )


def _label(connection: Connection, grant: Row) -> str:
    """The name of ``grant``'s account, for a link that connects that account again."""
    return str(grant["label"]) if connection.is_end_user else ""
