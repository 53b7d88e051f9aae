"""Reading the editor's submitted forms: field values, repeated rows, struct checks and test input.

A refused form is shown again with exactly what was typed, so the parsers built on these never lose a
value: they collect every field's error under the field's form name (``parameters.0.default``,
``inputs.title``), and only a form without errors becomes part of the draft.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar.datastructures import FormMultiDict

from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.recipes.model import ToolTrigger

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


def op_index(op: str) -> int | None:
    """The row an ``op`` such as ``remove_parameter:2`` is about."""
    _, _, number = op.partition(":")
    return int(number) if number.isdigit() else None


def check_struct(
    value: msgspec.Struct, kind: type[msgspec.Struct], prefix: str, errors: dict[str, str]
) -> None:
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
            value = load_json(raw)
        except json.JSONDecodeError:
            errors[field] = (
                "Enter a number." if parameter.type in ("number", "integer") else "This is not valid JSON."
            )
            continue
        values[parameter.name] = value
    return values, errors
