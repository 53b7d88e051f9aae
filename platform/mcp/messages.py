"""The JSON-RPC message a POST to ``/mcp/<slug>`` carries, read and checked before anything parses it.

MCP streamable HTTP (Sending Messages to the Server): the body of a POST is one JSON-RPC request,
notification or response; a body the server cannot accept is answered with an HTTP error status, whose
body may be a JSON-RPC error without an id, as the SDK answers its own parse and validation errors.

The body is held to ``MAX_BODY_BYTES`` while it is read, and to ``MAX_DEPTH`` levels of nesting before
it is decoded, so that no parser (ours, the SDK's) and no tool (its input check, a recipe's templates)
ever recurses on what a caller nests. Only then is it decoded, with msgspec, whose errors name what is
wrong without echoing the body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import msgspec

from switchboard.platform.core.json_nesting import nested_deeper_than
from switchboard.platform.mcp.access import Refusal

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

MAX_BODY_BYTES = 1024 * 1024
# Deep enough for any tool's arguments, shallow enough that every reader of a message stays far from
# Python's recursion limit. The message itself is the first level.
MAX_DEPTH = 64
# Larger bodies are checked and decoded in a worker thread, off the event loop.
_INLINE_BYTES = 16 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


class BadMessage(Refusal):
    """A body that is not one JSON-RPC message: an HTTP error status, and the JSON-RPC error (no id) as
    the body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        error = "parse_error" if code == PARSE_ERROR else "invalid_request"
        super().__init__(status, error, message, {}, reason=message)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": None, "error": {"code": self.code, "message": self.description}}


class ClientGone(Exception):
    """The client went away before its request's body had arrived: there is no one to answer."""


async def read_message(
    scope: MutableMapping[str, Any], receive: Receive
) -> tuple[dict[str, Any] | None, Receive]:
    """The JSON-RPC message a POST carries (None for any other method), and a ``receive`` that plays the
    body again for the SDK. Raises ``ClientGone`` when the client hangs up before the body is complete.

    Raises ``BadMessage`` for a body that is not ``application/json`` (415, unread), over
    ``MAX_BODY_BYTES`` (413, before more of it is read), nested deeper than ``MAX_DEPTH`` or not JSON
    (400, parse error), or JSON that is not one message (400, invalid request: batches are not part of
    MCP since 2025-06-18).
    """
    if scope.get("method") != "POST":
        return None, receive
    if _media_type(scope) != "application/json":
        raise BadMessage(415, INVALID_REQUEST, "Invalid request: send the message as application/json.")
    if _declared_length(scope) > MAX_BODY_BYTES:
        raise _too_large()
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            complete = True
            break

    if not complete:
        raise ClientGone

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    body = b"".join(chunks)
    if len(body) > _INLINE_BYTES:
        return await anyio.to_thread.run_sync(decode_message, body), replay
    return decode_message(body), replay


def decode_message(body: bytes) -> dict[str, Any]:
    """The one JSON-RPC message ``body`` holds; ``BadMessage`` when it holds anything else."""
    if nested_deeper_than(MAX_DEPTH, body):
        raise BadMessage(
            400, PARSE_ERROR, f"Parse error: the message is nested more than {MAX_DEPTH} levels deep."
        )
    try:
        message = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadMessage(400, PARSE_ERROR, f"Parse error: {exc}") from None
    if not isinstance(message, dict):
        raise BadMessage(
            400,
            INVALID_REQUEST,
            "Invalid request: send one JSON-RPC message, a JSON object, per request "
            "(batches are not supported).",
        )
    return message


def _media_type(scope: MutableMapping[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1").partition(";")[0].strip().lower())
    return ""


def _declared_length(scope: MutableMapping[str, Any]) -> int:
    """The Content-Length a request declares (0 when it declares none, or no number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit():
            # More digits than any body could have is simply too large (and not worth converting).
            return int(value) if len(value) <= 12 else MAX_BODY_BYTES + 1
    return 0


def _too_large() -> BadMessage:
    return BadMessage(
        413,
        INVALID_REQUEST,
        f"Invalid request: the body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB.",
    )
