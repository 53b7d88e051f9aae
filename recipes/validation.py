"""What is wrong with a recipe, found on save and before publishing, and the pills a step may use.

``RecipeValidator.check`` lists every problem in step order, each with the step's display number
(``2.1``; ``trigger`` for the trigger; empty for the recipe as a whole), the field at fault
(``inputs.title``, ``conditions.1.right``) and a message a builder can act on. Saving a draft shows them;
publishing refuses a draft that has any.

Scope of data pills: a step sees the trigger's inputs, ``user``, the earlier steps of its own list, the
earlier steps of each list it is nested in (those before the enclosing step), and the loop variables of
the for-eachs it is inside. A step inside an if-branch or a for-each body is not visible outside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

import msgspec
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.definitions.model import Action, ConnectorDefinition, NoAuth
from switchboard.platform.core.errors import NotFound
from switchboard.recipes.model import (
    OPERATORS,
    UNARY_OPERATORS,
    ActionStep,
    ForEachStep,
    IfStep,
    Parameter,
    RecipeDefinition,
    ResultStep,
    Step,
    ToolTrigger,
    children,
    step_title,
    step_type,
    walk_steps,
)
from switchboard.recipes.outcomes import Problem
from switchboard.recipes.templates import PillRef, compile_field, references, syntax_problem

USER_FIELDS: dict[str, str] = {"email": "string", "name": "string", "groups": "list of strings"}
_ROOTS = ("input", "steps", "user")
_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a JSON list",
}


class Definitions(Protocol):
    """Connector definitions by key (the ConnectorRegistry); ``get`` raises NotFound."""

    async def get(self, key: str) -> ConnectorDefinition: ...


class Connections(Protocol):
    """Connections by id (the ConnectionService); ``get`` raises NotFound."""

    async def get(self, connection_id: UUID) -> Connection: ...


class PillOption(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the editor's pill picker: what to insert, what to call it, where it comes from."""

    expression: str
    label: str
    source: str
    type: str = ""

    @property
    def pill(self) -> str:
        return "{{ " + self.expression + " }}"


# --- where each step stands ------------------------------------------------------------------------------


class _Place(msgspec.Struct, frozen=True):
    """A step's position: its number, walk order, the steps it can see, the for-eachs around it and the
    steps that contain it (innermost last)."""

    number: str
    order: int
    visible: tuple[str, ...]
    loops: tuple[ForEachStep, ...]
    parents: tuple[tuple[Step, str], ...]


class _Layout:
    """Every step's place, computed once per check."""

    def __init__(self, definition: RecipeDefinition) -> None:
        self.places: dict[str, _Place] = {}
        # By the step object too: a duplicated id must not give its second step the first one's place.
        self.at: dict[int, _Place] = {}
        self.steps: dict[str, Step] = {}
        numbers = {id(step): number for number, step in walk_steps(definition.steps)}
        order = {id(step): index for index, (_, step) in enumerate(walk_steps(definition.steps))}
        self._numbers = numbers
        self._place(definition.steps, (), (), (), order)

    def _place(
        self,
        steps: tuple[Step, ...],
        seen: tuple[str, ...],
        loops: tuple[ForEachStep, ...],
        parents: tuple[tuple[Step, str], ...],
        order: dict[int, int],
    ) -> None:
        visible = seen
        for step in steps:
            place = _Place(self._numbers[id(step)], order[id(step)], visible, loops, parents)
            self.places.setdefault(step.id, place)
            self.at[id(step)] = place
            self.steps.setdefault(step.id, step)
            inner_loops = (*loops, step) if isinstance(step, ForEachStep) else loops
            for branch, inner in children(step):
                self._place(inner, visible, inner_loops, (*parents, (step, branch)), order)
            if not isinstance(step, ResultStep):
                visible = (*visible, step.id)

    def number(self, step: Step) -> str:
        return self._numbers[id(step)]


# --- the validator ---------------------------------------------------------------------------------------


