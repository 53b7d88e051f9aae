"""Roles and what each may do."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BUILDER = "builder"
    MEMBER = "member"

    @property
    def is_admin(self) -> bool:
        """Owners and admins manage users, groups and tokens."""
        return self in {Role.OWNER, Role.ADMIN}

    @property
    def label(self) -> str:
        return self.value.capitalize()
