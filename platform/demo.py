"""The demo seed: users and groups a newcomer can sign in with, Demo Tasks with an end user's connection
to it, and the published recipes of the demo server. Idempotent."""

from __future__ import annotations

import msgspec

from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.connections.projects import ProjectService
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import SystemActor
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserCreate
from switchboard.platform.core.errors import NotFound
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo_tasks import accounts as demo_tasks_accounts
from switchboard.platform.demo_tasks.app import MOUNT_PATH
from switchboard.platform.demo_tasks.clients import ClientRegistry
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerCreate, ToolAttach
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.documents import DOCUMENT_FORMAT, RecipeDocument
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    ToolTrigger,
)

DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - the documented demo password
DEMO_SEED = SystemActor("demo")
"""Who the seed acts as: what it makes names no person as its creator or author."""


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
            await services.groups.create(GroupCreate(name=name, description=description), actor=DEMO_SEED)
            created.append(f"group {name}")
    for demo in DEMO_USERS:
        user = await services.users.find_by_email(demo.email)
        if user is None:
            data = UserCreate(email=demo.email, password=DEMO_PASSWORD, role=demo.role, name=demo.name)
            user = await services.users.create(data, actor=DEMO_SEED)
            created.append(f"user {demo.email} ({demo.role.value})")
        member_of = {group.name for group in user.groups}
        for group_name in demo.groups:
            if group_name not in member_of:
                group = await services.groups.get_by_name(group_name)
                await services.groups.add_member(group.id, demo.email, actor=DEMO_SEED)
                created.append(f"{demo.email} in group {group_name}")
    return created


DEMO_PROJECT = "Demo"
DEMO_TASKS_CONNECTION = "Demo Tasks"
DEMO_TASKS_CLIENT = "Switchboard"


def demo_tasks_url(settings: Settings) -> str:
    """Where this Switchboard serves Demo Tasks."""
    return settings.base_url + MOUNT_PATH


def give_everyone_demo_tasks_accounts(settings: Settings, identity: IdentityServices) -> None:
    """With Demo Tasks mounted, every person Switchboard has gets a Demo Tasks account with the same e-mail
    and password: made with the person, and changed when an admin resets their password."""
    if settings.mounts_demo_tasks:
        identity.users.password_set = demo_tasks_accounts.provision


async def seed_demo_tasks(settings: Settings, connectors: ConnectorServices) -> list[str]:
    """Demo Tasks' accounts, its OAuth client for Switchboard, and the end user's connection to it.

    Safe to repeat; when the base URL changed since the last run the connection and client follow it.
    """
    created = [f"Demo Tasks account {email}" for email in await demo_tasks_accounts.seed_accounts()]
    host = demo_tasks_url(settings)
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
        # Demo Tasks runs inside Switchboard, at its base URL: often localhost or a private address, which
        # a connection reaches only with an admin's allowance. The seed is the operator's own command.
        allow_private=True,
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
        await connectors.connections.create(data, actor=DEMO_SEED)
        created.append(f"connection {DEMO_TASKS_CONNECTION}")
    elif (
        existing.fields != data.fields
        or not existing.allow_private
        or existing.client_id != data.client_id
        or (await connectors.connections.credentials(existing.id)).client_secret != data.client_secret
    ):
        await connectors.connections.update(existing.id, data, actor=DEMO_SEED)
        created.append(f"connection {DEMO_TASKS_CONNECTION} moved to {host}")
    return created