class RecipeValidator:
    def __init__(self, *, definitions: Definitions, connections: Connections) -> None:
        self._definitions = definitions
        self._connections = connections

    async def check(self, definition: RecipeDefinition, *, project_id: UUID) -> list[Problem]:
        """Every problem of the definition, trigger first, then the steps in order, then the recipe."""
        problems = list(_trigger_problems(definition.trigger))
        layout = _Layout(definition)
        lookups = _Lookups(self._definitions, self._connections)
        first_number: dict[str, str] = {}
        for number, step in walk_steps(definition.steps):
            problems += _step_problems(definition.trigger, number, step, first_number)
            place = layout.at[id(step)]
            for field, text in _template_fields(step):
                problems += _field_problems(definition, layout, step, place, number, field, text)
            if isinstance(step, ActionStep):
                problems += await _action_problems(definition, number, step, project_id, lookups)
        last = definition.steps[-1] if definition.steps else None
        if not isinstance(last, ResultStep):
            problems.append(
                Problem(step="", field="", message="Every recipe ends in a result: add a Return result step")
            )
        return problems

    async def available_pills(self, definition: RecipeDefinition, step_id: str) -> list[PillOption]:
        """``available_pills`` with the connector definitions of the recipe's action steps looked up."""
        connectors: dict[str, ConnectorDefinition] = {}
        for _, step in definition.walk():
            if isinstance(step, ActionStep) and step.connector and step.connector not in connectors:
                try:
                    connectors[step.connector] = await self._definitions.get(step.connector)
                except NotFound:
                    continue
        return available_pills(definition, step_id, connectors=connectors)


class _Lookups:
    """Connector definitions and connections, each looked up once per check."""

    def __init__(self, definitions: Definitions, connections: Connections) -> None:
        self._definitions = definitions
        self._connections = connections
        self._found_definitions: dict[str, ConnectorDefinition | None] = {}
        self._found_connections: dict[UUID, Connection | None] = {}

    async def definition(self, key: str) -> ConnectorDefinition | None:
        if key not in self._found_definitions:
            try:
                self._found_definitions[key] = await self._definitions.get(key)
            except NotFound:
                self._found_definitions[key] = None
        return self._found_definitions[key]

    async def connection(self, connection_id: UUID) -> Connection | None:
        if connection_id not in self._found_connections:
            try:
                self._found_connections[connection_id] = await self._connections.get(connection_id)
            except NotFound:
                self._found_connections[connection_id] = None
        return self._found_connections[connection_id]


# --- trigger ---------------------------------------------------------------------------------------------


def _trigger_problems(trigger: ToolTrigger) -> Iterable[Problem]:
    seen: set[str] = set()
    for index, parameter in enumerate(trigger.parameters, start=1):
        where = f"parameters.{index}"
        if parameter.name in seen:
            yield _trigger(f"{where}.name", f"another parameter is called {parameter.name} already")
        seen.add(parameter.name)
        if parameter.type == "enum" and not parameter.options:
            yield _trigger(f"{where}.options", "an enum needs at least one option")
        message = _default_problem(parameter)
        if message:
            yield _trigger(f"{where}.default", message)
    if trigger.output_schema is not None:
        try:
            Draft202012Validator.check_schema(trigger.output_schema)
        except SchemaError as exc:
            path = "/".join(str(part) for part in exc.path)
            at = f" (at {path})" if path else ""
            yield _trigger("output_schema", f"not a valid JSON Schema{at}: {exc.message}")


def _trigger(field: str, message: str) -> Problem:
    return Problem(step="trigger", field=field, message=message)


def _default_problem(parameter: Parameter) -> str:
    default = parameter.default
    if default is None:
        return ""
    if parameter.type == "enum":
        if parameter.options and default not in parameter.options:
            choices = ", ".join(parameter.options)
            return f"the default must be one of the options ({choices})"
        return ""
    if not _suits(default, parameter.type):
        return f"the default must be {_TYPE_NAMES[_json_type(parameter)]}"
    if parameter.type == "array":
        wrong = next((item for item in default if not _suits(item, parameter.items)), None)
        if wrong is not None:
            return f"every item of the default must be {_TYPE_NAMES[parameter.items]}; {wrong!r} is not"
    return ""


def _suits(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if json_type == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, int | float)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list | tuple)
    return True


