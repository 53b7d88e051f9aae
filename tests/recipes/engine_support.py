"""Helpers for the engine and run store tests: test connectors whose API is the fault provider or a local
HTTP server, connections to them, recipe definitions in a few lines, and a store that counts its saves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.gateway import ServicesGateway
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    Step,
    ToolTrigger,
)
from switchboard.recipes.outcomes import RunCaller, RunReport
from switchboard.recipes.runs import RunStore
from switchboard.recipes.tables import Recipe as RecipeRow
from tests.support.connector_fixtures import allow_private
from tests.support.fake_github import Recorded, Reply, json_reply
from tests.support.fault_provider import FaultProvider

APP = "engine-app"
SHARED_APP = "engine-shared"

# The API is "{api}": the fault provider's /api/me (which checks the caller's token), or a local server.
_ACTIONS = """
actions:
  - {name: whoami, title: Who am I, path: /api/me}
  - name: touch
    title: Touch
    method: POST
    path: /api/me
    input_schema:
      type: object
      properties:
        count: {type: integer}
        tags: {type: array, items: {type: string}}
        note: {type: string}
    request: {body: json, body_fields: {count: count, tags: tags, note: note}}
  - name: create_task
    title: Create a task
    method: POST
    path: /api/tasks
    input_schema:
      type: object
      properties: {title: {type: string}}
    request: {body: json, body_fields: {title: title}}
"""


def end_user_definition(issuer: str) -> str:
    return (
        f"""
key: {APP}
name: Test App
base_url: "{{api}}"
fields:
  - {{key: host, label: Host, kind: url}}
  - {{key: api, label: API, kind: url}}
auth:
  type: oauth2_authorization_code
  provider:
    authorize_url: "{{host}}/authorize"
    token_url: "{{host}}/token"
    revocation_url: "{{host}}/revoke"
    userinfo_url: "{{host}}/userinfo"
    issuer: "{issuer}"
    scopes: [{{name: "tasks:read"}}, {{name: "tasks:write"}}]
"""
        + _ACTIONS
    )


SHARED_DEFINITION = (
    f"""
key: {SHARED_APP}
name: Shared App
base_url: "{{api}}"
fields:
  - {{key: api, label: API, kind: url}}
auth: {{type: bearer}}
"""
    + _ACTIONS
)


async def end_user_connection(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal, *, api: str = ""
) -> Connection:
    """An end user's connection whose tokens come from the fault provider; its API is ``api`` (by default
    the fault provider's own /api/me)."""
    await connectors.registry.save(end_user_definition(fake.issuer), actor=builder.email)
    data = ConnectionInput(
        name="Test App",
        project_id=project.id,
        connector=APP,
        mode=Mode.END_USER,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        scopes=("tasks:read", "tasks:write"),
        fields={"host": fake.issuer, "api": api or fake.issuer},
    )
    # The fake apps listen on 127.0.0.1: an admin allows the connection onto private addresses.
    return await allow_private(connectors, await connectors.connections.create(data, actor=builder))


async def shared_connection(
    connectors: ConnectorServices, project: Project, builder: Principal, *, api: str
) -> Connection:
    await connectors.registry.save(SHARED_DEFINITION, actor=builder.email)
    data = ConnectionInput(
        name="Shared App",
        project_id=project.id,
        connector=SHARED_APP,
        mode=Mode.SHARED,
        token="shared-bearer-token-0123456789",
        fields={"api": api},
    )
    return await allow_private(connectors, await connectors.connections.create(data, actor=builder))


def action(
    step_id: str,
    connection: Connection | None,
    action_name: str,
    inputs: dict[str, str] | None = None,
    **changes: Any,
) -> ActionStep:
    return ActionStep(
        id=step_id,
        connector=connection.connector if connection is not None else changes.pop("connector", APP),
        action=action_name,
        connection=ConnectionRef(name=connection.name, id=connection.id) if connection is not None else None,
        inputs=inputs or {},
        **changes,
    )


def result(text: str = "", **changes: Any) -> ResultStep:
    return ResultStep(id=changes.pop("id", "finish"), text=text, **changes)


def recipe(*steps: Step, parameters: tuple[Parameter, ...] = (), **trigger: Any) -> RecipeDefinition:
    return RecipeDefinition(
        trigger=ToolTrigger(name=trigger.pop("name", "engine_test"), parameters=parameters, **trigger),
        steps=steps,
    )


def caller_of(principal: Principal, *groups: str) -> RunCaller:
    return RunCaller(user_id=principal.user_id, email=principal.email, name="Bo Builder", groups=groups)


class CountingStore(RunStore):
    """The real store, counting its saves (a run must be written exactly once)."""

    def __init__(self) -> None:
        self.saved: list[RunReport] = []

    async def save(self, report: RunReport) -> None:
        self.saved.append(report)
        await super().save(report)


def engine_for(connectors: ConnectorServices, store: RunStore | None, **options: Any) -> RecipeEngine:
    """The engine over the app's real connector services, with quick retries for tests."""
    options.setdefault("retry_delays", (0.01, 0.02, 0.03))
    return RecipeEngine(connectors=ServicesGateway(connectors), store=store, **options)


async def recipe_row(project: Project, name: str = "engine_test") -> UUID:
    """A recipe row for runs to belong to (the run table's foreign key)."""
    now = datetime.now(UTC)
    recipe_id = uuid4()
    definition = msgspec.json.encode(recipe(result("ok"), name=name)).decode()
    await RecipeRow.insert(
        RecipeRow(
            id=recipe_id,
            project=project.id,
            tool_name=name,
            draft=definition,
            created_at=now,
            updated_at=now,
        )
    )
    return recipe_id


def demo_tasks_scope_refusal(scope: str) -> Callable[[Recorded], Reply]:
    """What Demo Tasks answers to a token without ``scope`` (its own error, RFC 6750 §3.1)."""
    from switchboard.platform.demo_tasks.errors import insufficient_scope

    error = insufficient_scope(scope)

    def answer(request: Recorded) -> Reply:
        return json_reply(error.status, error.body(), ("WWW-Authenticate", error.challenge))

    return answer
