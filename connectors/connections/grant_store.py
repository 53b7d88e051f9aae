"""Where grants are kept: one row per account a person connected, its tokens sealed with the secret key, and
the audit records of what happened to it.

A shared connection has at most one grant, whoever connected it. In an end user's connection a person may
connect several accounts, each with a name of theirs (its ``label``, unique per person and connection,
case-blind); exactly one of them is their default, which calls use when they name no account. Tokens sealed
with a secret key this process no longer has cannot be opened: such a grant is treated as needing
reconnection, never as an error of the caller's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from switchboard.connectors.connections.models import Connection, GrantStatus, Mode, TokenSet
from switchboard.connectors.tables import Connection as ConnectionRow
from switchboard.connectors.tables import UserGrant
from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.platform.core.crypto import DecryptionFailed, SecretBox
from switchboard.platform.core.errors import InvalidInput, NotFound

log = logging.getLogger("switchboard.connectors")

Row = dict[str, Any]
MAX_LABEL = 40
DEFAULT_LABEL = "default"
UNREADABLE = (
    "The stored tokens were encrypted with an earlier secret key that is no longer configured; connect again."
)


class UserEmails(Protocol):
    """How grants learn a user's e-mail address for their audit records ("" when there is no such user)."""

    async def email_of(self, user_id: UUID) -> str: ...


