"""Plain words for what is wrong in a connector definition: the field at fault and what it expects.

The decoder says ``Invalid enum value 'FETCH' - at `$.actions[0].method```; a builder reads
"`actions.list_tasks.method` must be one of GET, POST, PUT, PATCH, DELETE; got 'FETCH'." Paths name an
action by its ``name`` and a connection field by its ``key`` when the document gives them.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from msgspec import inspect

from switchboard.connectors.definitions.model import KEY_PATTERN, NAME_PATTERN, ConnectorDefinition

_AT = re.compile(r"^(?P<what>.*?) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_PATTERNS = {
    KEY_PATTERN: "lower-case letters, digits, - and _, starting with a letter (at most 63)",
    NAME_PATTERN: "lower-case letters, digits and _, starting with a letter (at most 64)",
}
# Lists whose items are better named by one of their own fields than by their position.
_NAMED_BY = {"actions": "name", "fields": "key"}
_EACH = "[...]"

Segment = str | int


class Problem(NamedTuple):
    """What is wrong in plain words, and the field's path (``actions.list_tasks.method``; empty: all)."""

    path: str
    text: str


def plain_problem(message: str, raw: Any) -> Problem:
    """``message`` (the decoder's or the loader's ``what - at `$.path```) said plainly about ``raw``."""
    found = _AT.match(message)
    what, segments = (found["what"], _segments(found["path"])) if found else (message, [])
    if (missing := re.fullmatch(r"Object missing required field `(.+)`", what)) is not None:
        segments = [*segments, missing[1]]
        text = f"{_name(segments, raw)} is missing: it must be {_expected(segments, raw)}."
    elif (unknown := re.fullmatch(r"Object contains unknown field `(.+)`", what)) is not None:
        known = _field_names(_type_at(segments, raw))
        where = f"{_name(segments, raw)} has" if segments else "A connector definition has"
        listing = f"; the fields are {', '.join(known)}" if known else ""
        text = f"{where} no field `{unknown[1]}`{listing}."
    elif re.fullmatch(r"Expected .+|Invalid (enum )?value .*", what, re.DOTALL):
        text = f"{_name(segments, raw)} must be {_expected(segments, raw)}"
        # The decoder does not say which value of a mapping is wrong.
        text += "." if _EACH in segments else f"; got {_described(_value_at(segments, raw))}."
    else:
        text = f"{_name(segments, raw)}: {what}" if segments else what
    return Problem(_path(segments, raw), text)


def _segments(path: str) -> list[Segment]:
    segments: list[Segment] = []
    for match in _SEGMENT.finditer(path):
        key, index = match.group(1), match.group(2)
        segments.append(key if key is not None else int(index) if index is not None else _EACH)
    return segments


def _name(segments: list[Segment], raw: Any) -> str:
    path = _path(segments, raw)
    return f"every value of `{path}`" if _EACH in segments else f"`{path}`"


def _path(segments: list[Segment], raw: Any) -> str:
    parts: list[str] = []
    node: Any = raw
    for position, segment in enumerate(segments):
        if segment == _EACH:
            node = None
            continue
        if isinstance(segment, int):
            item = node[segment] if isinstance(node, list) and segment < len(node) else None
            naming = _NAMED_BY.get(str(segments[position - 1]), "")
            following = segments[position + 1] if position + 1 < len(segments) else None
            label = item.get(naming) if isinstance(item, dict) and following != naming else None
            parts.append(label if isinstance(label, str) and label else f"[{segment}]")
            node = item
            continue
        parts.append(segment)
        node = node.get(segment) if isinstance(node, dict) else None
    return ".".join(parts).replace(".[", "[")


def _value_at(segments: list[Segment], raw: Any) -> Any:
    node = raw
    for segment in segments:
        if isinstance(segment, int) and isinstance(node, list) and segment < len(node):
            node = node[segment]
        elif isinstance(segment, str) and isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
    return node


