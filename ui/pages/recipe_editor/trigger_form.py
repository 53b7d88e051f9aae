"""The trigger form: the trigger as the form shows it, and the trigger made from what was submitted.

Parameter defaults and the output schema are typed as text; ``TriggerForm.to_trigger`` reads them as
their type (a number stays a number, a list a list) or names every field that is wrong.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict

from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.recipes.model import Parameter, ToolTrigger
from switchboard.ui.pages.recipe_editor.forms import FormRefused, check_struct, indices, text

PARAMETER_TYPES = ("string", "number", "integer", "boolean", "enum", "array", "object")
ITEM_TYPES = ("string", "number", "integer", "boolean", "object")
_NOT_JSON = object()


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
            check_struct(parameter, Parameter, prefix, errors)
            parameters.append(parameter)
        schema: dict[str, Any] | None = None
        if self.output_schema:
            try:
                loaded = load_json(self.output_schema)
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
        check_struct(msgspec.structs.replace(trigger, parameters=()), ToolTrigger, "", errors)
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
        value = load_json(row.default)
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