def _json_type(parameter: Parameter) -> str:
    return "string" if parameter.type == "enum" else parameter.type


# --- steps -----------------------------------------------------------------------------------------------


def _step_problems(
    trigger: ToolTrigger, number: str, step: Step, first_number: dict[str, str]
) -> Iterable[Problem]:
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


def _template_fields(step: Step) -> Iterable[tuple[str, str]]:
    """Every builder-written template of the step, with its field name."""
    if isinstance(step, ActionStep):
        for name, text in step.inputs.items():
            yield f"inputs.{name}", text
    elif isinstance(step, IfStep):
        for index, condition in enumerate(step.conditions, start=1):
            yield f"conditions.{index}.left", condition.left
            yield f"conditions.{index}.right", condition.right
    elif isinstance(step, ForEachStep):
        yield "items", step.items
    else:
        yield "text", step.text
        for key, text in step.structured.items():
            yield f"structured.{key}", text
        yield "structured_from", step.structured_from


def _field_problems(
    definition: RecipeDefinition,
    layout: _Layout,
    step: Step,
    place: _Place,
    number: str,
    field: str,
    text: str,
) -> Iterable[Problem]:
    if not text:
        return
    syntax = syntax_problem(text)
    if syntax is not None:
        yield Problem(step=number, step_id=step.id, field=field, message=syntax)
        return
    for reference in references(text):
        message = _reference_problem(definition, layout, step, place, reference)
        if message:
            yield Problem(step=number, step_id=step.id, field=field, message=f"{reference}: {message}")


def _reference_problem(
    definition: RecipeDefinition, layout: _Layout, step: Step, place: _Place, reference: PillRef
) -> str:
    root, path = reference.root, reference.path
    if root == "input":
        if path and isinstance(path[0], str) and definition.trigger.parameter(path[0]) is None:
            return f"the trigger has no parameter {path[0]}"
        return ""
    if root == "user":
        if path and path[0] not in USER_FIELDS:
            return "user has only email, name and groups"
        return ""
    if root == "steps":
        return _step_reference_problem(layout, step, place, path)
    loop_names = {loop.as_name for loop in place.loops} | ({"loop"} if place.loops else set())
    if root in loop_names:
        return ""
    outer = next(
        (
            other
            for other in layout.steps.values()
            if isinstance(other, ForEachStep) and other.as_name == root
        ),
        None,
    )
    if outer is not None or (root == "loop" and not place.loops):
        where = f"the for-each at step {layout.number(outer)}" if outer is not None else "a for-each"
        return f"{root} is the loop variable of {where}; use it only inside that for-each"
    names = ", ".join((*_ROOTS, *sorted(loop_names)))
    return f"{root} is not a data pill (use {names})"


def _step_reference_problem(layout: _Layout, step: Step, place: _Place, path: tuple[str | int, ...]) -> str:
    if not path or not isinstance(path[0], str):
        return "name a step, such as steps.step_1"
    target_id = path[0]
    target = layout.steps.get(target_id)
    if target is None:
        return f"there is no step {target_id}"
    if target_id == step.id:
        return "a step cannot use its own output"
    target_place = layout.places[target_id]
    if isinstance(target, ResultStep):
        return f"step {target_place.number} returns the result and gives no data to other steps"
    if target_id in place.visible:
        return ""
    if any(parent.id == target_id for parent, _ in place.parents):
        return f"step {target_place.number} contains this step; its output is ready only after it"
    if target_place.order > place.order:
        return f"step {target_place.number} runs after this step"
    parent, branch = target_place.parents[-1]
    if isinstance(parent, ForEachStep):
        return (
            f"step {target_place.number} is inside the for-each at step {layout.number(parent)}; "
            f"only the steps in that for-each can use it"
        )
    return (
        f"step {target_place.number} is inside the {branch!r} branch of the if at step "
        f"{layout.number(parent)}; only the steps in that branch can use it"
    )


# --- action steps ----------------------------------------------------------------------------------------


