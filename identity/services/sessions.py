"""Signing in and out: password check, throttling, and server-side sign-in sessions.

The cookie holds a random session token, signed with the secret key; the database keeps only the
token's hash, so a session can be revoked (sign-out, deactivation, password reset) on the server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.passwords import hash_password, needs_rehash, verify_password
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.services.throttle import SignInThrottler
from switchboard.identity.services.users import is_possible_email, normalize_email
from switchboard.identity.tables import LoginSession, User
from switchboard.platform.core.errors import NotAuthenticated, Throttled
from switchboard.platform.core.tokens import Signer, new_token, token_hash

WRONG_CREDENTIALS = "Wrong e-mail or password."
# last_seen_at is written at most this often, not on every request.
_TOUCH_INTERVAL = timedelta(minutes=1)


class NewSession(msgspec.Struct, frozen=True):
    cookie_value: str
    principal: Principal
    expires_at: datetime


class SessionService:
    """Sign-ins and sign-outs, each recorded in the audit trail: a refused sign-in with the e-mail tried
    and why it was refused (never the password)."""

    def __init__(
        self,
        *,
        secret_key: str,
        lifetime: timedelta,
        throttler: SignInThrottler,
        audit: AuditLog | None = None,
    ) -> None:
        self.signer = Signer(secret_key, "login-session")
        self.lifetime = lifetime
        self.throttler = throttler
        self._audit = audit or AuditLog()

    async def sign_in(self, email: str, password: str, *, ip_address: str, user_agent: str) -> NewSession:
        """Check the credentials and open a session. Every refusal reads the same to the caller."""
        email = normalize_email(email)
        attempt = AuditEntry(action="", subject=email, ip_address=ip_address, user_agent=user_agent)
        try:
            await self.throttler.check(email, ip_address)
        except Throttled:
            await self._refused(attempt, None, "too many failed sign-ins from this account or address")
            raise
        user = await User.objects().where(User.email == email).first() if is_possible_email(email) else None
        password_ok = await verify_password(user.password_hash if user else None, password)
        refusal = _refusal(user, password_ok)
        if user is None or refusal:
            await self.throttler.record_failure(email, ip_address)
            await self._refused(attempt, user, refusal)
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
        await self._audit.record(
            msgspec.structs.replace(attempt, action="auth.signed_in", actor=user.email, **_object(user))
        )
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

    async def sign_out(self, principal: Principal) -> None:
        """End the principal's session (one reached through a session cookie)."""
        if principal.session_id is None:
            return
        await LoginSession.update({LoginSession.revoked_at: datetime.now(UTC)}).where(
            (LoginSession.id == principal.session_id) & LoginSession.revoked_at.is_null()
        )
        await self._audit.change(
            principal,
            "auth.signed_out",
            object_type="user",
            object_id=principal.user_id,
            object_name=principal.email,
        )

    async def _refused(self, attempt: AuditEntry, user: User | None, reason: str) -> None:
        await self._audit.record(
            msgspec.structs.replace(
                attempt, action="auth.sign_in_refused", outcome="refused", reason=reason, **_object(user)
            )
        )


def _refusal(user: User | None, password_ok: bool) -> str:
    """Why a sign-in is refused, for the audit trail alone: the person is told the same in every case."""
    if user is None:
        return "no user has this e-mail"
    if not password_ok:
        return "wrong password"
    if not user.is_active:
        return "the account is deactivated"
    if user.kind != "person":
        return "a service account cannot sign in"
    return ""


def _object(user: User | None) -> dict[str, str]:
    if user is None:
        return {}
    return {"object_type": "user", "object_id": str(user.id), "object_name": user.email}


def _principal(user: User, session_id: UUID) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        via="session",
        session_id=session_id,
    )
