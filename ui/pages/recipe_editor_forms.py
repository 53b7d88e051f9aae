"""The recipe editor's forms: what they show, and turning what was submitted into a trigger or a step.

A refused form is shown again with exactly what was typed, so these parsers never lose a value: they build
the form's view (``TriggerForm``) or an unchecked step struct, collect every field's error under the
field's form name (``parameters.0.default``, ``inputs.title``), and only a form without errors becomes
part of the draft.
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

import msgspec
from litestar.datastructures import FormMultiDict

from switchboard.connectors.connections.models import Connection
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ConnectionRef,
    ForEachStep,
    IfStep,
    Parameter,
    ResultStep,
    Step,
    ToolTrigger,
    step_title,
)
from switchboard.recipes.service import Recipe

PARAMETER_TYPES = ("string", "number", "integer", "boolean", "enum", "array", "object")
ITEM_TYPES = ("string", "number", "integer", "boolean", "object")
_MESSAGES = {
    "name": "Use a-z, 0-9 and _, starting with a letter (at most 64 characters).",
    "as_name": "Use a-z, 0-9 and _, starting with a letter (at most 40 characters).",
}


class FormRefused(Exception):
    """A form with errors, field name → message; nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def text(form: FormMultiDict, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def indices(form: FormMultiDict, prefix: str, name: str) -> list[int]:
    """The row numbers of repeated rows (``prefix.N.name``), in order."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.{re.escape(name)}$")
    found = {int(match.group(1)) for key in form if (match := pattern.match(key))}
    return sorted(found)


# --- the trigger ---------------------------------------------------------------------------------------


class ParameterForm(msgspec.Struct, kw_only=True):
    name: str = ""
    type: str = "string"
    required: bool = False
    description: str = ""
    default: str = ""
    options: str = ""
    items: str = "string"


class TriggerForm(msgspec.Struct, kw_only=True):
    """The trigger as the form shows it: defaults and the output schema as text."""

    name: str = ""
    title: str = ""
    description: str = ""
    parameters: list[ParameterForm] = []
    output_schema: str = ""

    @classmethod
    def of(cls, trigger: ToolTrigger) -> TriggerForm:
        return cls(
            name=trigger.name,
            title=trigger.title,
            description=trigger.description,
            parameters=[
                ParameterForm(
                    name=p.name,
                    type=p.type,
                    required=p.required,
                    description=p.description,
                    default=_default_text(p.default),
                    options=", ".join(p.options),
                    items=p.items,
                )
                for p in trigger.parameters
            ],
            output_schema=json.dumps(trigger.output_schema, indent=2) if trigger.output_schema else "",
        )

    @classmethod
    def parse(cls, form: FormMultiDict) -> TriggerForm:
        return cls(
            name=text(form, "name"),
            title=text(form, "title"),
            description=text(form, "description"),
            parameters=[
                ParameterForm(
                    name=text(form, f"parameters.{i}.name"),
                    type=text(form, f"parameters.{i}.type") or "string",
                    required=bool(form.get(f"parameters.{i}.required")),
                    description=text(form, f"parameters.{i}.description"),
                    default=text(form, f"parameters.{i}.default"),
                    options=text(form, f"parameters.{i}.options"),
                    items=text(form, f"parameters.{i}.items") or "string",
                )
                for i in indices(form, "parameters", "name")
            ],
            output_schema=text(form, "output_schema"),
        )

    def to_trigger(self) -> ToolTrigger:
        """The trigger, or ``FormRefused`` naming every field that is wrong."""
        errors: dict[str, str] = {}
        parameters: list[Parameter] = []
        seen: set[str] = set()
        # Rows are numbered from 1, as the recipe's problems number them.
        for index, row in enumerate(self.parameters, start=1):
            prefix = f"parameters.{index}"
            options = tuple(option.strip() for option in row.options.split(",") if option.strip())
            default = _typed_default(row, errors, f"{prefix}.default")
            if row.type == "enum" and not options:
                errors[f"{prefix}.options"] = "List the allowed values, separated by commas."
            if row.name in seen:
                errors[f"{prefix}.name"] = f"There is already a parameter named {row.name!r}."
            seen.add(row.name)
            parameter = Parameter(
                name=row.name,
                type=row.type,  # type: ignore[arg-type]  # checked by convert below
                required=row.required,
                description=row.description,
                default=default,
                options=options if row.type == "enum" else (),
                items=row.items,  # type: ignore[arg-type]
            )
            _check(parameter, Parameter, prefix, errors)
            parameters.append(parameter)
        schema: dict[str, Any] | None = None
        if self.output_schema:
            try:
                loaded = json.loads(self.output_schema)
            except json.JSONDecodeError as exc:
                errors["output_schema"] = f"This is not valid JSON: {exc.msg} (line {exc.lineno})."
            else:
                if isinstance(loaded, dict):
                    schema = loaded
                else:
                    errors["output_schema"] = (
                        'The output schema must be a JSON object, such as {"type": "object"}.'
                    )
        trigger = ToolTrigger(
            name=self.name,
            title=self.title,
            description=self.description,
            parameters=tuple(parameters),
            output_schema=schema,
        )
        _check(msgspec.structs.replace(trigger, parameters=()), ToolTrigger, "", errors)
        if errors:
            raise FormRefused(errors)
        return trigger


def _default_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _typed_default(row: ParameterForm, errors: dict[str, str], field: str) -> Any:
    """The default as its parameter's type: a number stays a number, a list a list."""
    if not row.default:
        return None
    if row.type in ("string", "enum"):
        if (
            row.type == "enum"
            and row.options
            and row.default not in [o.strip() for o in row.options.split(",")]
        ):
            errors[field] = "The default must be one of the allowed values."
        return row.default
    try:
        value = json.loads(row.default)
    except json.JSONDecodeError:
        value = _NOT_JSON
    expected: dict[str, tuple[type, ...]] = {
        "number": (int, float),
        "integer": (int,),
        "boolean": (bool,),
        "array": (list,),
        "object": (dict,),
    }
    wanted = expected.get(row.type, (str,))
    valid = isinstance(value, wanted) and not (row.type in ("number", "integer") and isinstance(value, bool))
    if not valid:
        hints = {
            "number": "a number, such as 2.5",
            "integer": "a whole number, such as 3",
            "boolean": "true or false",
            "array": 'a JSON list, such as ["a", "b"]',
            "object": 'a JSON object, such as {"key": "value"}',
        }
        errors[field] = f"The default must be {hints.get(row.type, 'text')}."
        return None
    return value


_NOT_JSON = object()


def _check(value: msgspec.Struct, kind: type[msgspec.Struct], prefix: str, errors: dict[str, str]) -> None:
    """msgspec's own check of a struct built from form text; its refusal goes on the field it names."""
    try:
        msgspec.convert(msgspec.to_builtins(value), kind)
    except msgspec.ValidationError as exc:
        found = re.search(r"at `\$\.([\w.\[\]]+)`", str(exc))
        name = found.group(1).split(".")[0].split("[")[0] if found else "title"
        field = f"{prefix}.{name}" if prefix else name
        if field in errors:
            return
        longest = re.search(r"length <= (\d+)", str(exc))
        if longest:
            errors[field] = f"At most {longest.group(1)} characters."
        elif name in _MESSAGES:
            errors[field] = "Enter a name." if not getattr(value, name, "") else _MESSAGES[name]
        else:
            errors[field] = "This value is not valid here."


# --- steps ---------------------------------------------------------------------------------------------


def step_from_form(
    step: Step,
    form: FormMultiDict,
    *,
    input_names: list[str],
    connections: list[Connection],
) -> Step:
    """The step as submitted (not yet checked): ``check_step`` tells what is wrong with it."""
    title = text(form, "title")
    if isinstance(step, ActionStep):
        connector = text(form, "connector")
        action = text(form, "action")
        chosen = _connection(text(form, "connection"), connector, connections)
        inputs = {name: form.get(f"inputs.{name}", "") for name in input_names}
        return ActionStep(
            id=step.id,
            title=title,
            connector=connector,
            action=action,
            connection=chosen,
            inputs={name: str(value) for name, value in inputs.items() if str(value).strip()},
            idempotent=bool(form.get("idempotent")),
            timeout_seconds=step.timeout_seconds,
        )
    if isinstance(step, IfStep):
        conditions = tuple(
            Condition(
                left=str(form.get(f"conditions.{i}.left", "")),
                operator=text(form, f"conditions.{i}.operator") or "equals",  # type: ignore[arg-type]
                right=str(form.get(f"conditions.{i}.right", "")),
            )
            for i in indices(form, "conditions", "left")
        )
        match = "any" if text(form, "match") == "any" else "all"
        return msgspec.structs.replace(step, title=title, conditions=conditions, match=match)
    if isinstance(step, ForEachStep):
        return msgspec.structs.replace(
            step, title=title, items=str(form.get("items", "")).strip(), as_name=text(form, "as_name")
        )
    return ResultStep(
        id=step.id,
        title=title,
        text=str(form.get("text", "")),
        structured=dict(structured_rows(form)),
        structured_from=text(form, "structured_from"),
    )


def structured_rows(form: FormMultiDict) -> list[tuple[str, str]]:
    """The result's key/value rows in order, as typed."""
    return [
        (text(form, f"structured.{i}.key"), str(form.get(f"structured.{i}.value", "")))
        for i in indices(form, "structured", "key")
    ]


def check_step(step: Step, form: FormMultiDict) -> dict[str, str]:
    """What is wrong with a submitted step, by field, beyond what validation lists as a problem."""
    errors: dict[str, str] = {}
    if isinstance(step, ResultStep):
        keys = [text(form, f"structured.{i}.key") for i in indices(form, "structured", "key")]
        for position, key in enumerate(keys):
            if not key:
                errors[f"structured.{position + 1}.key"] = "Enter a key, or remove the row."
            elif keys.index(key) != position:
                errors[f"structured.{position + 1}.key"] = f"The key {key!r} is used twice."
        if step.structured and step.structured_from:
            errors["structured_from"] = "Use either key/value rows or one pill, not both."
    if isinstance(step, ForEachStep) and not step.as_name:
        errors["as_name"] = "Enter a name for the loop variable, such as item."
    _check(step, type(step), "", errors)
    return errors


def _connection(value: str, connector: str, connections: list[Connection]) -> ConnectionRef | None:
    try:
        wanted = UUID(value) if value else None
    except ValueError:
        return None
    found = next((c for c in connections if c.id == wanted and c.connector == connector), None)
    return ConnectionRef(name=found.name, id=found.id) if found else None


# --- test input ----------------------------------------------------------------------------------------


def sample_inputs(trigger: ToolTrigger, form: FormMultiDict) -> tuple[dict[str, Any], dict[str, str]]:
    """Sample input for a test run, typed as each parameter says; and the fields that could not be read."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for parameter in trigger.parameters:
        field = f"input.{parameter.name}"
        raw = text(form, field)
        if parameter.type == "boolean":
            values[parameter.name] = bool(form.get(field))
            continue
        if not raw:
            continue
        if parameter.type in ("string", "enum"):
            values[parameter.name] = raw
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            errors[field] = (
                "Enter a number." if parameter.type in ("number", "integer") else "This is not valid JSON."
            )
            continue
        values[parameter.name] = value
    return values, errors


# --- display and unsaved restructuring -----------------------------------------------------------------


def status_label(recipe: Recipe) -> str:
    if recipe.published_version is None:
        return "Draft"
    if recipe.status == "changed":
        return f"Published v{recipe.published_version} with unpublished changes"
    return f"Published v{recipe.published_version}"


def display_title(step: Step, definitions: dict[str, ConnectorDefinition]) -> str:
    """The step's own title, else what it does in the connector's words ("Demo Tasks · Create a task")."""
    connector = definitions.get(step.connector) if isinstance(step, ActionStep) and not step.title else None
    if isinstance(step, ActionStep) and connector is not None:
        action = next((a for a in connector.actions if a.name == step.action), None)
        return f"{connector.name} · {action.title}" if action else connector.name
    return step_title(step)


def action_options(definition: ConnectorDefinition) -> list[tuple[str, str]]:
    return [("", "Choose an action…"), *((action.name, action.title) for action in definition.actions)]


def connection_label(connection: Connection) -> str:
    return f"End user's connection: {connection.name}" if connection.is_end_user else connection.name


def restructure(step: Step, op: str, rows: dict[str, list[tuple[str, str]]]) -> tuple[Step, str]:
    """Add or remove a condition or a structured row without saving; and where the focus goes."""
    base = f"step-{step.id}"
    if isinstance(step, IfStep):
        if op == "add_condition":
            changed = msgspec.structs.replace(step, conditions=(*step.conditions, Condition()))
            return changed, f"{base}-conditions-{len(step.conditions) + 1}-left"
        index = op_index(op)
        if op.startswith("remove_condition:") and index is not None:
            kept = tuple(c for i, c in enumerate(step.conditions) if i != index)
            return msgspec.structs.replace(step, conditions=kept), f"{base}-add-condition"
    if isinstance(step, ResultStep):
        shown = rows.setdefault(step.id, [])
        if op == "add_key":
            shown.append(("", ""))
            return step, f"{base}-structured-{len(shown)}-key"
        index = op_index(op)
        if op.startswith("remove_key:") and index is not None:
            del shown[index : index + 1]
            return step, f"{base}-add-key"
    # "reload": the connector or action changed; show that action's inputs.
    if isinstance(step, ActionStep):
        # The next choice to make: the action of the connector, then the connection.
        return step, f"{base}-{'connection' if step.action else 'action' if step.connector else 'connector'}"
    return step, f"{base}-title"


def op_index(op: str) -> int | None:
    _, _, number = op.partition(":")
    return int(number) if number.isdigit() else None