class StoredTokens(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"


class GrantStore:
    def __init__(self, *, box: SecretBox, audit: AuditLog, users: UserEmails) -> None:
        self._box = box
        self._audit = audit
        self._users = users

    # -- rows -----------------------------------------------------------------------------------------

    async def of(self, connection: Connection, user_id: UUID | None, label: str = "") -> Row | None:
        """The grant a call uses: the user's own (the account named ``label``, by default their default
        one), or the shared connection's one grant (anyone's)."""
        if connection.mode is Mode.SHARED:
            return await UserGrant.select().where(UserGrant.connection == connection.id).first()
        return None if user_id is None else await self.own(connection.id, user_id, label)

    async def own(self, connection_id: UUID, user_id: UUID, label: str = "") -> Row | None:
        """The user's account named ``label`` (case-blind) in the connection; '': their default one."""
        mine = (UserGrant.connection == connection_id) & (UserGrant.user == user_id)
        if label:
            return await UserGrant.select().where(mine & (UserGrant.label_key == label_key(label))).first()
        return (
            await UserGrant.select()
            .where(mine)
            .order_by(UserGrant.is_default, ascending=False)
            .order_by(UserGrant.connected_at)
            .first()
        )

    async def accounts(self, connection_id: UUID, user_id: UUID) -> list[Row]:
        """Every account the user connected in the connection, the oldest first."""
        mine = (UserGrant.connection == connection_id) & (UserGrant.user == user_id)
        return await UserGrant.select().where(mine).order_by(UserGrant.connected_at)

    async def grants_of(self, connection_id: UUID) -> list[Row]:
        return await UserGrant.select().where(UserGrant.connection == connection_id)

    async def by_id(self, grant_id: UUID) -> Row | None:
        return await UserGrant.select().where(UserGrant.id == grant_id).first()

    async def save(
        self,
        connection: Connection,
        user_id: UUID,
        tokens: TokenSet,
        *,
        account: str,
        scopes: tuple[str, ...],
        issuer: str,
        label: str = "",
    ) -> Row:
        """Keep a new grant of ``user_id``: for a shared connection it replaces whoever's came before; in an
        end user's connection it replaces the person's account named ``label`` (none: their default one),
        or adds it as another account (named after ``account`` when ``label`` is empty). The first account
        a person connects is their default."""
        now = datetime.now(UTC)
        values: dict[Any, Any] = {
            "status": GrantStatus.CONNECTED.value,
            "reason": "",
            "account": account,
            "scopes": " ".join(scopes),
            "scopes_version": connection.scopes_version,
            "tokens": self.seal(tokens),
            "expires_at": tokens.expires_at,
            "issuer": issuer,
            "lease_until": None,
            "connected_at": now,
            "refreshed_at": None,
        }
        if connection.mode is Mode.SHARED:  # one grant for everyone: the builder who connected last
            others = (UserGrant.connection == connection.id) & (UserGrant.user != user_id)
            await UserGrant.delete().where(others)
        label = clean_label(label) if label else ""
        existing = await self.own(connection.id, user_id, label)
        if existing is not None:
            await UserGrant.update(values).where(UserGrant.id == existing["id"])
            return {**existing, **values}
        name = label or await self._free_label(connection.id, user_id, account)
        first = not await self.accounts(connection.id, user_id)
        row = UserGrant(
            connection=connection.id,
            user=user_id,
            label=name,
            label_key=label_key(name),
            is_default=first,
            **values,
        )
        await row.save()
        return row.to_dict()

    async def rename(self, grant: Row, label: str) -> str:
        """Give the person's account ``grant`` another name, unique among their accounts (case-blind)."""
        label = clean_label(label)
        same = await self.own(grant["connection"], grant["user"], label)
        if same is not None and same["id"] != grant["id"]:
            raise InvalidInput(f"You already have an account named {same['label']!r} here.", field="label")
        await UserGrant.update({UserGrant.label: label, UserGrant.label_key: label_key(label)}).where(
            UserGrant.id == grant["id"]
        )
        return label

    async def make_default(self, grant: Row) -> None:
        """Calls that name no account use ``grant``'s from now on (its person's other accounts stop)."""
        mine = (UserGrant.connection == grant["connection"]) & (UserGrant.user == grant["user"])
        await UserGrant.update({UserGrant.is_default: False}).where(mine & (UserGrant.id != grant["id"]))
        await UserGrant.update({UserGrant.is_default: True}).where(UserGrant.id == grant["id"])

    async def _free_label(self, connection_id: UUID, user_id: UUID, account: str) -> str:
        """A name for an account the person did not name: the app's name for it, else "default", made
        unique among their accounts with a number."""
        base = " ".join(account.split())[:MAX_LABEL] or DEFAULT_LABEL
        taken = {row["label_key"] for row in await self.accounts(connection_id, user_id)}
        name, number = base, 2
        while label_key(name) in taken:
            suffix = f" {number}"
            name, number = base[: MAX_LABEL - len(suffix)] + suffix, number + 1
        return name

    async def mark(self, grant_id: UUID, reason: str) -> None:
        """The grant cannot be used any more: its person (or a builder) must connect again."""
        await UserGrant.update(
            {
                UserGrant.status: GrantStatus.NEEDS_RECONNECT.value,
                UserGrant.reason: reason[:300],
                UserGrant.lease_until: None,
            }
        ).where(UserGrant.id == grant_id)

    async def delete(self, grant_id: UUID) -> None:
        """Forget a grant; when it was its person's default, their oldest remaining account becomes it."""
        gone = await UserGrant.delete().where(UserGrant.id == grant_id).returning(*UserGrant.all_columns())
        if gone and gone[0]["is_default"]:
            oldest = await self.own(gone[0]["connection"], gone[0]["user"])
            if oldest is not None:
                await self.make_default(oldest)

    # -- tokens ---------------------------------------------------------------------------------------

    def open(self, grant: Row) -> StoredTokens | None:
        """The stored tokens, or None when they were sealed with a secret key this process no longer has."""
        try:
            return msgspec.json.decode(self._box.decrypt(grant["tokens"]), type=StoredTokens)
        except DecryptionFailed:
            log.warning("grant %s was encrypted with an unknown secret key", grant["id"])
            return None

    def seal(self, tokens: TokenSet, *, keep_refresh: str | None = None) -> str:
        stored = StoredTokens(tokens.access_token, tokens.refresh_token or keep_refresh, tokens.token_type)
        return self._box.encrypt(msgspec.json.encode(stored).decode())

    async def reencrypt(self) -> int:
        """Seal every grant's tokens again with the current secret key; returns how many changed."""
        changed = 0
        for row in await UserGrant.select(UserGrant.id, UserGrant.tokens):
            value = self._box.reencrypt(row["tokens"])
            if value is not None:
                await UserGrant.update({UserGrant.tokens: value}).where(UserGrant.id == row["id"])
                changed += 1
        return changed

    # -- audit ----------------------------------------------------------------------------------------

    async def email_of(self, user_id: UUID) -> str:
        return await self._users.email_of(user_id)

    async def record(
        self,
        action: str,
        connection: Connection,
        actor_id: UUID | None,
        *,
        outcome: str = "ok",
        reason: str = "",
        scope: str = "",
        label: str = "",
    ) -> None:
        """Audit what ``actor_id`` did to a grant of ``connection``: always the person who acted, whoever
        the grant is of (None: Switchboard acted on its own, and the record names nobody). ``label``: the
        account's name, in an end user's connection."""
        if label and connection.is_end_user:
            reason = "; ".join(part for part in (reason, f"account {label!r}") if part)
        await self._audit.record(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor=await self._users.email_of(actor_id) if actor_id is not None else "",
                subject=connection.name,
                client_name=connection.connector,
                scope=scope,
                reason=reason[:300],
            )
        )

    async def record_refusal(self, connection_id: UUID, user_id: UUID, reason: str) -> None:
        """A connect link or callback refused to ``user_id`` (another person's, say)."""
        row = await ConnectionRow.select(ConnectionRow.name).where(ConnectionRow.id == connection_id).first()
        await self._audit.record(
            AuditEntry(
                action="connection.link",
                outcome="refused",
                actor=await self._users.email_of(user_id),
                subject=row["name"] if row else "",
                reason=reason,
            )
        )


def clean_label(label: str) -> str:
    """A person's name for one of their accounts: trimmed, one line, 1 to 40 characters."""
    label = " ".join(label.split())
    if not label:
        raise InvalidInput("Give the account a name, such as work or personal.", field="label")
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"An account's name has at most {MAX_LABEL} characters.", field="label")
    return label


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def owned(grant: Row | None, user_id: UUID) -> Row:
    """``grant`` when it is ``user_id``'s own; NotFound otherwise (another person's is never revealed)."""
    if grant is None or grant["user"] != user_id:
        raise NotFound("You have no such account.", field="grant_id")
    return grant
