"""Data shapes of the identity API and services (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from switchboard.identity.roles import Role

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, examples=["alice@example.com"])]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
GroupName = Annotated[str, msgspec.Meta(min_length=1, max_length=80, examples=["Sales"])]
DisplayName = Annotated[str, msgspec.Meta(max_length=120)]


class GroupRef(msgspec.Struct, frozen=True):
    id: UUID
    name: str


class UserOut(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    groups: list[GroupRef]


class UserCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    role: Role = Role.MEMBER
    name: DisplayName = ""


class UserUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Partial update: fields left out are unchanged."""

    name: DisplayName | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class PasswordReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    password: Password


class MemberOut(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str
    is_active: bool


class GroupOut(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    description: str
    created_at: datetime
    members: list[MemberOut]


class GroupCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: GroupName
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


class GroupUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: GroupName | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET


class MemberAdd(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email


class ApiTokenCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class ApiTokenOut(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    prefix: str
    owner_email: str
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenCreated(msgspec.Struct, frozen=True):
    """Returned once, at creation: ``token`` is never shown again."""

    id: UUID
    name: str
    token: str
