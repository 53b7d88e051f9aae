"""Action names made from names written elsewhere (OpenAPI operation IDs, remote MCP tool names)."""

from __future__ import annotations

import re


def action_name(text: str, *, prefix: str = "op") -> str:
    """``text`` as an action name: snake_case, letters, digits and _, starting with a letter (``prefix_``
    is put before one that does not), at most 64 characters; "" when nothing usable is left."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if text and not text[0].isalpha():
        text = f"{prefix}_{text}"
    return text[:64].rstrip("_")


def unique_name(name: str, names: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``… when it is taken; the result is added to ``names``."""
    candidate, number = name, 2
    while candidate in names:
        suffix = f"_{number}"
        candidate = name[: 64 - len(suffix)] + suffix
        number += 1
    names.add(candidate)
    return candidate
