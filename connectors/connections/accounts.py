"""Who has connected what: each person's own connections with their status ("My connections"), the people
connected through one connection, and how many have a working grant per connection.
"""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.connections.grant_store import Row, UserEmails
from switchboard.connectors.connections.models import (
    PERSONAL_AUTH_TYPES,
    ConnectedAccount,
    Connection,
    GrantStatus,
    Mode,
    UserConnection,
)
from switchboard.connectors.connections.service import ConnectionService
from switchboard.connectors.tables import UserGrant
from switchboard.platform.core.errors import NotFound

AppNames = dict[str, tuple[str, str]]
"""Connector key -> (app name, icon)."""


class ConnectedAccounts:
    def __init__(self, *, connections: ConnectionService, users: UserEmails) -> None:
        self._connections = connections
        self._users = users

    async def for_user(self, user_id: UUID, *, names: AppNames | None = None) -> list[UserConnection]:
        """Every end user's connection with this user's status in it. ``names`` maps connector keys to
        (app name, icon); by default they come from the connector definitions."""
        email = await self._users.email_of(user_id)
        grants: dict[UUID, list[Row]] = {}
        rows = await UserGrant.select().where(UserGrant.user == user_id).order_by(UserGrant.connected_at)
        for row in rows:
            grants.setdefault(row["connection"], []).append(row)
        connections = [c for c in await self._connections.list_all() if c.mode is Mode.END_USER]
        names = names if names is not None else await self._app_names(connections)
        return [
            _user_connection(connection, grants.get(connection.id, []), email, names)
            for connection in connections
            if connection.auth_type in ("oauth2_authorization_code", *PERSONAL_AUTH_TYPES)
        ]

    async def of_connection(
        self, connection_id: UUID, *, names: AppNames | None = None
    ) -> list[UserConnection]:
        """The people who connected their account through this connection, by e-mail."""
        connection = await self._connections.get(connection_id)
        names = names if names is not None else await self._app_names([connection])
        rows = (
            await UserGrant.select(*UserGrant.all_columns(), UserGrant.user.email.as_alias("email"))
            .where(UserGrant.connection == connection_id)
            .order_by(UserGrant.user.email)
            .order_by(UserGrant.label_key)
        )
        return [_user_connection(connection, [row], row["email"], names) for row in rows]

    async def counts(self) -> dict[UUID, int]:
        """How many people have a working grant, per connection (grants to re-consent count as not)."""
        rows = await UserGrant.select(
            UserGrant.connection,
            UserGrant.user,
            UserGrant.scopes_version,
            UserGrant.connection.scopes_version.as_alias("current"),
        ).where(UserGrant.status == GrantStatus.CONNECTED.value)
        people: dict[UUID, set[UUID]] = {}  # a person with several working accounts counts once
        for row in rows:
            if row["scopes_version"] >= row["current"]:
                people.setdefault(row["connection"], set()).add(row["user"])
        return {connection: len(users) for connection, users in people.items()}

    async def _app_names(self, connections: list[Connection]) -> AppNames:
        names: AppNames = {}
        for connection in connections:
            if connection.connector not in names:
                try:
                    definition = await self._connections.definition_of(connection)
                except NotFound:
                    continue
                names[connection.connector] = (definition.name, definition.icon)
        return names


def _status(connection: Connection, grant: Row | None) -> GrantStatus:
    if grant is None:
        return GrantStatus.NOT_CONNECTED
    if grant["status"] != GrantStatus.CONNECTED or grant["scopes_version"] < connection.scopes_version:
        return GrantStatus.NEEDS_RECONNECT
    return GrantStatus.CONNECTED


def _reason(connection: Connection, grant: Row) -> str:
    if grant["reason"]:
        return str(grant["reason"])
    stale = _status(connection, grant) is GrantStatus.NEEDS_RECONNECT
    return "The connection's scopes changed." if stale else ""


def _user_connection(
    connection: Connection, grants: list[Row], email: str, names: AppNames
) -> UserConnection:
    """``grants``: the person's accounts in ``connection``, the oldest first; the row tells of the
    default one."""
    app_name, icon = names.get(connection.connector, (connection.connector, ""))
    grant = next((row for row in grants if row["is_default"]), grants[0] if grants else None)
    status = _status(connection, grant)
    accounts = tuple(
        ConnectedAccount(
            grant_id=row["id"],
            label=row["label"],
            is_default=row is grant,
            status=_status(connection, row),
            account=row["account"],
            reason=_reason(connection, row),
            connected_at=row["connected_at"],
            refreshed_at=row["refreshed_at"],
        )
        for row in grants
    )
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
        reason=_reason(connection, grant) if grant else "",
        connected_at=grant["connected_at"] if grant else None,
        refreshed_at=grant["refreshed_at"] if grant else None,
        auth_type=connection.auth_type,
        accounts=accounts,
    )
