"""Helpers for the validation tests: the built-in connector definitions without a database, connections
kept in memory for the checks that do not need stored ones, and recipe definitions in a few lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from switchboard.connectors.connections.models import Connection, Mode
from switchboard.connectors.definitions.loading import load_definition
from switchboard.connectors.definitions.model import ConnectorDefinition
from switchboard.connectors.registry import load_builtins
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.model import (
    ActionStep,
    ConnectionRef,
    Parameter,
    RecipeDefinition,
    ResultStep,
    Step,
    ToolTrigger,
)
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.validation import RecipeValidator

# A connector that needs neither authentication nor connection fields: its steps need no connection.
OPEN_DATA = load_definition(
    """
key: open-data
name: Open Data
base_url: https://data.example.com
actions:
  - name: stats
    title: Get the stats
    path: /stats
    output: {pick: [total, updated]}
    input_schema:
      type: object
      properties:
        limit: {type: integer}
        ratio: {type: number}
        exact: {type: boolean}
        filter: {type: object}
        fields: {type: array, items: {type: string}}
        label: {type: string}
  - name: anything
    title: Anything goes
    path: /anything
    input_schema: {type: object, properties: {}, additionalProperties: true}
"""
)


class Catalog:
    """Connector definitions as the registry gives them: the built-in ones (demo-tasks, http, github) and
    Open Data; an unknown key raises NotFound as the registry does."""

    def __init__(self) -> None:
        self.definitions: dict[str, ConnectorDefinition] = {**load_builtins(), OPEN_DATA.key: OPEN_DATA}
        self.asked: list[str] = []

    async def get(self, key: str) -> ConnectorDefinition:
        self.asked.append(key)
        try:
            return self.definitions[key]
        except KeyError:
            raise NotFound(f"There is no connector {key!r}.", field="key") from None


class MemoryConnections:
    """Connections by id, as the ConnectionService answers ``get`` (for tests without a database)."""

    def __init__(self, *connections: Connection) -> None:
        self.connections = {connection.id: connection for connection in connections}

    async def get(self, connection_id: UUID) -> Connection:
        try:
            return self.connections[connection_id]
        except KeyError:
            raise NotFound("No such connection.", field="connection_id") from None


def memory_connection(
    project_id: UUID, connector: str = "demo-tasks", name: str = "Demo Tasks"
) -> Connection:
    now = datetime.now(UTC)
    return Connection(
        id=uuid4(),
        name=name,
        project_id=project_id,
        project_name="Sales tools",
        connector=connector,
        mode=Mode.END_USER,
        auth_type="oauth2_authorization_code",
        client_id="switchboard",
        username="",
        scopes=("tasks:read", "tasks:write"),
        fields={},
        secrets_set=("client_secret",),
        scopes_version=1,
        created_by="builder@example.com",
        created_at=now,
        updated_at=now,
    )


def ref(connection: Connection) -> ConnectionRef:
    return ConnectionRef(name=connection.name, id=connection.id)


def create_task(
    step_id: str, connection: Connection, title: str = "{{ input.title }}", **changes: Any
) -> ActionStep:
    return ActionStep(
        id=step_id,
        connector="demo-tasks",
        action="create_task",
        connection=ref(connection),
        inputs={"title": title},
        **changes,
    )


def stats(step_id: str, **inputs: str) -> ActionStep:
    return ActionStep(id=step_id, connector="open-data", action="stats", inputs=inputs)


def finish(text: str = "Done.", step_id: str = "finish", **changes: Any) -> ResultStep:
    return ResultStep(id=step_id, text=text, **changes)


def recipe(*steps: Step, parameters: tuple[Parameter, ...] = (), **trigger: Any) -> RecipeDefinition:
    return RecipeDefinition(
        trigger=ToolTrigger(name=trigger.pop("name", "checked"), parameters=parameters, **trigger),
        steps=steps,
    )


def validator(*connections: Connection) -> RecipeValidator:
    return RecipeValidator(definitions=Catalog(), connections=MemoryConnections(*connections))


def where(problems: list[Problem]) -> list[tuple[str, str, str]]:
    """Problems as (step, field, message), the way builders see them beside the fields."""
    return [(problem.step, problem.field, problem.message) for problem in problems]
