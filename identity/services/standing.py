"""Where a user and their OAuth client stand now with a resource that only some end-user groups may use.

Asked on every request to such a resource (an MCP server), so it is one query: whether the client still
exists, whether the user is active, their name and groups, and whether one of those groups may use the
resource. Which groups may use it belongs to the resource's own area: it comes as a sub-query over that
area's table and runs inside this query, so who may use the resource is read fresh with the rest, and the
resource's area need not query identity's tables for it.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from piccolo.querystring import QueryString

from switchboard.identity.tables import GroupMember, User

_STANDING = """
SELECT u.email, u.name, u.is_active, u.kind,
  EXISTS (SELECT 1 FROM identity_oauth_client c WHERE c.client_id = {}) AS client_exists,
  g.name AS group_name,
  g.id IN ({}) AS allowed
FROM identity_user u
LEFT JOIN identity_group_member m ON m."user" = u.id
LEFT JOIN identity_group g ON g.id = m."group"
WHERE u.id = {}
"""
_IN_ALLOWED_GROUP = """
SELECT EXISTS (
  SELECT 1 FROM identity_group_member m WHERE m."user" = {} AND m."group" IN ({})
) AS allowed
"""


class UserStanding(msgspec.Struct, frozen=True, kw_only=True):
    client_exists: bool
    is_active: bool
    email: str
    name: str
    groups: tuple[str, ...]  # the user's end-user groups, by name
    allowed: bool  # in one of the groups that may use the resource
    service_account: bool = False  # a client's own account (client credentials), not a person


class StandingService:
    """``allowed_groups`` is a query of one column, the ids of the groups that may use the resource; it
    runs inside identity's own query."""

    async def standing(
        self, user_id: UUID, client_id: str, *, allowed_groups: QueryString
    ) -> UserStanding | None:
        """The standing of the user (None: no such user) and the client, read fresh: a deleted client, a
        deactivated user, or a change of either side's groups counts at once."""
        rows = await User.raw(_STANDING, client_id, allowed_groups, user_id)
        if not rows:
            return None
        first = rows[0]
        named = [row for row in rows if row["group_name"] is not None]
        return UserStanding(
            client_exists=bool(first["client_exists"]),
            is_active=bool(first["is_active"]),
            email=first["email"],
            name=first["name"],
            groups=tuple(sorted({row["group_name"] for row in named}, key=str.lower)),
            allowed=any(bool(row["allowed"]) for row in named),
            service_account=first["kind"] == "service",
        )

    async def in_allowed_group(self, user_id: UUID, *, allowed_groups: QueryString) -> bool:
        """Whether the user is in one of the allowed groups (one query)."""
        rows = await GroupMember.raw(_IN_ALLOWED_GROUP, user_id, allowed_groups)
        return bool(rows and rows[0]["allowed"])
