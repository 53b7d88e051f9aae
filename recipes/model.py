"""What a recipe is: a tool trigger followed by steps, as data.

A recipe definition is a msgspec Struct tree that is stored as JSON (drafts and frozen versions), exported
to version control and imported again. Steps are a tagged union on ``type``:

- ``action``: call a connector action through a connection, with inputs mapped from data pills;
- ``if``: run ``then`` when the condition holds, else ``otherwise``;
- ``for_each``: run ``steps`` once per item of a list;
- ``result``: shape the tool result (text and structured content) and stop.

Text fields of steps are templates written by the builder (Jinja2 syntax, evaluated in a sandbox): a data
pill is ``{{ input.title }}``, ``{{ steps.step_1.id }}``, ``{{ user.email }}`` or, inside a for-each,
``{{ item.name }}``. Values that tool callers send are data bound to those names; they are never
evaluated as templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

TOOL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
STEP_ID_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

ToolName = Annotated[
    str, msgspec.Meta(pattern=TOOL_NAME_PATTERN, description="a-z, 0-9 and _, starting with a letter")
]
StepId = Annotated[str, msgspec.Meta(pattern=STEP_ID_PATTERN)]
Title = Annotated[str, msgspec.Meta(max_length=120)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]
Template = Annotated[str, msgspec.Meta(max_length=20_000)]
ParameterType = Literal["string", "number", "integer", "boolean", "enum", "array", "object"]
ItemType = Literal["string", "number", "integer", "boolean", "object"]
Operator = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "greater_than",
    "less_than",
    "is_empty",
    "is_not_empty",
    "is_true",
    "is_false",
]
OPERATORS: dict[str, str] = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "not_contains": "does not contain",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "is_true": "is true",
    "is_false": "is false",
}
# Operators that compare with nothing on the right.
UNARY_OPERATORS = frozenset({"is_empty", "is_not_empty", "is_true", "is_false"})

_JSON_TYPES: dict[str, str] = {
    "string": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


class Parameter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One input of the tool, as the trigger form builds it.

    ``options`` are the allowed values of an ``enum``; ``items`` is the type of an ``array``'s items.
    ``default`` is used when the caller leaves the parameter out (it must suit ``type``).
    """

    name: ToolName
    type: ParameterType = "string"
    required: bool = False
    description: Description = ""
    default: Any = None
    options: tuple[str, ...] = ()
    items: ItemType = "string"

    def json_schema(self) -> dict[str, Any]:
        if self.type == "enum":
            schema: dict[str, Any] = {"type": "string", "enum": list(self.options)}
        else:
            schema = {"type": _JSON_TYPES[self.type]}
        if self.type == "array":
            schema["items"] = {"type": self.items}
        if self.description:
            schema["description"] = self.description
        if self.default is not None:
            schema["default"] = self.default
        return schema


class ToolTrigger(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Trigger "MCP tool": how the recipe appears to MCP clients."""

    name: ToolName
    title: Title = ""
    description: Description = ""
    parameters: tuple[Parameter, ...] = ()
    # JSON Schema of the structured result, when the recipe promises one.
    output_schema: dict[str, Any] | None = None

    def input_schema(self) -> dict[str, Any]:
        """The tool's input schema (JSON Schema 2020-12), built from the parameters."""
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {parameter.name: parameter.json_schema() for parameter in self.parameters},
            "additionalProperties": False,
        }
        required = [parameter.name for parameter in self.parameters if parameter.required]
        if required:
            schema["required"] = required
        return schema

    def parameter(self, name: str) -> Parameter | None:
        return next((parameter for parameter in self.parameters if parameter.name == name), None)


class ConnectionRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The connection an action step uses: a shared one, or an "End user's connection".

    ``id`` is authoritative inside Switchboard; ``name`` travels in exported recipes (never secrets) and
    finds the connection of the same name in the importing project.
    """

    name: Annotated[str, msgspec.Meta(max_length=80)] = ""
    id: UUID | None = None


class ActionStep(msgspec.Struct, frozen=True, kw_only=True, tag="action", forbid_unknown_fields=True):
    """Calls ``action`` of ``connector`` through ``connection``; ``inputs`` maps action inputs to templates.

    The step's output (the action's result) is ``steps.<id>`` for later steps. ``idempotent`` marks an
    action safe to repeat after a timeout or 5xx even when it is not a GET. ``account`` (a template, only
    for an end user's connection) names which of the caller's accounts the call uses, by the name they
    gave it; empty: their default account.
    """

    id: StepId
    title: Title = ""
    connector: Annotated[str, msgspec.Meta(max_length=63)] = ""
    action: Annotated[str, msgspec.Meta(max_length=64)] = ""
    connection: ConnectionRef | None = None
    account: Template = ""
    inputs: dict[str, Template] = {}
    idempotent: bool = False
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] | None = None


class Condition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    left: Template = ""
    operator: Operator = "equals"
    right: Template = ""


class IfStep(msgspec.Struct, frozen=True, kw_only=True, tag="if", forbid_unknown_fields=True):
    """Runs ``then`` when the conditions hold (all of them, or any with ``match="any"``), else ``otherwise``.

    Its output is ``true`` or ``false``: which branch ran.
    """

    id: StepId
    title: Title = ""
    conditions: tuple[Condition, ...] = (Condition(),)
    match: Literal["all", "any"] = "all"
    then: tuple[Step, ...] = ()
    otherwise: tuple[Step, ...] = ()


class ForEachStep(msgspec.Struct, frozen=True, kw_only=True, tag="for_each", forbid_unknown_fields=True):
    """Runs ``steps`` once per item of the list ``items`` (a data pill); the item is ``{{ <as_name> }}``.

    Its output is the list of what the last step of ``steps`` gave for each item.
    """

    id: StepId
    title: Title = ""
    items: Template = ""
    as_name: StepId = "item"
    steps: tuple[Step, ...] = ()
    max_items: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class ResultStep(msgspec.Struct, frozen=True, kw_only=True, tag="result", forbid_unknown_fields=True):
    """Ends the run with the tool result: ``text`` (a template) and optional structured content.

    ``structured`` maps each key of the structured result to a template (a field that is exactly one pill
    keeps the value's type); ``structured_from``, when set, is one pill whose value is the whole result.
    """

    id: StepId
    title: Title = ""
    text: Template = ""
    structured: dict[str, Template] = {}
    structured_from: Template = ""


Step = ActionStep | IfStep | ForEachStep | ResultStep
STEP_TYPES: dict[str, str] = {
    "action": "Action",
    "if": "If / else",
    "for_each": "For each",
    "result": "Return result",
}


class RecipeDefinition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The part of a recipe that is versioned: its trigger and its steps."""

    trigger: ToolTrigger
    steps: tuple[Step, ...] = ()
    description: Description = ""

    def walk(self) -> Iterator[tuple[str, Step]]:
        """Every step depth-first with its display number: ``1``, ``2``, ``2.1`` (then), ``2.2`` ..."""
        yield from walk_steps(self.steps)

    def step(self, step_id: str) -> Step | None:
        return next((step for _, step in self.walk() if step.id == step_id), None)

    def step_ids(self) -> set[str]:
        return {step.id for _, step in self.walk()}

    def new_step_id(self) -> str:
        """A step id not used yet: ``step_<n>`` with n above every number used so far."""
        highest = 0
        for step_id in self.step_ids():
            prefix, _, number = step_id.rpartition("_")
            if prefix == "step" and number.isdigit():
                highest = max(highest, int(number))
        return f"step_{highest + 1}"


def children(step: Step) -> tuple[tuple[str, tuple[Step, ...]], ...]:
    """The nested step lists of a step, named as in the definition."""
    if isinstance(step, IfStep):
        return (("then", step.then), ("otherwise", step.otherwise))
    if isinstance(step, ForEachStep):
        return (("steps", step.steps),)
    return ()


def walk_steps(steps: tuple[Step, ...], prefix: str = "") -> Iterator[tuple[str, Step]]:
    """Numbering runs on through branches: an if at 2 with two ``then`` steps and one ``otherwise`` step
    numbers them 2.1, 2.2 and 2.3, so every step has its own number in problems and in run history."""
    for index, step in enumerate(steps, start=1):
        number = f"{prefix}{index}"
        yield number, step
        nested = [inner for _, branch in children(step) for inner in branch]
        yield from walk_steps(tuple(nested), f"{number}.")


def step_title(step: Step) -> str:
    if step.title:
        return step.title
    if isinstance(step, ActionStep):
        return f"{step.connector} · {step.action}" if step.action else "Action"
    return STEP_TYPES[_tag(step)]


def step_type(step: Step) -> str:
    return _tag(step)


def _tag(step: Step) -> str:
    return str(type(step).__struct_config__.tag)


def decode_definition(data: bytes | str) -> RecipeDefinition:
    """A stored or imported definition; raises ``msgspec.ValidationError`` naming the offending field."""
    return msgspec.json.decode(data, type=RecipeDefinition)


def encode_definition(definition: RecipeDefinition) -> bytes:
    return msgspec.json.encode(definition)
