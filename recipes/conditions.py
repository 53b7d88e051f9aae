"""What a condition step's operators mean for the values its data pills produce.

Values come from connector outputs and tool input, so they are loosely typed: numbers compare as numbers
even when one side is text ("3" equals 3), other values compare as text, and a missing value is never
greater or less than anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def holds(operator: str, left: Any, right: Any) -> bool:
    """Whether ``left <operator> right`` holds; unary operators ignore ``right``."""
    return OPERATORS[operator](left, right)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _equals(left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    if type(left) is type(right):
        return bool(left == right)
    return as_text(left) == as_text(right)


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str):
        return as_text(right) in left
    if isinstance(left, list | tuple):
        return any(_equals(item, right) for item in left)
    if isinstance(left, dict):
        return as_text(right) in left
    return False


def _compare(left: Any, right: Any) -> float | None:
    """left - right as numbers, or as text when they are not both numbers; None when either is missing."""
    if left is None or right is None:
        return None
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a - b
    x, y = as_text(left), as_text(right)
    return (x > y) - (x < y)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "on"}
    return bool(value)


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not_equals": lambda left, right: not _equals(left, right),
    "contains": _contains,
    "not_contains": lambda left, right: not _contains(left, right),
    "greater_than": lambda left, right: (_compare(left, right) or 0) > 0,
    "less_than": lambda left, right: (_compare(left, right) or 0) < 0,
    "is_empty": lambda left, right: _is_empty(left),
    "is_not_empty": lambda left, right: not _is_empty(left),
    "is_true": lambda left, right: _is_true(left),
    "is_false": lambda left, right: not _is_true(left),
}
