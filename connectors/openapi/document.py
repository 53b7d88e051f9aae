"""An OpenAPI document's references, and its schemas as JSON Schema 2020-12 for an action's inputs.

Local references (``#/components/...``) are followed, with a limit on their depth and on the size and
nesting of what inlining them makes; a reference back to a schema being inlined (a recursive type) becomes
an "any value" schema. OpenAPI 3.0's ``nullable`` and boolean ``exclusiveMinimum``/``exclusiveMaximum``
become their 2020-12 forms; annotations that mean nothing to validation are dropped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from switchboard.connectors.definitions import DefinitionError
from switchboard.connectors.definitions.limits import MAX_DEPTH

METHODS = ("get", "post", "put", "patch", "delete")
MAX_REF_DEPTH = 32
MAX_SCHEMA_NODES = 20_000
# Values, not schemas: a "$ref" inside them is data.
_DATA_KEYWORDS = frozenset({"example", "examples", "default", "enum", "const"})
# OpenAPI annotations that mean nothing to JSON Schema validation of an action's inputs.
_DROPPED_KEYWORDS = frozenset({"discriminator", "xml", "externalDocs", "example", "nullable", "writeOnly"})


def problem(message: str, place: str) -> DefinitionError:
    """The error for a place in the document, as in ``paths./pets.get.parameters[1]``."""
    return DefinitionError(f"{message} - at `{place}`", field="document")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Document:
    """The parsed document, and how many schema nodes inlining its references has made so far."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.nodes = 0

    def resolved(self, node: Any, where: str) -> tuple[Any, str]:
        """Follow a ``$ref`` (and a chain of them) to what it names, and the place of that."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or len(seen) >= MAX_REF_DEPTH:
                raise problem(f"the reference {ref} leads back to itself", where)
            seen.add(ref)
            node, where = self._target(ref, where), _place_of(ref)
        return node, where

    def _target(self, ref: str, where: str) -> Any:
        if not ref.startswith("#/"):
            raise problem(f"only references inside the document (#/...) can be followed, not {ref}", where)
        node: Any = self.data
        for token in ref[2:].split("/"):
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise problem(f"the reference {ref} names nothing in the document", where)
        return node

    def schema(self, schema: Any, where: str, *, for_request: bool = False) -> Any:
        """A schema as JSON Schema 2020-12: references inlined, OpenAPI 3.0 forms translated."""
        return self._convert(schema, where, (), for_request, 0)

    def _convert(self, node: Any, where: str, stack: tuple[str, ...], for_request: bool, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_SCHEMA_NODES:
            raise problem("the schemas are too large once their references are expanded", where)
        if depth > MAX_DEPTH:
            raise problem(
                f"the schemas nest deeper than {MAX_DEPTH} levels once their references are expanded", where
            )
        if isinstance(node, list):
            return [
                self._convert(item, f"{where}[{index}]", stack, for_request, depth + 1)
                for index, item in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in stack:
                return {"$comment": f"refers back to {ref}"}
            if len(stack) >= MAX_REF_DEPTH:
                raise problem(f"references nest more than {MAX_REF_DEPTH} deep", where)
            target = self._convert(
                self._target(ref, where), _place_of(ref), (*stack, ref), for_request, depth
            )
            siblings = {k: v for k, v in node.items() if k != "$ref" and k in ("description", "title")}
            return {**target, **siblings} if isinstance(target, dict) else target
        converted: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED_KEYWORDS:
                continue
            if key in _DATA_KEYWORDS or key == "required":
                converted[key] = value
            elif key == "properties" and isinstance(value, dict):
                converted[key] = {
                    str(name): self._convert(sub, f"{where}.properties.{name}", stack, for_request, depth + 2)
                    for name, sub in value.items()
                }
            else:
                converted[key] = self._convert(value, f"{where}.{key}", stack, for_request, depth + 1)
        _translate_30(node, converted)
        if for_request:
            _drop_read_only(converted)
        return converted


def _translate_30(original: dict[str, Any], converted: dict[str, Any]) -> None:
    """OpenAPI 3.0's ``nullable`` and boolean exclusive bounds, in JSON Schema 2020-12 terms."""
    if original.get("nullable") is True and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = converted.get(exclusive)
        if isinstance(flag, bool):
            del converted[exclusive]
            if flag and bound in converted:
                converted[exclusive] = converted.pop(bound)


def _drop_read_only(schema: dict[str, Any]) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    hidden = {
        name for name, sub in properties.items() if isinstance(sub, dict) and sub.get("readOnly") is True
    }
    if hidden:
        schema["properties"] = {name: sub for name, sub in properties.items() if name not in hidden}
        if isinstance(schema.get("required"), list):
            schema["required"] = [name for name in schema["required"] if name not in hidden]


def object_parts(schema: Any) -> tuple[dict[str, Any], list[str]] | None:
    """The properties and required names of a plain object schema (``allOf`` of plain objects merged),
    or None when the body cannot be spread into separate inputs."""
    if not isinstance(schema, dict):
        return None
    if any(key in schema for key in ("oneOf", "anyOf", "not", "if", "patternProperties")):
        return None
    if schema.get("additionalProperties") not in (None, False):
        return None
    if schema.get("type", "object") not in ("object", ["object"]):
        return None
    properties, required, parts = (schema.get(key) for key in ("properties", "required", "allOf"))
    if not isinstance(properties or {}, dict) or not isinstance(required or [], list):
        return None
    if not isinstance(parts or [], list):
        return None
    properties = dict(properties or {})
    needed = [name for name in required or [] if isinstance(name, str)]
    for part in parts or []:
        merged = object_parts(part)
        if merged is None:
            return None
        properties.update(merged[0])
        needed += merged[1]
    return properties, needed


def _place_of(ref: str) -> str:
    return ".".join(unquote(token).replace("~1", "/").replace("~0", "~") for token in ref[2:].split("/"))
