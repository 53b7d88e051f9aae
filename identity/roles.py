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
    def can_build(self) -> bool:
        """Builders (and admins) manage projects, connections, connectors and recipes."""
        return self in {Role.OWNER, Role.ADMIN, Role.BUILDER}

    @property
    def label(self) -> str:
        return self.value.capitalize()
