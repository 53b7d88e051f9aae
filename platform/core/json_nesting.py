"""How deep a JSON document nests, told from its bytes before anything parses it.

Python's parsers, and whatever walks what they return (validation, templates, encoding it again), recurse
once per level: a body of a few kilobytes of ``[`` takes any of them past the recursion limit. A reader
that holds what it accepts to a depth asks here first, and refuses what nests deeper without parsing it.
"""

from __future__ import annotations

import json
import operator
from itertools import accumulate, repeat
from typing import Any

MAX_DEPTH = 64
"""How deep JSON that Switchboard reads from others may nest: far more than any API's answers or any
schema need."""

# An opening bracket is a step in (2 - 1), a closing one a step out (0 - 1).
_IN = 2
_STEPS = bytes.maketrans(b"[{]}", bytes([_IN, _IN, 0, 0]))
_PAIR = bytes([_IN, 0])
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_SLICE = 8192


def nested_deeper_than(limit: int, body: bytes) -> bool:
    """Whether JSON ``body`` opens more than ``limit`` arrays and objects inside one another, found without
    parsing it: brackets inside strings are text, and count for nothing.

    Strings and everything but brackets are taken out with bytes operations; the depth is then followed a
    slice at a time, and only a slice that could pass the limit is stepped through. A body whose brackets
    stay near the limit all along is stepped through whole, some tens of milliseconds a megabyte: large
    bodies are best checked in a worker thread.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    if b"\\" in body:
        # Escapes pair up from the left, as a parser reads them; what is left of a string is its quotes.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    steps = b"".join(body.split(b'"')[::2]).translate(_STEPS, _NOT_BRACKETS)
    depth = 0
    for start in range(0, len(steps), _SLICE):
        piece = steps[start : start + _SLICE]
        opens = piece.count(_IN)
        # Within the slice the depth rises by at most the brackets it opens, and by at most one more than
        # it opens once its innermost pairs ("[]", "{}") are taken out: most slices stop at that.
        if (
            depth + opens > limit
            and depth + piece.replace(_PAIR, b"").count(_IN) + 1 > limit
            and depth + max(accumulate(map(operator.sub, piece, repeat(1)))) > limit
        ):
            return True
        depth += 2 * opens - len(piece)
    return False


def loads(document: str | bytes, *, limit: int = MAX_DEPTH) -> Any:
    """``json.loads``, refusing a document nested deeper than ``limit`` with the same ``JSONDecodeError``
    (a ``ValueError``) as any other document that is not JSON, before parsing it."""
    body = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if nested_deeper_than(limit, body):
        text = document if isinstance(document, str) else document.decode("utf-8", "replace")
        raise json.JSONDecodeError(f"nested more than {limit} levels deep", text, 0)
    return json.loads(document)