def _demo_recipes(connection: ConnectionRef | None) -> tuple[RecipeDefinition, ...]:
    """The demo server's tools: one that needs no connection, two that use each caller's Demo Tasks."""
    whoami = RecipeDefinition(
        trigger=ToolTrigger(
            name="whoami",
            title="Who am I",
            description="Your e-mail address and end-user groups, as Switchboard knows them.",
            output_schema={
                "type": "object",
                "properties": {
                    "email": {"type": "string"},
                    "groups": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["email", "groups"],
            },
        ),
        steps=(
            ResultStep(
                id="step_1",
                title="Return result",
                text="You are {{ user.email }}{% if user.groups %}, in {{ user.groups | join(', ') }}"
                "{% else %}, in no group{% endif %}.",
                structured={"email": "{{ user.email }}", "groups": "{{ user.groups }}"},
            ),
        ),
    )
    list_tasks = RecipeDefinition(
        trigger=ToolTrigger(
            name="list_tasks",
            title="List my tasks",
            description="The tasks on your own Demo Tasks list.",
        ),
        steps=(
            ActionStep(
                id="step_1",
                title="List my tasks",
                connector="demo-tasks",
                action="list_tasks",
                connection=connection,
            ),
            ResultStep(
                id="step_2",
                title="Return result",
                text="{% for task in steps.step_1 %}- {{ task.title }}{% if task.done %} (done){% endif %}\n"
                "{% else %}You have no tasks.{% endfor %}",
                structured={"tasks": "{{ steps.step_1 }}"},
            ),
        ),
    )
    create_task = RecipeDefinition(
        trigger=ToolTrigger(
            name="create_task",
            title="Create a task",
            description="Adds a task to your own Demo Tasks list.",
            parameters=(Parameter(name="title", required=True, description="What is to be done."),),
        ),
        steps=(
            ActionStep(
                id="step_1",
                title="Create a task",
                connector="demo-tasks",
                action="create_task",
                connection=connection,
                inputs={"title": "{{ input.title }}"},
            ),
            ResultStep(
                id="step_2",
                title="Return result",
                text="Created the task “{{ steps.step_1.title }}”.",
                structured={"task": "{{ steps.step_1 }}"},
            ),
        ),
    )
    return (whoami,) if connection is None else (whoami, list_tasks, create_task)


async def seed_demo_recipes(connectors: ConnectorServices, recipes: RecipeServices) -> list[str]:
    """The published demo recipes ``whoami``, and ``list_tasks`` and ``create_task`` when the Demo Tasks
    connection exists. A recipe that exists is left as it is (a builder may have changed it), except that a
    never-published one is published."""
    project = await connectors.projects.ensure(DEMO_PROJECT)
    connection = next(
        (
            ConnectionRef(name=c.name, id=c.id)
            for c in await connectors.connections.list_all(project_id=project.id)
            if c.name == DEMO_TASKS_CONNECTION
        ),
        None,
    )
    existing = {recipe.tool_name: recipe for recipe in await recipes.recipes.list_all(project_id=project.id)}
    created: list[str] = []
    for definition in _demo_recipes(connection):
        name = definition.trigger.name
        recipe = existing.get(name)
        if recipe is None:
            document = RecipeDocument(format=DOCUMENT_FORMAT, format_version=1, definition=definition)
            recipe = (await recipes.recipes.import_document(project.id, document, actor=DEMO_SEED)).recipe
        if recipe.published_version is None:
            version = await recipes.recipes.publish(recipe.id, actor=DEMO_SEED)
            created.append(f"recipe {name} (published version {version.number})")
    return created


DEMO_SERVER = "demo"
_DEMO_TOOLS = {"whoami": True, "list_tasks": True, "create_task": False}  # tool name: read-only


async def seed_demo_server(
    mcp: McpServices, recipes: RecipeServices, identity: IdentityServices
) -> list[str]:
    """The MCP server ``demo`` (Identity access, group Sales) with the demo recipes that exist as tools.
    What exists is left as it is: an admin may have changed it."""
    created: list[str] = []
    try:
        server = await mcp.servers.get_by_slug(DEMO_SERVER)
    except NotFound:
        server = await mcp.servers.create(
            ServerCreate(
                slug=DEMO_SERVER,
                name="Demo",
                description="The demo tools: who you are, and your Demo Tasks list.",
                instructions=(
                    "Use whoami to learn who the user is; list_tasks and create_task for their tasks."
                ),
            ),
            actor=DEMO_SEED,
        )
        sales = [group.id for group in await identity.groups.list_all() if group.name == DEMO_GROUPS[0][0]]
        if sales:
            server = await mcp.groups.add(server.id, sales, actor=DEMO_SEED)
        created.append(f"MCP server {DEMO_SERVER}")
    attached = {tool.tool_name for tool in await mcp.tools.list_all(server.id)}
    project = await ProjectService().find(DEMO_PROJECT)
    if project is None:
        return created
    for recipe in await recipes.recipes.list_all(project_id=project.id):
        name = recipe.tool_name
        if name in _DEMO_TOOLS and name not in attached and recipe.published_version is not None:
            attach = ToolAttach(recipe_id=recipe.id, read_only=_DEMO_TOOLS[name])
            await mcp.tools.attach(server.id, attach, actor=DEMO_SEED)
            created.append(f"tool {name} on {DEMO_SERVER}")
    return created
