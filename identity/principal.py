"""Who is making a request, as the services see it."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from switchboard.identity.roles import Role
from switchboard.platform.core.errors import PermissionDenied


class Principal(msgspec.Struct, frozen=True):
    """A signed-in user, reached through a console session or an admin API token.

    ``ip_address`` and ``user_agent`` are those of the request the principal acts in (the authentication
    middleware fills them in): the audit trail records them with every change the principal makes.
    """

    user_id: UUID
    email: str
    name: str
    role: Role
    via: Literal["session", "api_token"]
    session_id: UUID | None = None
    ip_address: str = ""
    user_agent: str = ""

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


class SystemActor(msgspec.Struct, frozen=True):
    """Switchboard acting for its operator rather than for a signed-in person: the command line, the
    demo's seed, a change that follows from another. It passes every role check; it has no user and no
    e-mail, so what it creates belongs to nobody, and a record that needs a name (who added a remote
    server) gets ``name``."""

    name: str
    user_id: None = None
    session_id: None = None
    email: str = ""
    role: Role = Role.OWNER
    ip_address: str = ""
    user_agent: str = ""

    @property
    def is_admin(self) -> bool:
        return True

    @property
    def can_build(self) -> bool:
        return True

    def require_builder(self) -> None:
        return None

    def require_admin(self) -> None:
        return None


Actor = Principal | SystemActor
"""Who a service acts for: a signed-in person (whose role is checked), or Switchboard itself."""

COMMAND_LINE = SystemActor("command line")
"""The operator at the ``switchboard`` command, who can do anything the database lets them."""
