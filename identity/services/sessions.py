"""Signing in and out: password check, throttling, and server-side sign-in sessions.

The cookie holds a random session token, signed with the secret key; the database keeps only the
token's hash, so a session can be revoked (sign-out, deactivation, password reset) on the server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.identity.passwords import hash_password, needs_rehash, verify_password
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.services.throttle import SignInThrottler
from switchboard.identity.services.users import is_possible_email, normalize_email
from switchboard.identity.tables import LoginSession, User
from switchboard.platform.core.errors import NotAuthenticated
from switchboard.platform.core.tokens import Signer, new_token, token_hash

WRONG_CREDENTIALS = "Wrong e-mail or password."
# last_seen_at is written at most this often, not on every request.
_TOUCH_INTERVAL = timedelta(minutes=1)


class NewSession(msgspec.Struct, frozen=True):
    cookie_value: str
    principal: Principal
    expires_at: datetime


class SessionService:
    def __init__(self, *, secret_key: str, lifetime: timedelta, throttler: SignInThrottler) -> None:
        self.signer = Signer(secret_key, "login-session")
        self.lifetime = lifetime
        self.throttler = throttler

    async def sign_in(self, email: str, password: str, *, ip_address: str, user_agent: str) -> NewSession:
        """Check the credentials and open a session. Every refusal reads the same to the caller."""
        email = normalize_email(email)
        await self.throttler.check(email, ip_address)
        user = await User.objects().where(User.email == email).first() if is_possible_email(email) else None
        password_ok = await verify_password(user.password_hash if user else None, password)
        if user is None or not password_ok or not user.is_active or user.kind != "person":
            await self.throttler.record_failure(email, ip_address)
            raise NotAuthenticated(WRONG_CREDENTIALS)
        await self.throttler.record_success(email, ip_address)

        now = datetime.now(UTC)
        token = new_token()
        session = LoginSession(
            token_hash=token_hash(token),
            user=user.id,
            created_at=now,
            expires_at=now + self.lifetime,
            last_seen_at=now,
            ip_address=ip_address[:64],
            user_agent=user_agent[:300],
        )
        await session.save()
        changes: dict[object, object] = {User.last_sign_in_at: now}
        if needs_rehash(user.password_hash):
            changes[User.password_hash] = await hash_password(password)
        await User.update(changes).where(User.id == user.id)  # type: ignore[arg-type]
        return NewSession(
            cookie_value=self.signer.sign(token),
            principal=_principal(user, session.id),
            expires_at=session.expires_at,
        )

    async def authenticate(self, cookie_value: str) -> Principal | None:
        """The principal behind a session cookie, or None when it is forged, expired or revoked."""
        token = self.signer.unsign(cookie_value)
        if token is None:
            return None
        row = (
            await LoginSession.select(
                LoginSession.id,
                LoginSession.expires_at,
                LoginSession.last_seen_at,
                LoginSession.revoked_at,
                *LoginSession.user.all_columns(),
            )
            .where(LoginSession.token_hash == token_hash(token))
            .first()
        )
        now = datetime.now(UTC)
        if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
            return None
        if not row["user.is_active"]:
            return None
        if now - row["last_seen_at"] > _TOUCH_INTERVAL:
            await LoginSession.update({LoginSession.last_seen_at: now}).where(LoginSession.id == row["id"])
        return Principal(
            user_id=row["user.id"],
            email=row["user.email"],
            name=row["user.name"],
            role=Role(row["user.role"]),
            via="session",
            session_id=row["id"],
        )

    async def sign_out(self, session_id: UUID) -> None:
        await LoginSession.update({LoginSession.revoked_at: datetime.now(UTC)}).where(
            (LoginSession.id == session_id) & LoginSession.revoked_at.is_null()
        )


def _principal(user: User, session_id: UUID) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        via="session",
        session_id=session_id,
    )
