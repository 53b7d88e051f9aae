"""Problems of each step: a unique id and its own settings (an if's conditions, a for-each's list, a
result's content), and for an action step its app, action, connection and inputs.

A connection must exist, belong to the recipe's project and be for the step's connector. An input must
be one the action takes, and a literal or a single trigger-parameter pill must suit the input's type.
The data pills a step's fields use are checked in ``references``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from switchboard.connectors.definitions.model import Action, ConnectorDefinition, NoAuth
from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.recipes.model import (
    OPERATORS,
    UNARY_OPERATORS,
    ActionStep,
    ForEachStep,
    IfStep,
    RecipeDefinition,
    ResultStep,
    Step,
    ToolTrigger,
)
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.templates import compile_field, syntax_problem
from switchboard.recipes.validation.lookups import Lookups
from switchboard.recipes.validation.trigger import TYPE_NAMES, json_type, suits

_NOT_JSON = object()


def step_problems(
    trigger: ToolTrigger, number: str, step: Step, first_number: dict[str, str]
) -> Iterable[Problem]:
    """The step's problems; ``first_number`` records each id's first step, to find duplicates."""
    if step.id in first_number:
        message = f"step {first_number[step.id]} has the id {step.id} already; step ids must differ"
        yield Problem(step=number, step_id=step.id, field="id", message=message)
    else:
        first_number[step.id] = number
    if isinstance(step, IfStep):
        yield from _if_problems(number, step)
    elif isinstance(step, ForEachStep):
        yield from _for_each_problems(number, step)
    elif isinstance(step, ResultStep):
        yield from _result_problems(trigger, number, step)


def _if_problems(number: str, step: IfStep) -> Iterable[Problem]:
    if not step.conditions:
        yield Problem(step=number, step_id=step.id, field="conditions", message="add a condition")
    for index, condition in enumerate(step.conditions, start=1):
        where = f"conditions.{index}"
        if not condition.left.strip():
            yield Problem(
                step=number,
                step_id=step.id,
                field=f"{where}.left",
                message="required: the value to check, such as a data pill",
            )
        if condition.operator not in UNARY_OPERATORS and not condition.right.strip():
            yield Problem(
                step=number,
                step_id=step.id,
                field=f"{where}.right",
                message=f"required: what the value {OPERATORS[condition.operator]}",
            )


def _for_each_problems(number: str, step: ForEachStep) -> Iterable[Problem]:
    if not step.items.strip():
        message = "required: a data pill holding a list, such as {{ steps.step_1 }}"
        yield Problem(step=number, step_id=step.id, field="items", message=message)
        return
    if syntax_problem(step.items) is None and compile_field(step.items).kind != "pill":
        message = "must be exactly one data pill holding a list, such as {{ steps.step_1 }}"
        yield Problem(step=number, step_id=step.id, field="items", message=message)


def _result_problems(trigger: ToolTrigger, number: str, step: ResultStep) -> Iterable[Problem]:
    has_structured = bool(step.structured) or bool(step.structured_from.strip())
    if not step.text.strip() and not has_structured:
        message = "required: the text the tool answers, or structured content"
        yield Problem(step=number, step_id=step.id, field="text", message=message)
    elif trigger.output_schema is not None and not has_structured:
        message = "the tool promises structured content (its output schema): add structured content"
        yield Problem(step=number, step_id=step.id, field="structured", message=message)


# --- action steps ----------------------------------------------------------------------------------------


async def action_problems(
    definition: RecipeDefinition, number: str, step: ActionStep, project_id: UUID, lookups: Lookups
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(field: str, message: str) -> None:
        problems.append(Problem(step=number, step_id=step.id, field=field, message=message))

    if not step.connector:
        problem("connector", "choose an app")
        return problems
    connector = await lookups.definition(step.connector)
    if connector is None:
        problem("connector", f"there is no connector {step.connector!r}")
        return problems
    action = connector.action(step.action) if step.action else None
    if not step.action:
        problem("action", f"choose an action of {connector.name}")
    elif action is None:
        problem("action", f"{connector.name} has no action {step.action!r}")
    message = await _connection_problem(step, connector, project_id, lookups)
    if message:
        problem("connection", message)
    elif step.account.strip() and not await _end_users(step, lookups):
        problem("account", "only an end user's connection has accounts to choose from: leave Account empty")
    if action is not None:
        for field, message in _input_problems(definition.trigger, step, action):
            problem(field, message)
    return problems


async def _connection_problem(
    step: ActionStep, connector: ConnectorDefinition, project_id: UUID, lookups: Lookups
) -> str:
    reference = step.connection
    if reference is None or reference.id is None:
        if isinstance(connector.auth, NoAuth) and not connector.fields:
            return ""
        if reference is not None and reference.name:
            return f"there is no connection named {reference.name!r} in this project: choose one"
        return f"choose a {connector.name} connection"
    connection = await lookups.connection(reference.id)
    if connection is None:
        return "the chosen connection no longer exists: choose another"
    if connection.project_id != project_id:
        return f"the connection {connection.name!r} belongs to another project: choose one of this project"
    if connection.connector != connector.key:
        return (
            f"the connection {connection.name!r} is for {connection.connector}, not {connector.name}: "
            f"choose a {connector.name} connection"
        )
    return ""


async def _end_users(step: ActionStep, lookups: Lookups) -> bool:
    """Whether the step's (valid) connection is an end user's, whose callers may name an account."""
    reference = step.connection
    connection = await lookups.connection(reference.id) if reference and reference.id else None
    return connection is not None and connection.is_end_user


def _input_problems(trigger: ToolTrigger, step: ActionStep, action: Action) -> Iterable[tuple[str, str]]:
    schema = action.input_schema
    properties: Mapping[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or ():
        if not step.inputs.get(name, "").strip():
            yield f"inputs.{name}", f"required by {action.title}: map a value or a data pill to it"
    extra = schema.get("additionalProperties")
    open_schema = extra is not None and extra is not False
    for name, text in step.inputs.items():
        input_schema = properties.get(name)
        if input_schema is None:
            if not open_schema:
                yield f"inputs.{name}", f"{action.title} has no input {name}"
            continue
        message = _type_problem(trigger, text, input_schema)
        if message:
            yield f"inputs.{name}", message


def _type_problem(trigger: ToolTrigger, text: str, schema: Any) -> str:
    """A literal that does not suit the input's type, or a single pill of a parameter of another type."""
    wanted = _schema_types(schema)
    if not wanted or "string" in wanted or not text or syntax_problem(text) is not None:
        return ""
    field = compile_field(text)
    if field.kind == "literal":
        try:
            value = load_json(text)
        except ValueError:
            value = _NOT_JSON
        if any(suits(value, kind) for kind in wanted):
            return ""
        shown = text if len(text) <= 60 else text[:59] + "…"
        return f"{shown!r} is not {_either(wanted)}"
    pill = field.pill
    if field.kind != "pill" or pill is None or pill.root != "input" or len(pill.path) != 1:
        return ""
    parameter = trigger.parameter(str(pill.path[0]))
    if parameter is None:
        return ""
    given = json_type(parameter)
    if given in wanted or (given == "integer" and "number" in wanted):
        return ""
    return f"{pill} is {TYPE_NAMES[given]}, but this input takes {_either(wanted)}"


def _schema_types(schema: Any) -> tuple[str, ...]:
    """The types a JSON Schema names that a builder can be told about."""
    if not isinstance(schema, dict):
        return ()
    kind = schema.get("type")
    if isinstance(kind, str):
        return (kind,) if kind in TYPE_NAMES else ()
    if isinstance(kind, list):
        return tuple(item for item in kind if item in TYPE_NAMES)
    return ()


def _either(kinds: tuple[str, ...]) -> str:
    return " or ".join(TYPE_NAMES[kind] for kind in kinds)
