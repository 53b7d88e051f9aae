"""Who is making a request, as the services see it."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from switchboard.identity.roles import Role
from switchboard.platform.core.errors import PermissionDenied


class Principal(msgspec.Struct, frozen=True):
    """A signed-in user, reached through a console session or an admin API token."""

    user_id: UUID
    email: str
    name: str
    role: Role
    via: Literal["session", "api_token"]
    session_id: UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role.is_admin

    @property
    def can_build(self) -> bool:
        return self.role.can_build

    def require_builder(self) -> None:
        if not self.can_build:
            raise PermissionDenied("Only builders and admins can do this.")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied("Only owners and admins can do this.")
