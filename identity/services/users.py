"""Managing users: create, change role, deactivate, reset password."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth.revocation_list import (
    LONGEST_ACCESS_TOKEN_LIFETIME,
    Revoked,
    record_revocation,
)
from switchboard.identity.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from switchboard.identity.principal import Actor
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupRef, UserCreate, UserOut, UserUpdate
from switchboard.identity.tables import GroupMember, LoginSession, User
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]+$")
# No name or address needs control characters, and PostgreSQL cannot even store NUL.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_possible_email(email: str) -> bool:
    """Whether a normalized e-mail could belong to a user; lookups skip the database otherwise."""
    return len(email) <= 254 and _EMAIL.match(email) is not None


def validate_email(email: str) -> str:
    email = normalize_email(email)
    if not is_possible_email(email):
        raise InvalidInput("Enter a valid e-mail address, such as alice@example.com.", field="email")
    return email


def validate_text(text: str, *, field: str) -> str:
    """Refuse control characters in a name or description (the caller checks length and blanks)."""
    if _CONTROL_CHARACTERS.search(text):
        raise InvalidInput("Control characters (such as line breaks) are not allowed here.", field=field)
    return text


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password can have at most {MAX_PASSWORD_LENGTH} characters.", field="password"
        )
    return password


def _now() -> datetime:
    return datetime.now(UTC)


async def _groups_by_user(user_ids: list[UUID]) -> dict[UUID, list[GroupRef]]:
    result: dict[UUID, list[GroupRef]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return result
    rows = (
        await GroupMember.select(GroupMember.user, GroupMember.group.id, GroupMember.group.name)
        .where(GroupMember.user.is_in(user_ids))
        .order_by(GroupMember.group.name)
    )
    for row in rows:
        result[row["user"]].append(GroupRef(id=row["group.id"], name=row["group.name"]))
    return result


def _out(user: User, groups: list[GroupRef]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        is_active=user.is_active,
        created_at=user.created_at,
        last_sign_in_at=user.last_sign_in_at,
        groups=groups,
    )


class PasswordSet(Protocol):
    """Told a person's password hash each time one is set (user created, password reset): how another app
    that keeps an account for every person, with their own password, follows (the bundled Demo Tasks)."""

    async def __call__(self, *, email: str, name: str, password_hash: str) -> None: ...


class UserService:
    """User administration. Every method that changes a user takes the acting principal, and records the
    change in the audit trail."""

    def __init__(self, audit: AuditLog | None = None) -> None:
        self._audit = audit or AuditLog()
        # Set by the composition root when it mounts such an app.
        self.password_set: PasswordSet | None = None

    async def list_all(self) -> list[UserOut]:
        users = await User.objects().order_by(User.email)
        groups = await _groups_by_user([user.id for user in users])
        return [_out(user, groups[user.id]) for user in users]

    async def get(self, user_id: UUID) -> UserOut:
        user = await self._load(user_id)
        return _out(user, (await _groups_by_user([user.id]))[user.id])

    async def email_of(self, user_id: UUID) -> str:
        """The user's e-mail address, or "" when there is no such user (as an audit record's actor)."""
        row = await User.select(User.email).where(User.id == user_id).first()
        return str(row["email"]) if row else ""

    async def find_by_email(self, email: str) -> UserOut | None:
        email = normalize_email(email)
        user = await User.objects().where(User.email == email).first() if is_possible_email(email) else None
        if user is None:
            return None
        return _out(user, (await _groups_by_user([user.id]))[user.id])

    async def create(self, data: UserCreate, *, actor: Actor) -> UserOut:
        """Create a user (the command line and the demo seed act as a ``SystemActor``, an owner)."""
        actor.require_admin()
        if data.role is Role.OWNER and actor.role is not Role.OWNER:
            raise PermissionDenied("Only an owner can create another owner.", field="role")
        email = validate_email(data.email)
        validate_password(data.password)
        name = validate_text(data.name.strip(), field="name")
        if await User.exists().where(User.email == email):
            raise Conflict(f"A user with the e-mail {email} already exists.", field="email")
        user = User(
            email=email,
            name=name,
            role=data.role.value,
            password_hash=await hash_password(data.password),
            is_active=True,
            created_at=_now(),
        )
        try:
            await user.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"A user with the e-mail {email} already exists.", field="email") from exc
            raise
        await self._changed(actor, "user.created", user, reason=f"role {user.role}")
        await self._tell_password_set(user)
        return _out(user, [])

    async def update(self, user_id: UUID, data: UserUpdate, *, actor: Actor) -> UserOut:
        user = await self._load(user_id)
        current_role = Role(user.role)
        new_role = data.role if isinstance(data.role, Role) else current_role
        actor.require_admin()
        if Role.OWNER in {current_role, new_role} and actor.role is not Role.OWNER:
            raise PermissionDenied(
                "Only an owner can change an owner or make someone an owner.", field="role"
            )
        if actor.user_id == user.id:
            if new_role is not current_role:
                raise PermissionDenied("You cannot change your own role.", field="role")
            if data.is_active is False:
                raise PermissionDenied("You cannot deactivate your own account.", field="is_active")
        before = (user.name, current_role, user.is_active)
        losing_owner = (
            current_role is Role.OWNER
            and user.is_active
            and (new_role is not Role.OWNER or data.is_active is False)
        )
        last_owner = Conflict("Switchboard needs at least one active owner.", field="role")
        if losing_owner and await self._active_owner_count() <= 1:
            raise last_owner

        if isinstance(data.name, str):
            user.name = validate_text(data.name.strip(), field="name")
        user.role = new_role.value
        if isinstance(data.is_active, bool):
            user.is_active = data.is_active
        await user.save()
        if losing_owner and await self._active_owner_count() == 0:
            # Two owners demoted each other at the same moment: whoever sees none left undoes theirs.
            await User.update({User.role: Role.OWNER.value, User.is_active: True}).where(User.id == user.id)
            raise last_owner
        if not user.is_active:
            await end_sessions(user.id)
            # Their OAuth access tokens stop too, in every process within a second (refreshes and
            # client-credentials requests already refuse a deactivated account).
            await record_revocation(Revoked.USER, str(user.id), LONGEST_ACCESS_TOKEN_LIFETIME)
        await self._record_update(actor, user, before)
        return await self.get(user.id)

    async def reset_password(self, user_id: UUID, password: str, *, actor: Actor) -> None:
        """Set a new password and end the user's sessions, so the old password's sign-ins stop."""
        user = await self._load(user_id)
        actor.require_admin()
        if Role(user.role) is Role.OWNER and actor.role is not Role.OWNER:
            raise PermissionDenied("Only an owner can reset an owner's password.", field="password")
        if user.kind != "person":
            raise InvalidInput("A service account has no password: it authenticates as its OAuth client.")
        validate_password(password)
        user.password_hash = await hash_password(password)
        await User.update({User.password_hash: user.password_hash}).where(User.id == user.id)
        await end_sessions(user.id, keep=actor.session_id if actor.user_id == user.id else None)
        await self._changed(actor, "user.password_reset", user)
        await self._tell_password_set(user)

    async def _tell_password_set(self, user: User) -> None:
        if self.password_set is not None:
            await self.password_set(email=user.email, name=user.name, password_hash=user.password_hash)

    async def _record_update(self, actor: Actor, user: User, before: tuple[str, Role, bool]) -> None:
        name, role, active = before
        if user.name != name:
            await self._changed(actor, "user.renamed", user, reason=f"{name or '(no name)'} → {user.name}")
        if user.role != role.value:
            await self._changed(actor, "user.role_changed", user, reason=f"{role.value} → {user.role}")
        if user.is_active != active:
            await self._changed(actor, "user.reactivated" if user.is_active else "user.deactivated", user)

    async def _changed(self, actor: Actor, action: str, user: User, *, reason: str = "") -> None:
        await self._audit.change(
            actor, action, object_type="user", object_id=user.id, object_name=user.email, reason=reason
        )

    async def _load(self, user_id: UUID) -> User:
        user = await User.objects().where(User.id == user_id).first()
        if user is None:
            raise NotFound("No such user.")
        return user

    async def _active_owner_count(self) -> int:
        return int(await User.count().where((User.role == Role.OWNER.value) & (User.is_active == True)))  # noqa: E712


async def end_sessions(user_id: UUID, *, keep: UUID | None = None) -> None:
    """Revoke every sign-in session of a user (but ``keep``, the caller's own)."""
    query = LoginSession.update({LoginSession.revoked_at: _now()}).where(
        (LoginSession.user == user_id) & LoginSession.revoked_at.is_null()
    )
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    await query
