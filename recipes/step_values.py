"""The values a recipe step works with: data pills evaluated, text coerced to what an action's input wants,
conditions checked, and what was wrong with a tool's input said in a few words.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.recipes.conditions import holds
from switchboard.recipes.model import Condition
from switchboard.recipes.run_state import StepError
from switchboard.recipes.templates import TemplateError, compile_field

_MAX_MESSAGE = 300
SHOWN_PROBLEMS = 5  # input problems a message lists; the count of the rest follows
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "object": dict,
    "array": list,
}
_TYPE_NAMES = {"number": "a number", "integer": "an integer", "boolean": "true or false"}
_TYPE_NAMES |= {"object": "a JSON object", "array": "a JSON list"}


def evaluate(text: str, context: dict[str, Any], field: str) -> Any:
    try:
        return compile_field(text).evaluate(context)
    except TemplateError as exc:
        raise StepError(str(exc), field=field) from None


def coerced(value: str, json_type: Any, field: str) -> Any:
    """Text from a template given to an input the action wants as a number, boolean, object or list."""
    expected = _JSON_TYPES.get(json_type) if isinstance(json_type, str) else None
    if expected is None:
        return value
    try:
        parsed = load_json(value)
    except ValueError:
        parsed = _NOT_JSON
    if isinstance(parsed, expected) and not (json_type != "boolean" and isinstance(parsed, bool)):
        return parsed
    raise StepError(f"{short(value)!r} is not {_TYPE_NAMES[json_type]}", field=field)


_NOT_JSON = object()


def check(condition: Condition, context: dict[str, Any], field: str) -> tuple[Any, Any, bool]:
    left = evaluate(condition.left, context, f"{field}.left") if condition.left else None
    right = evaluate(condition.right, context, f"{field}.right") if condition.right else None
    return left, right, holds(condition.operator, left, right)


def kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"text ({short(value)!r})"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def lowered(label: str) -> str:
    """ "Step 2 (Create a task)" inside a sentence: "step 2 (Create a task)"."""
    return label[:1].lower() + label[1:]


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def input_problems(validator: Draft202012Validator, inputs: dict[str, Any]) -> list[str]:
    return [describe(error) for error in sorted(validator.iter_errors(inputs), key=error_order)]


def error_order(error: ValidationError) -> tuple[tuple[int, str], ...]:
    """Fields in order: list positions by number (2 before 10), names alphabetically."""
    return tuple((part, "") if isinstance(part, int) else (-1, part) for part in error.absolute_path)


def describe(error: ValidationError) -> str:
    """``title: 'x' is too long``: the field at fault (dotted) and jsonschema's words, kept short."""
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path}: {message}" if path else message
