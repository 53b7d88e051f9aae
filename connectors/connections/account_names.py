"""A person's several accounts in one end user's connection: the name they give each, and which one is
their default (the account a call uses when it names none).

Only the account's person renames it or makes it their default; anyone else's account is not found. The
audit records both, naming the account.
"""

from __future__ import annotations

from uuid import UUID

from switchboard.connectors.connections.grant_store import GrantStore, Row, clean_label, owned
from switchboard.connectors.connections.service import ConnectionService
from switchboard.platform.core.errors import InvalidInput, NotFound


class AccountNames:
    def __init__(self, *, store: GrantStore, connections: ConnectionService) -> None:
        self._store = store
        self._connections = connections

    async def check_new(self, user_id: UUID, connection_id: UUID, label: str) -> None:
        """Refuse ``label`` for another account of ``user_id``'s when one of theirs has it already (a new
        account must never replace an existing one behind their back)."""
        label = clean_label(label)
        if await self._store.own(connection_id, user_id, label) is not None:
            raise InvalidInput(
                f"You already have an account named {label!r} here: choose another name, or use that "
                "account's Reconnect.",
                field="label",
            )

    async def rename(self, user_id: UUID, connection_id: UUID, grant_id: UUID, label: str) -> str:
        """Call ``user_id``'s account ``grant_id`` ``label`` (unique among their accounts in that
        connection, case-blind); returns the name as kept."""
        grant = await self._own(user_id, connection_id, grant_id)
        before = grant["label"]
        label = await self._store.rename(grant, label)
        connection = await self._connections.get(grant["connection"])
        await self._store.record(
            "connection.account.rename", connection, user_id, reason=f"was {before!r}", label=label
        )
        return label

    async def make_default(self, user_id: UUID, connection_id: UUID, grant_id: UUID) -> str:
        """Make ``user_id``'s account ``grant_id`` their default one; returns its name."""
        grant = await self._own(user_id, connection_id, grant_id)
        await self._store.make_default(grant)
        connection = await self._connections.get(grant["connection"])
        await self._store.record("connection.account.default", connection, user_id, label=grant["label"])
        return str(grant["label"])

    async def _own(self, user_id: UUID, connection_id: UUID, grant_id: UUID) -> Row:
        grant = owned(await self._store.by_id(grant_id), user_id)
        if grant["connection"] != connection_id:
            raise NotFound("You have no such account.", field="grant_id")
        return grant
