"""Reading a remote MCP server's answers on the streamable HTTP transport (MCP 2025-03-26 onwards).

An answer to a POST is either one JSON document or a server-sent event stream whose ``message`` events
carry JSON-RPC messages. Both are read no further than ``MAX_EVENT_BYTES`` (per event for a stream), and
network failures and policy refusals become a ``RemoteError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from switchboard.connectors.remote.errors import RemoteError
from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.platform.core.safe_fetch import FetchRefused

MAX_EVENT_BYTES = 4 * 1024 * 1024


class GuardedStream:
    """``client.stream(...)`` with network failures turned into RemoteError."""

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self._name = name

    async def __aenter__(self) -> httpx.Response:
        try:
            response: httpx.Response = await self._stream.__aenter__()
            return response
        except FetchRefused as refused:
            raise RemoteError(refused.message, problem="network") from None
        except httpx.TimeoutException:
            raise RemoteError(
                f"{self._name} did not answer in time; try again later.", problem="timeout"
            ) from None
        except httpx.HTTPError as error:
            raise RemoteError(
                f"{self._name} could not be reached ({type(error).__name__}); try again later.",
                problem="network",
            ) from None

    async def __aexit__(self, *exc: object) -> None:
        await self._stream.__aexit__(*exc)


async def events(response: httpx.Response) -> AsyncIterator[Any]:
    """The JSON messages in a server-sent event stream (``message`` events)."""
    data: list[str] = []
    size = 0
    event = "message"
    async for line in response.aiter_lines():
        if not line:
            message = _json_or_none("\n".join(data)) if data and event == "message" else None
            if message is not None:
                yield message
            data, size, event = [], 0, "message"
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            size += len(value)
            if size > MAX_EVENT_BYTES:
                raise RemoteError("The remote server sent an event larger than 4 MB.", problem="too_large")
            data.append(value)
        elif field == "event":
            event = value or "message"


async def read_limited(response: httpx.Response) -> bytes:
    """The whole body of an answer that is not a stream, no larger than ``MAX_EVENT_BYTES``."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_EVENT_BYTES:
            raise RemoteError("The remote server sent an answer larger than 4 MB.", problem="too_large")
    return bytes(body)


def _json_or_none(text: str) -> Any:
    try:
        return load_json(text)
    except ValueError:
        return None
