"""Documents built to make a server work hard: YAML alias bombs, deep nesting, schemas whose references
multiply, and a large definition that is legitimate but slow to handle."""

from __future__ import annotations

import json
from typing import Any


def alias_bomb(levels: int = 6, width: int = 9) -> str:
    """A small connector definition whose YAML aliases expand to ``width ** levels`` values, each level an
    anchored list of ``width`` aliases to the level below (the "billion laughs")."""
    lines = [
        "key: bomb",
        "name: Bomb",
        "base_url: https://api.example.com",
        "actions:",
        "  - name: boom",
        "    title: Boom",
        "    path: /boom",
        "    input_schema:",
        "      type: object",
        "      default:",
        "        l0: &l0 [" + ", ".join(["lol"] * width) + "]",
    ]
    lines += [
        f"        l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]"
        for level in range(1, levels)
    ]
    return "\n".join(lines) + "\n"


def openapi_alias_bomb(levels: int = 6, width: int = 9) -> str:
    """An OpenAPI document with the same aliases in the default value of an operation's parameter."""
    lines = [
        "openapi: 3.0.3",
        "info: {title: Bomb, version: '1'}",
        "servers: [{url: 'https://api.example.com'}]",
        "x-laughs:",
        "  l0: &l0 [" + ", ".join(["lol"] * width) + "]",
    ]
    lines += [
        f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]" for level in range(1, levels)
    ]
    lines += [
        "paths:",
        "  /boom:",
        "    get:",
        "      operationId: boom",
        "      parameters:",
        f"        - {{name: q, in: query, schema: {{type: array, default: *l{levels - 1}}}}}",
        "      responses: {'200': {description: ok}}",
    ]
    return "\n".join(lines) + "\n"


def nested(depth: int) -> dict[str, Any]:
    """An object schema with one property per level, ``depth`` levels deep."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"p": schema}}
    return schema


def definition(input_schema: dict[str, Any], *, key: str = "deep") -> dict[str, Any]:
    return {
        "key": key,
        "name": key.capitalize(),
        "base_url": "https://api.example.com",
        "actions": [{"name": "go", "title": "Go", "path": "/go", "input_schema": input_schema}],
    }


def deep_json(depth: int) -> str:
    """A definition whose input schema nests ``depth`` objects deep, as JSON text."""
    return json.dumps(definition(nested(depth)))


def deep_yaml(depth: int) -> str:
    """A definition nesting ``depth`` mappings deep in block YAML."""
    lines = [
        "key: deep",
        "name: Deep",
        "base_url: https://api.example.com",
        "actions:",
        "  - name: go",
        "    title: Go",
        "    path: /go",
        "    input_schema:",
        "      type: object",
        "      default:",
    ]
    lines += [" " * (8 + 2 * level) + "a:" for level in range(depth)]
    return "\n".join(lines) + " 1\n"


def reference_bomb(levels: int = 6, width: int = 9) -> dict[str, Any]:
    """An input schema of a few hundred bytes whose ``$ref``s multiply: validating one wrong input visits
    ``width ** levels`` schemas."""
    defs: dict[str, Any] = {"l0": {"type": "string"}}
    for level in range(1, levels + 1):
        defs[f"l{level}"] = {"anyOf": [{"$ref": f"#/$defs/l{level - 1}"}] * width}
    return {"type": "object", "$defs": defs, "properties": {"x": {"$ref": f"#/$defs/l{levels}"}}}


def large_definition(actions: int = 200, properties: int = 30) -> str:
    """A legitimate definition of about 1 MiB: many actions, each with many described inputs."""
    listed = []
    for number in range(actions):
        inputs = {
            f"field_{index}": {
                "type": "string",
                "description": f"The value of field {index} of the record, as the app stores it.",
                "maxLength": 200,
            }
            for index in range(properties)
        }
        listed.append(
            {
                "name": f"action_{number}",
                "title": f"Action {number}",
                "path": f"/records/{number}",
                "method": "POST",
                "input_schema": {"type": "object", "properties": inputs},
                "request": {"body": "json", "body_fields": {name: name for name in inputs}},
            }
        )
    return json.dumps(
        {"key": "large", "name": "Large", "base_url": "https://api.example.com", "actions": listed}
    )