def _type_at(segments: list[Segment], raw: Any) -> inspect.Type | None:
    kind: inspect.Type | None = inspect.type_info(ConnectorDefinition)
    for position, segment in enumerate(segments):
        kind = _choose(kind, _value_at(segments[:position], raw))
        if _tagged(kind) == segment:
            return _TAG
        if isinstance(kind, inspect.StructType) and isinstance(segment, str):
            kind = next((field.type for field in kind.fields if field.encode_name == segment), None)
        elif isinstance(kind, inspect.SetType | inspect.ListType | inspect.VarTupleType):
            kind = kind.item_type
        elif isinstance(kind, inspect.DictType):
            kind = kind.value_type
        else:
            return None
    return _choose(kind, _value_at(segments, raw))


# Stands for an authentication's ``type``, whose choices are the union's tags.
_TAG = inspect.LiteralType(values=())


def _tagged(kind: inspect.Type | None) -> str | None:
    """The field naming which struct a tagged union (or one of its structs) is."""
    members = kind.types if isinstance(kind, inspect.UnionType) else (kind,)
    return next(
        (m.tag_field for m in members if isinstance(m, inspect.StructType) and m.tag is not None), None
    )


def _tags(kind: inspect.Type | None) -> list[str]:
    members = kind.types if isinstance(kind, inspect.UnionType) else ()
    return [str(m.tag) for m in members if isinstance(m, inspect.StructType) and m.tag is not None]


def _choose(kind: inspect.Type | None, value: Any) -> inspect.Type | None:
    """The struct a union means for ``value``: the one its ``type`` names, or the only one there is."""
    if isinstance(kind, inspect.Metadata):
        kind = kind.type
    if not isinstance(kind, inspect.UnionType):
        return kind
    structs = [member for member in kind.types if isinstance(member, inspect.StructType)]
    if not structs:
        return kind
    tag = value.get(structs[0].tag_field) if isinstance(value, dict) and structs[0].tag_field else None
    chosen = next((member for member in structs if member.tag == tag), None)
    return chosen or (structs[0] if len(structs) == 1 else kind)


def _expected(segments: list[Segment], raw: Any) -> str:
    kind = _type_at(segments, raw)
    if kind is _TAG:
        return "one of " + ", ".join(_tags(_type_at(segments[:-1], {})))
    return _words(kind)


def _words(kind: inspect.Type | None) -> str:
    if isinstance(kind, inspect.Metadata):
        kind = kind.type
    if isinstance(kind, inspect.StrType):
        if kind.pattern is not None:
            return _PATTERNS.get(kind.pattern, "text without spaces or quotes")
        if kind.min_length and kind.max_length is not None:
            return f"text of {kind.min_length} to {kind.max_length} characters"
        return f"text of at most {kind.max_length} characters" if kind.max_length is not None else "text"
    if isinstance(kind, inspect.LiteralType):
        return "one of " + ", ".join(_choice(value) for value in kind.values)
    if isinstance(kind, inspect.BoolType):
        return "true or false"
    if isinstance(kind, inspect.IntType | inspect.FloatType):
        return "a number"
    if isinstance(kind, inspect.ListType | inspect.VarTupleType | inspect.SetType):
        return "a list"
    if isinstance(kind, inspect.UnionType):
        tags = _tags(kind)
        return f"a mapping whose `type` is one of {', '.join(tags)}" if tags else "a mapping"
    if isinstance(kind, inspect.StructType):
        required = [f"`{field.encode_name}`" for field in kind.fields if field.required]
        return f"a mapping with {', '.join(required)}" if required else "a mapping"
    if isinstance(kind, inspect.DictType):
        return "a mapping"
    return "a value"


def _choice(value: Any) -> str:
    return str(value) if isinstance(value, str) and value.isidentifier() else repr(value)


def _field_names(kind: inspect.Type | None) -> list[str]:
    if isinstance(kind, inspect.UnionType):
        return []
    if not isinstance(kind, inspect.StructType):
        return []
    tag = [kind.tag_field] if kind.tag_field and kind.tag is not None else []
    return tag + [field.encode_name for field in kind.fields]


def _described(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else f"{len(value)} characters"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
