"""What run history may keep of a value: secrets hidden, large values cut down.

Run records keep each step's input and output so a builder can see what happened. Those values come from
callers and from apps, so they can hold tokens, passwords or megabytes of data: ``mask`` returns a copy
that is safe and small enough to store and show (a connect link keeps its address, not its token). It
never raises, whatever the value holds.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

# Run records drop connect-link tokens as the log does (also imported from here).
from switchboard.platform.core.redaction import without_link_tokens as without_link_tokens

MASK = "••••••"
MAX_STRING = 2000
MAX_ITEMS = 50
MAX_DEPTH = 8
MAX_BYTES = 16 * 1024

# Keys whose values are credentials, also as part of a longer key ("x-api-key", "github_token").
_SECRET_KEY = re.compile(
    r"password|passwd|secret|token|api[-_ ]?key|authorization|cookie|private[-_ ]?key|credential",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


MIN_SECRET = 8


def secrets_in(value: Any, found: set[str] | None = None, depth: int = 0) -> set[str]:
    """The strings held under secret-looking keys (at least ``MIN_SECRET`` characters), so that the same
    value is masked where it travelled on under another name (an input ``api_token`` mapped to ``note``)."""
    found = set() if found is None else found
    if depth > MAX_DEPTH:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, str) and len(item) >= MIN_SECRET:
                found.add(item)
            else:
                secrets_in(item, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            secrets_in(item, found, depth + 1)
    return found


def mask(value: Any, secrets: frozenset[str] | set[str] = frozenset()) -> Any:
    """A copy of ``value`` with secrets masked and long strings, long lists and deep nesting cut, bounded
    to about ``MAX_BYTES`` of JSON (a larger value becomes a shortened JSON text with a note).

    ``secrets`` are values to mask wherever they appear inside strings (see ``secrets_in``).
    """
    masked = _masked(value, 0, tuple(sorted(secrets, key=len, reverse=True)))
    try:
        size = len(msgspec.json.encode(masked))
    except (TypeError, ValueError, OverflowError):  # pragma: no cover - _masked gives JSON-ready values
        return _cut(str(masked))
    if size <= MAX_BYTES:
        return masked
    text = msgspec.json.encode(masked).decode("utf-8", errors="replace")
    keep = MAX_BYTES - 100
    return f"{text[:keep]}… ({size - keep} more bytes not kept)"


def _masked(value: Any, depth: int, secrets: tuple[str, ...] = ()) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return _cut(without_link_tokens(value))
    if depth >= MAX_DEPTH:
        return "… (nested too deeply to keep)"
    if isinstance(value, dict):
        return {
            _key(key): MASK if is_secret_key(key) and _present(item) else _masked(item, depth + 1, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value) if not isinstance(value, set | frozenset) else sorted(value, key=str)
        kept = [_masked(item, depth + 1, secrets) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            kept.append(f"… ({len(items) - MAX_ITEMS} more items)")
        return kept
    if isinstance(value, bytes | bytearray | memoryview):
        return f"({len(value)} bytes)"
    if isinstance(value, msgspec.Struct):
        try:
            return _masked(msgspec.to_builtins(value), depth, secrets)
        except (TypeError, ValueError):
            pass
    try:
        return _masked(str(value), depth, secrets)
    except Exception:  # a value whose __str__ fails must not fail the run record
        return f"({type(value).__name__})"


def _present(value: Any) -> bool:
    """An empty secret stays visible as empty: "no token was sent" is worth seeing."""
    return value is not None and not (isinstance(value, str) and not value)


def _key(key: object) -> str:
    return key if isinstance(key, str) else str(key)


def _cut(text: str) -> str:
    if len(text) <= MAX_STRING:
        return text
    return f"{text[:MAX_STRING]}… ({len(text) - MAX_STRING} more characters)"
