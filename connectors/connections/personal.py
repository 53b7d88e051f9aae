"""An API key or login that each person enters once for an end user's connection whose app has no OAuth.

It is kept like an OAuth grant (``grant_store``): one row per account the person named (several keys for
one connection, say "work" and "personal"), the secret sealed with the secret key, never shown again. For
``api_key`` the sealed token is the key; for ``basic`` it is ``user name:password``, and the grant's
account is the user name. Only its person sets, replaces or removes it; the audit records each of those,
never the secret.
"""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.connections.grant_store import GrantStore, clean_label
from switchboard.connectors.connections.models import PERSONAL_AUTH_TYPES, Connection, TokenSet
from switchboard.connectors.connections.service import ConnectionService
from switchboard.platform.core.errors import InvalidInput, NotFound

MAX_SECRET = 4000
MAX_USERNAME = 254  # the grant keeps it as the account's name


class PersonalCredentials:
    def __init__(self, *, store: GrantStore, connections: ConnectionService) -> None:
        self._store = store
        self._connections = connections

    async def connection(self, connection_id: UUID) -> Connection:
        """The end user's connection whose people enter their own key or login (NotFound otherwise)."""
        connection = await self._connections.get(connection_id)
        if not connection.is_end_user or connection.auth_type not in PERSONAL_AUTH_TYPES:
            raise NotFound(
                f"{connection.name} does not take an API key or login from each person.",
                field="connection_id",
            )
        return connection

    async def save(
        self, user_id: UUID, connection_id: UUID, *, secret: str, username: str = "", label: str = ""
    ) -> str:
        """Keep ``user_id``'s own key (``api_key``) or user name and password (``basic``) as their account
        named ``label`` ('': their default one, or their first); returns the account's name."""
        connection = await self.connection(connection_id)
        secret, username = secret.strip(), username.strip()
        if connection.auth_type == "basic":
            if not username:
                raise InvalidInput("Enter your user name.", field="username")
            if ":" in username:
                raise InvalidInput("A user name cannot contain a colon.", field="username")
            if not secret:
                raise InvalidInput("Enter your password.", field="password")
            token = f"{username}:{secret}"
        else:
            if not secret:
                raise InvalidInput("Enter your API key.", field="api_key")
            token, username = secret, ""
        if len(token) > MAX_SECRET:
            raise InvalidInput("This is too long for a key or password.", field="api_key")
        if len(username) > MAX_USERNAME:
            raise InvalidInput(f"A user name has at most {MAX_USERNAME} characters.", field="username")
        if any(not character.isprintable() for character in token):
            # It is sent in a header: a line break or control character would break every call.
            field = "password" if connection.auth_type == "basic" else "api_key"
            raise InvalidInput("This holds a line break or control character; paste it again.", field=field)
        label = clean_label(label) if label else ""
        replaced = await self._store.own(connection.id, user_id, label) is not None
        grant = await self._store.save(
            connection,
            user_id,
            TokenSet(access_token=token, token_type=connection.auth_type),
            account=username,
            scopes=(),
            issuer="",
            label=label,
        )
        action = "connection.credential.replace" if replaced else "connection.credential.set"
        await self._store.record(action, connection, user_id, reason=_kind(connection), label=grant["label"])
        return str(grant["label"])

    async def remove(self, user_id: UUID, connection_id: UUID, grant_id: UUID | None = None) -> None:
        """Forget ``user_id``'s own key or login (``grant_id``: that account; None: their default one;
        only theirs: nobody else's row is touched)."""
        connection = await self.connection(connection_id)
        grant = (
            await self._store.own(connection.id, user_id)
            if grant_id is None
            else await self._store.by_id(grant_id)
        )
        if grant is None or grant["user"] != user_id or grant["connection"] != connection.id:
            raise NotFound(f"You have not entered a key for {connection.name}.", field="connection_id")
        await self._store.delete(grant["id"])
        await self._store.record(
            "connection.credential.remove",
            connection,
            user_id,
            reason=_kind(connection),
            label=grant["label"],
        )


def _kind(connection: Connection) -> str:
    return "user name and password" if connection.auth_type == "basic" else "API key"
