"""End-user groups: create, rename, delete, add and remove members."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Actor
from switchboard.identity.schemas import GroupCreate, GroupOut, GroupUpdate, MemberOut
from switchboard.identity.services.users import is_possible_email, normalize_email, validate_text
from switchboard.identity.tables import Group, GroupMember, User
from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.core.errors import Conflict, InvalidInput, NotFound


def _clean_name(name: str) -> str:
    name = validate_text(" ".join(name.split()), field="name")
    if not name:
        raise InvalidInput("Enter a group name.", field="name")
    if len(name) > 80:
        raise InvalidInput("A group name can have at most 80 characters.", field="name")
    return name


def _taken(name: str) -> Conflict:
    return Conflict(f"A group named {name!r} already exists.", field="name")


class GroupService:
    """Groups and their members; every change is recorded in the audit trail, by whoever made it."""

    def __init__(self, audit: AuditLog | None = None) -> None:
        self._audit = audit or AuditLog()

    async def list_all(self) -> list[GroupOut]:
        groups = await Group.objects().order_by(Group.name_key)
        members = await self._members([group.id for group in groups])
        return [self._out(group, members[group.id]) for group in groups]

    async def get(self, group_id: UUID) -> GroupOut:
        group = await self._load(group_id)
        return self._out(group, (await self._members([group.id]))[group.id])

    async def get_by_name(self, name: str) -> GroupOut:
        group = await Group.objects().where(Group.name_key == _clean_name(name).lower()).first()
        if group is None:
            raise NotFound(f"No group named {name!r}.", field="group")
        return self._out(group, (await self._members([group.id]))[group.id])

    async def existing(self, group_ids: Collection[UUID]) -> set[UUID]:
        """Which of ``group_ids`` are groups (one query)."""
        if not group_ids:
            return set()
        rows = await Group.select(Group.id).where(Group.id.is_in(list(group_ids)))
        return {row["id"] for row in rows}

    async def create(self, data: GroupCreate, *, actor: Actor) -> GroupOut:
        actor.require_admin()
        name = _clean_name(data.name)
        if await Group.exists().where(Group.name_key == name.lower()):
            raise _taken(name)
        group = Group(
            name=name,
            name_key=name.lower(),
            description=validate_text(data.description.strip(), field="description"),
            created_at=_now(),
        )
        try:
            await group.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise _taken(name) from exc
            raise
        await self._changed(actor, "group.created", group)
        return self._out(group, [])

    async def update(self, group_id: UUID, data: GroupUpdate, *, actor: Actor) -> GroupOut:
        actor.require_admin()
        group = await self._load(group_id)
        name_before, description_before = group.name, group.description
        if isinstance(data.name, str):
            name = _clean_name(data.name)
            clash = await Group.exists().where((Group.name_key == name.lower()) & (Group.id != group.id))
            if clash:
                raise _taken(name)
            group.name, group.name_key = name, name.lower()
        if isinstance(data.description, str):
            group.description = validate_text(data.description.strip(), field="description")
        try:
            await group.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise _taken(group.name) from exc
            raise
        if group.name != name_before:
            await self._changed(actor, "group.renamed", group, reason=f"{name_before} → {group.name}")
        if group.description != description_before:
            await self._changed(actor, "group.changed", group, reason="description changed")
        return await self.get(group.id)

    async def delete(self, group_id: UUID, *, actor: Actor) -> None:
        actor.require_admin()
        group = await self._load(group_id)
        await GroupMember.delete().where(GroupMember.group == group.id)
        await Group.delete().where(Group.id == group.id)
        await self._changed(actor, "group.deleted", group)

    async def add_member(self, group_id: UUID, email: str, *, actor: Actor) -> GroupOut:
        actor.require_admin()
        group = await self._load(group_id)
        user = await self._user(email)
        already = await GroupMember.exists().where(
            (GroupMember.group == group.id) & (GroupMember.user == user.id)
        )
        if already:
            raise Conflict(f"{user.email} is already a member of {group.name}.", field="email")
        try:
            await GroupMember(group=group.id, user=user.id, added_at=_now()).save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(f"{user.email} is already a member of {group.name}.", field="email") from exc
            raise
        await self._changed(actor, "group.member_added", group, subject=user.email)
        return await self.get(group.id)

    async def remove_member(self, group_id: UUID, email: str, *, actor: Actor) -> GroupOut:
        actor.require_admin()
        group = await self._load(group_id)
        user = await self._user(email)
        membership = GroupMember.exists().where(
            (GroupMember.group == group.id) & (GroupMember.user == user.id)
        )
        if not await membership:
            raise NotFound(f"{user.email} is not a member of {group.name}.", field="email")
        await GroupMember.delete().where((GroupMember.group == group.id) & (GroupMember.user == user.id))
        await self._changed(actor, "group.member_removed", group, subject=user.email)
        return await self.get(group.id)

    async def _changed(
        self, actor: Actor, action: str, group: Group, *, subject: str = "", reason: str = ""
    ) -> None:
        await self._audit.change(
            actor,
            action,
            object_type="group",
            object_id=group.id,
            object_name=group.name,
            subject=subject,
            reason=reason,
        )

    async def _load(self, group_id: UUID) -> Group:
        group = await Group.objects().where(Group.id == group_id).first()
        if group is None:
            raise NotFound("No such group.")
        return group

    async def _user(self, email: str) -> User:
        email = normalize_email(email)
        user = await User.objects().where(User.email == email).first() if is_possible_email(email) else None
        if user is None:
            raise NotFound(f"No user with the e-mail {email}.", field="email")
        return user

    async def _members(self, group_ids: list[UUID]) -> dict[UUID, list[MemberOut]]:
        result: dict[UUID, list[MemberOut]] = {group_id: [] for group_id in group_ids}
        if not group_ids:
            return result
        rows = (
            await GroupMember.select(
                GroupMember.group,
                GroupMember.user.id,
                GroupMember.user.email,
                GroupMember.user.name,
                GroupMember.user.is_active,
            )
            .where(GroupMember.group.is_in(group_ids))
            .order_by(GroupMember.user.email)
        )
        for row in rows:
            result[row["group"]].append(
                MemberOut(
                    id=row["user.id"],
                    email=row["user.email"],
                    name=row["user.name"],
                    is_active=row["user.is_active"],
                )
            )
        return result

    @staticmethod
    def _out(group: Group, members: list[MemberOut]) -> GroupOut:
        return GroupOut(
            id=group.id,
            name=group.name,
            description=group.description,
            created_at=group.created_at,
            members=members,
        )


def _now() -> datetime:
    return datetime.now(UTC)
