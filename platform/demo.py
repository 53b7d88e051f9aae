"""The demo seed: users and groups a newcomer can sign in with. Idempotent."""

from __future__ import annotations

import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserCreate
from switchboard.platform.core.errors import NotFound

DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - the documented demo password


class DemoUser(msgspec.Struct, frozen=True):
    email: str
    name: str
    role: Role
    groups: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser("admin@example.com", "Ada Admin", Role.OWNER),
    DemoUser("alice@example.com", "Alice Anders", Role.MEMBER, ("Sales",)),
    DemoUser("bob@example.com", "Bob Berg", Role.MEMBER),
)
DEMO_GROUPS = (("Sales", "The sales team: uses the demo MCP server."),)


async def seed_demo(services: IdentityServices) -> list[str]:
    """Create what is missing; returns a line for each thing created."""
    created: list[str] = []
    for name, description in DEMO_GROUPS:
        try:
            await services.groups.get_by_name(name)
        except NotFound:
            await services.groups.create(GroupCreate(name=name, description=description), actor=None)
            created.append(f"group {name}")
    for demo in DEMO_USERS:
        user = await services.users.find_by_email(demo.email)
        if user is None:
            data = UserCreate(email=demo.email, password=DEMO_PASSWORD, role=demo.role, name=demo.name)
            user = await services.users.create(data, actor=None)
            created.append(f"user {demo.email} ({demo.role.value})")
        member_of = {group.name for group in user.groups}
        for group_name in demo.groups:
            if group_name not in member_of:
                group = await services.groups.get_by_name(group_name)
                await services.groups.add_member(group.id, demo.email, actor=None)
                created.append(f"{demo.email} in group {group_name}")
    return created