async def _action_problems(
    definition: RecipeDefinition, number: str, step: ActionStep, project_id: UUID, lookups: _Lookups
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
    if action is not None:
        for field, message in _input_problems(definition.trigger, step, action):
            problem(field, message)
    return problems


async def _connection_problem(
    step: ActionStep, connector: ConnectorDefinition, project_id: UUID, lookups: _Lookups
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
    wanted = _types(schema)
    if not wanted or "string" in wanted or not text or syntax_problem(text) is not None:
        return ""
    field = compile_field(text)
    if field.kind == "literal":
        try:
            value = json.loads(text)
        except ValueError:
            value = _NOT_JSON
        if any(_suits(value, kind) for kind in wanted):
            return ""
        shown = text if len(text) <= 60 else text[:59] + "…"
        return f"{shown!r} is not {_either(wanted)}"
    pill = field.pill
    if field.kind != "pill" or pill is None or pill.root != "input" or len(pill.path) != 1:
        return ""
    parameter = trigger.parameter(str(pill.path[0]))
    if parameter is None:
        return ""
    given = _json_type(parameter)
    if given in wanted or (given == "integer" and "number" in wanted):
        return ""
    return f"{pill} is {_TYPE_NAMES[given]}, but this input takes {_either(wanted)}"


_NOT_JSON = object()


def _types(schema: Any) -> tuple[str, ...]:
    if not isinstance(schema, dict):
        return ()
    kind = schema.get("type")
    if isinstance(kind, str):
        return (kind,) if kind in _TYPE_NAMES else ()
    if isinstance(kind, list):
        return tuple(item for item in kind if item in _TYPE_NAMES)
    return ()


def _either(kinds: tuple[str, ...]) -> str:
    return " or ".join(_TYPE_NAMES[kind] for kind in kinds)


# --- the pill picker -------------------------------------------------------------------------------------


def available_pills(
    definition: RecipeDefinition, step_id: str, *, connectors: Mapping[str, ConnectorDefinition] | None = None
) -> list[PillOption]:
    """What the pill picker offers at ``step_id``: trigger parameters, earlier steps' outputs (with the
    keys an action's output is known to have, given its connector definition), loop variables, and the
    caller (``user``). An unknown step id gets the trigger's and the caller's pills only."""
    connectors = connectors or {}
    layout = _Layout(definition)
    place = layout.places.get(step_id)
    options = [
        PillOption(
            expression=f"input.{parameter.name}",
            label=parameter.name,
            source="Trigger",
            type=_parameter_hint(parameter),
        )
        for parameter in definition.trigger.parameters
    ]
    if place is not None:
        for visible_id in place.visible:
            options += _step_options(layout, layout.steps[visible_id], connectors)
        for loop in place.loops:
            source = f"For each {loop.as_name}"
            options.append(
                PillOption(expression=loop.as_name, label=loop.as_name, source=source, type="item")
            )
        if place.loops:
            options.append(
                PillOption(expression="loop.index", label="position (1, 2, …)", source=source, type="integer")
            )
    options += [
        PillOption(expression=f"user.{name}", label=name, source="User", type=hint)
        for name, hint in USER_FIELDS.items()
    ]
    return options


def _step_options(
    layout: _Layout, step: Step, connectors: Mapping[str, ConnectorDefinition]
) -> list[PillOption]:
    title = step_title(step)
    action: Action | None = None
    if isinstance(step, ActionStep) and step.connector in connectors:
        action = connectors[step.connector].action(step.action)
        if action is not None and not step.title:
            title = action.title
    source = f"Step {layout.number(step)} · {title}"
    kind = step_type(step)
    hint = {"if": "true or false", "for_each": "list"}.get(kind, "action output")
    label = {"if": "condition held", "for_each": "outputs of each item"}.get(kind, "output")
    options = [PillOption(expression=f"steps.{step.id}", label=label, source=source, type=hint)]
    if action is not None:
        keys = action.output.pick
        options += [
            PillOption(expression=f"steps.{step.id}.{key}", label=key, source=source, type="value")
            for key in keys
            if key.isidentifier()
        ]
    return options


def _parameter_hint(parameter: Parameter) -> str:
    if parameter.type == "enum":
        return "one of " + ", ".join(parameter.options)
    if parameter.type == "array":
        return f"list of {parameter.items}"
    return parameter.type
