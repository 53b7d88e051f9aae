"""What every grant of the token endpoint shares: its shape, the check that the account the tokens
are for may still have them, and a refusal that names that account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

import msgspec

from switchboard.identity.oauth.errors import OAuthError, invalid_grant
from switchboard.identity.oauth.models import Client
from switchboard.identity.oauth.tokens import TokenResponse
from switchboard.identity.tables import User


class Issued(msgspec.Struct, frozen=True):
    response: TokenResponse
    subject: str
    """Whose tokens they are (an e-mail), for the audit trail."""


class RefusedFor(OAuthError):
    """A refusal that names whose tokens the request was after, for the audit trail: needed when the
    refusal removed what would have told (a reused refresh token revokes its grant, and with it the
    token presented)."""

    def __init__(self, error: OAuthError, *, subject: str) -> None:
        super().__init__(error.code, error.description, status=error.status)
        self.subject = subject


class Grant(Protocol):
    async def issue(self, client: Client, form: Mapping[str, Sequence[str]]) -> Issued:
        """Tokens for an authenticated ``client`` allowed this grant type; ``OAuthError`` when the
        request is refused (RFC 6749 §5.2)."""
        ...


async def email_of(user_id: UUID) -> str:
    """The e-mail of the account a grant is for, active or not ("" once it is deleted)."""
    row = await User.select(User.email).where(User.id == user_id).first()
    return str(row["email"]) if row else ""


async def active_user(user_id: UUID) -> str:
    """The e-mail of the account a grant is for; ``invalid_grant`` once it is deactivated."""
    row = await User.select(User.email, User.is_active).where(User.id == user_id).first()
    if row is None or not row["is_active"]:
        raise invalid_grant("The account this grant belongs to is deactivated.")
    return str(row["email"])
