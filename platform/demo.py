"""The demo seed: users and groups a newcomer can sign in with, and Demo Tasks with an end user's
connection to it. Idempotent."""

from __future__ import annotations

import msgspec

from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserCreate
from switchboard.platform.core.errors import NotFound
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks.accounts import seed_accounts
from switchboard.platform.demo_tasks.clients import ClientRegistry

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


DEMO_PROJECT = "Demo"
DEMO_TASKS_CONNECTION = "Demo Tasks"
DEMO_TASKS_CLIENT = "Switchboard"
DEMO_TASKS_PATH = "/demo-tasks"


async def seed_demo_tasks(settings: Settings, connectors: ConnectorServices) -> list[str]:
    """Demo Tasks' accounts, its OAuth client for Switchboard, and the end user's connection to it.

    Safe to repeat; when the base URL changed since the last run the connection and client follow it.
    """
    created = [f"Demo Tasks account {email}" for email in await seed_accounts()]
    host = settings.base_url + DEMO_TASKS_PATH
    client = await ClientRegistry(settings.secret_key, settings.previous_keys).ensure_client(
        DEMO_TASKS_CLIENT, [connectors.grants.redirect_uri]
    )
    project = await connectors.projects.ensure(DEMO_PROJECT)
    data = ConnectionInput(
        name=DEMO_TASKS_CONNECTION,
        project_id=project.id,
        connector="demo-tasks",
        mode=Mode.END_USER,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=("tasks:read", "tasks:write"),
        fields={"host": host},
    )
    existing = next(
        (
            c
            for c in await connectors.connections.list_all(project_id=project.id)
            if c.name == DEMO_TASKS_CONNECTION
        ),
        None,
    )
    if existing is None:
        await connectors.connections.create(data, actor=None)
        created.append(f"connection {DEMO_TASKS_CONNECTION}")
    elif (
        existing.fields != data.fields
        or existing.client_id != data.client_id
        or (await connectors.connections.credentials(existing.id)).client_secret != data.client_secret
    ):
        await connectors.connections.update(existing.id, data, actor=None)
        created.append(f"connection {DEMO_TASKS_CONNECTION} moved to {host}")
    return created
