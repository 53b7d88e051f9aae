"""How much a definition holds once what it shares is expanded, measured without expanding it.

A YAML alias (``*name``) stands for the whole value its anchor names, and a ``$ref`` in an input schema for
the whole schema it points to: a few hundred bytes of either can stand for millions of values, which
whatever reads the definition afterwards (checking it, showing it as YAML, validating a tool call's
arguments against it) would go through one by one. The walks here visit the values as those readers would,
counting, and stop as soon as a limit is passed, so measuring costs no more than the limit allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jsonschema_specifications  # type: ignore[import-untyped]  # it has no type information
import referencing.exceptions
from referencing import Registry
from referencing.jsonschema import DRAFT202012

MAX_DEFINITION_BYTES = 1024 * 1024
# Deep enough for any real definition or OpenAPI document, shallow enough that every reader of the data
# (JSON Schema's own checks included) stays far from Python's recursion limit.
MAX_DEPTH = 64
MAX_VALUES = 100_000
# What validating one tool call may visit: a wrong argument makes ``anyOf`` try every branch.
MAX_SCHEMA_VALUES = 20_000
# Keywords whose values are data, not schemas: a "$ref" inside them is only text.
_DATA_KEYWORDS = frozenset({"default", "examples", "example", "enum", "const"})
_END = object()
# The JSON Schema specifications' own schemas, which validation resolves references to without fetching.
SPECIFICATIONS: Registry[Any] = jsonschema_specifications.REGISTRY


class TooMuch(Exception):
    """A limit was passed; the message says which, in words for the person who wrote the document."""


class _TooDeep(Exception):
    pass


class _TooMany(Exception):
    pass


class _Cycle(Exception):
    pass


class _Unresolved(Exception):
    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


def check_size(data: Any, *, what: str) -> int:
    """Refuse ``data`` (parsed YAML or JSON) nested deeper than ``MAX_DEPTH`` or holding more than
    ``MAX_VALUES`` values, a value shared through YAML aliases counting each time it is used; else how many
    values it holds, counted so.

    Raises ``TooMuch`` naming ``what`` ("the document") and the limit.
    """
    try:
        return _walk(data, _plain_children, limit=MAX_VALUES, key=id, cyclic=False)
    except _Cycle:
        raise TooMuch("a YAML alias refers to the value that contains it") from None
    except _TooDeep:
        raise TooMuch(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except _TooMany:
        raise TooMuch(
            f"{what} holds more than {MAX_VALUES:,} values once its YAML aliases are expanded"
        ) from None


def schema_problem(schema: dict[str, Any], *, what: str = "the input schema") -> str | None:
    """What makes a schema too costly to validate against, or None; the message calls it ``what``.

    That is: more than ``MAX_SCHEMA_VALUES`` values or ``MAX_DEPTH`` levels once its ``$ref`` and
    ``$dynamicRef`` are followed as JSON Schema validation follows them (a reference back to a schema
    being expanded, as in a recursive type, counts once), or a reference that resolves to nothing inside
    the schema or the JSON Schema specifications (a remote one would be fetched on every call).
    """
    root = SPECIFICATIONS.resolver_with_root(DRAFT202012.create_resource(schema))
    try:
        _walk((schema, root), _schema_children, limit=MAX_SCHEMA_VALUES, key=_contents_id, cyclic=True)
    except _Unresolved as exc:
        shown = exc.ref if len(exc.ref) <= 100 else exc.ref[:99] + "…"
        return f"the reference {shown!r} names nothing inside the schema"
    except _TooDeep:
        return f"{what} nests deeper than {MAX_DEPTH} levels once its references are expanded"
    except _TooMany:
        return f"{what} holds more than {MAX_SCHEMA_VALUES:,} values once its references are expanded"
    return None


def _plain_children(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list):
        return value
    return ()


def _schema_children(node: tuple[Any, Any]) -> Iterable[Any]:
    """A schema's values, each with the resolver its references resolve against (a subschema with its
    own ``$id`` moves the base, as in validation), and what its references point to."""
    value, resolver = node
    if isinstance(value, list):
        return [(item, resolver) for item in value]
    if not isinstance(value, dict):
        return ()
    try:
        inner = resolver.in_subresource(DRAFT202012.create_resource(value))
    except (AttributeError, TypeError, ValueError):
        # An "$id" that is no URI: the mapping is not a schema (``properties`` naming a property "$id"),
        # or not a valid one (which JSON Schema's own check refuses). It moves no base.
        inner = resolver
    found = [(item, inner) for key, item in value.items() if key not in _DATA_KEYWORDS]
    for keyword in ("$ref", "$dynamicRef"):
        ref = value.get(keyword)
        if isinstance(ref, str):
            try:
                resolved = inner.lookup(ref)
            except (referencing.exceptions.Unresolvable, AttributeError, TypeError, ValueError):
                raise _Unresolved(ref) from None
            found.append((resolved.contents, resolved.resolver))
    return found


def _contents_id(node: tuple[Any, Any]) -> int:
    return id(node[0])


def _walk(
    root: Any,
    children: Callable[[Any], Iterable[Any]],
    *,
    limit: int,
    key: Callable[[Any], int],
    cyclic: bool,
) -> int:
    """Visit every value under ``root`` as a reader expanding what is shared would, counting: ``_TooDeep``
    past ``MAX_DEPTH`` levels, ``_TooMany`` past ``limit`` values. A value met again inside itself is a
    ``_Cycle``, unless ``cyclic`` (then it counts once and is not entered again). Returns the count."""
    count = 1
    path: list[Iterator[Any]] = [iter(children(root))]
    open_keys: list[int] = [key(root)]
    while path:
        child = next(path[-1], _END)
        if child is _END:
            path.pop()
            open_keys.pop()
            continue
        count += 1
        if count > limit:
            raise _TooMany
        grandchildren = children(child)
        if not grandchildren:
            continue
        child_key = key(child)
        if child_key in open_keys:
            if cyclic:
                continue
            raise _Cycle
        if len(path) >= MAX_DEPTH:
            raise _TooDeep
        path.append(iter(grandchildren))
        open_keys.append(child_key)
    return count
