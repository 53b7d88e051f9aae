"""Connecting an end user's own account: the connect link, then the OAuth 2.0 authorization code grant.

RFC 6749 §4.1 with PKCE S256 (RFC 7636). Opening a link (single-use, ten minutes, one user) starts the
grant with a one-time ``state`` and PKCE verifier, kept only as a hash and as ciphertext, so any process
can finish what another started. The callback checks ``state``, the user and ``iss`` (RFC 9207), exchanges
the code and hands the tokens to the grant service, which stores them encrypted for (user, connection).
A link to a connection whose people enter their own API key or login opens a form instead (``personal``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from switchboard.connectors.connections.endpoints import endpoints_for
from switchboard.connectors.connections.errors import LinkRefused
from switchboard.connectors.connections.grant_store import GrantStore
from switchboard.connectors.connections.grants import LINK_LIFETIME, GrantService
from switchboard.connectors.connections.models import PERSONAL_AUTH_TYPES, Connected, Connection, union
from switchboard.connectors.connections.personal import PersonalCredentials
from switchboard.connectors.connections.provider import (
    ClientCredentials,
    Endpoints,
    ProviderClient,
    authorization_url,
)
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.tables import ConnectLink
from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.tokens import token_hash


class ConnectFlow:
    def __init__(
        self,
        *,
        box: SecretBox,
        connections: ConnectionService,
        provider: ProviderClient,
        grants: GrantService,
        store: GrantStore,
    ) -> None:
        self._box = box
        self._connections = connections
        self._provider = provider
        self._grants = grants
        self._store = store
        self.personal = PersonalCredentials(store=store, connections=connections)

    async def describe_link(self, token: str, user_id: UUID) -> Connection:
        """The connection a link is for, with the scopes it asks for, after every check that opening it
        would make (nothing changes)."""
        link = await self._link(token, user_id)
        return _asking(await self._connections.get(link["connection"]), link)

    async def open_link(self, token: str, user_id: UUID) -> str:
        """Spend the link and return the app's authorization URL to send the user to."""
        link = await self._link(token, user_id)
        connection = _asking(await self._connections.get(link["connection"]), link)
        if connection.auth_type in PERSONAL_AUTH_TYPES:
            raise LinkRefused(
                f"{connection.name} takes your own key or login: enter it under My connections."
            )
        definition = await self._connections.definition_of(connection)
        endpoints = endpoints_for(connection, definition)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        spent = (
            await ConnectLink.update(
                {
                    ConnectLink.opened_at: datetime.now(UTC),
                    ConnectLink.state_hash: token_hash(state),
                    ConnectLink.verifier: self._box.encrypt(verifier),
                }
            )
            .where((ConnectLink.id == link["id"]) & ConnectLink.opened_at.is_null())
            .returning(ConnectLink.id)
        )
        if not spent:
            raise LinkRefused("This connect link was already used. Ask your assistant for a new one.")
        credentials = await self._connections.credentials(connection.id)
        return authorization_url(
            endpoints,
            ClientCredentials(connection.client_id, credentials.client_secret),
            redirect_uri=self._grants.redirect_uri,
            scopes=connection.scopes,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
        )

    async def enter_with_link(
        self, token: str, user_id: UUID, *, secret: str, username: str = ""
    ) -> Connected:
        """A link to a connection whose people enter their own API key or login: spend the link, then store
        what the person entered (a refused entry gives the link back)."""
        link = await self._link(token, user_id)
        connection = await self.personal.connection(link["connection"])
        now = datetime.now(UTC)
        spent = (
            await ConnectLink.update({ConnectLink.opened_at: now, ConnectLink.finished_at: now})
            .where((ConnectLink.id == link["id"]) & ConnectLink.opened_at.is_null())
            .returning(ConnectLink.id)
        )
        if not spent:  # two submissions at once: only the first is kept
            raise LinkRefused("This connect link was already used. Ask your assistant for a new one.")
        try:
            label = await self.personal.save(
                user_id, connection.id, secret=secret, username=username, label=link["label"]
            )
        except InvalidInput:
            await ConnectLink.update({ConnectLink.opened_at: None, ConnectLink.finished_at: None}).where(
                ConnectLink.id == link["id"]
            )
            raise
        definition = await self._connections.definition_of(connection)
        return Connected(
            connection_id=connection.id,
            connection_name=connection.name,
            app_name=definition.name,
            account=username.strip(),
            scopes=(),
            return_to=link["redirect_to"],
            shared=False,
            label=label,
        )

    async def finish(self, params: dict[str, str], user_id: UUID) -> Connected:
        """The app's redirect back: check state, user and iss, exchange the code, store the grant."""
        state = params.get("state", "")
        link = (
            await ConnectLink.select().where(ConnectLink.state_hash == token_hash(state)).first()
            if state
            else None
        )
        if link is None:
            raise LinkRefused("This sign-in answer does not match a connection in progress; start again.")
        if link["user"] != user_id:
            await self._store.record_refusal(link["connection"], user_id, "callback for another user")
            raise LinkRefused("This connection was started by another account; sign in as that account.")
        if link["opened_at"] + LINK_LIFETIME < datetime.now(UTC):
            raise LinkRefused("This connection took too long; ask your assistant for a new link.")
        finished = (
            await ConnectLink.update({ConnectLink.finished_at: datetime.now(UTC)})
            .where((ConnectLink.id == link["id"]) & ConnectLink.finished_at.is_null())
            .returning(ConnectLink.id)
        )
        if not finished:
            raise LinkRefused("This sign-in answer was already used; start again.")
        connection = _asking(await self._connections.get(link["connection"]), link)
        definition = await self._connections.definition_of(connection)
        endpoints = endpoints_for(connection, definition)
        if params.get("error"):
            reason = params.get("error_description") or params["error"]
            await self._store.record(
                "connection.connect", connection, user_id, outcome="refused", reason=reason[:300]
            )
            raise LinkRefused(f"{definition.name} did not connect your account: {reason[:200]}.")
        _check_issuer(params.get("iss"), endpoints)
        credentials = await self._connections.credentials(connection.id)
        tokens = await self._provider.exchange_code(
            endpoints,
            ClientCredentials(connection.client_id, credentials.client_secret),
            code=params.get("code", ""),
            redirect_uri=self._grants.redirect_uri,
            verifier=self._box.decrypt(link["verifier"]),
        )
        provider = definition.provider
        account = await self._provider.account_label(
            endpoints, tokens.access_token, provider.account_label if provider else ()
        )
        scopes = tuple((tokens.scope or " ".join(connection.scopes)).split())
        grant = await self._store.save(
            connection,
            user_id,
            tokens,
            account=account,
            scopes=scopes,
            issuer=params.get("iss", ""),
            label=link["label"],
        )
        await self._store.record(
            "connection.connect", connection, user_id, scope=" ".join(scopes), label=grant["label"]
        )
        return Connected(
            connection_id=connection.id,
            connection_name=connection.name,
            app_name=definition.name,
            account=account,
            scopes=scopes,
            return_to=link["redirect_to"],
            shared=not connection.is_end_user,
            label=grant["label"] if connection.is_end_user else "",
        )

    async def remove_expired_links(self) -> int:
        cutoff = datetime.now(UTC) - LINK_LIFETIME
        rows = await ConnectLink.delete().where(ConnectLink.expires_at < cutoff).returning(ConnectLink.id)
        return len(rows)

    async def _link(self, token: str, user_id: UUID) -> dict[str, Any]:
        link = await ConnectLink.select().where(ConnectLink.link_hash == token_hash(token)).first()
        if link is None:
            raise LinkRefused("This connect link is not valid. Ask your assistant for a new one.")
        if link["user"] != user_id:
            await self._store.record_refusal(link["connection"], user_id, "connect link of another user")
            raise LinkRefused(
                "This connect link was made for another account. Sign in as the person who asked for it."
            )
        if link["opened_at"] is not None:
            raise LinkRefused("This connect link was already used. Ask your assistant for a new one.")
        if link["expires_at"] < datetime.now(UTC):
            raise LinkRefused(
                "This connect link has expired (links last 10 minutes). Ask your assistant for a new one."
            )
        return link


def _asking(connection: Connection, link: dict[str, Any]) -> Connection:
    """The connection with the scopes its link asks for: its own, plus those of a step-up."""
    more = tuple(link["more_scopes"].split())
    return msgspec.structs.replace(connection, scopes=union(connection.scopes, more)) if more else connection


def _check_issuer(iss: str | None, endpoints: Endpoints) -> None:
    """RFC 9207: when the app names itself, it must be the app this connection talks to."""
    if iss is None:
        if endpoints.require_iss:
            raise LinkRefused(
                f"The answer does not say it came from {endpoints.app_name}, which always says so; "
                "nothing was stored."
            )
        return
    expected = endpoints.issuer
    if expected:
        if iss != expected:
            raise LinkRefused(
                f"The answer came from {iss[:100]!r}, not from {endpoints.app_name}; nothing was stored."
            )
        return
    # No issuer configured: accept only an issuer on the same origin as the authorization endpoint.
    issuer, authorize = urlsplit(iss), urlsplit(endpoints.authorize_url)
    if (issuer.scheme, issuer.netloc) != (authorize.scheme, authorize.netloc):
        raise LinkRefused(
            f"The answer came from {iss[:100]!r}, not from {endpoints.app_name}; nothing was stored."
        )
