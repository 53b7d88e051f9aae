"""How many requests a caller may send an MCP server a minute, and the refusal past that.

Every JSON-RPC request a verified caller sends counts: ``initialize``, ``ping``, ``tools/list``,
``tools/call``, ``resources/*``, ``prompts/*`` and any other method, answered or not. Notifications and
responses ask for no answer and are not counted. The count is per server, client and person (the client
alone for a Token server), over fixed one-minute windows kept in the database, so that every process
behind a load balancer counts the same requests. Each process counts in memory and writes its counts
every few milliseconds (``BufferedCounts``, whose docstring bounds how far several processes together may
pass a limit). The limit is the server's, or the one an admin gave the client on that server
(``server_limits.py``); 0 means none.

Past the limit the request is answered HTTP 429 with ``Retry-After``, and the body is the JSON-RPC error
answering it (MCP clients read an error from a non-2xx answer): code ``RATE_LIMITED``, a message naming
the limit and when to retry, and the same as ``data``: ``{"limit", "window_seconds", "retry_after"}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from switchboard.platform.core.ratelimit import BufferedCounts, RateLimiter
from switchboard.platform.mcp.access import McpCaller, Refusal

RATE_LIMITED = -32019
"""The JSON-RPC error code of a request over the limit: one of the implementation-defined codes
(-32000 to -32019) MCP leaves to servers, as the specification defines none for rate limits."""

WINDOW = timedelta(minutes=1)


class RateLimited(Refusal):
    """A request over its server's limit: 429, ``Retry-After``, and the JSON-RPC error as the body."""

    def __init__(
        self, *, limit: int, retry_after: int, method: str, request_id: object, tool: str = ""
    ) -> None:
        description = (
            f"Rate limit of {limit} requests per minute for this server reached; "
            f"retry in {retry_after} seconds."
        )
        reason = f"over the limit of {limit} requests a minute ({method[:64]})"
        super().__init__(429, "rate_limited", description, {"retry-after": str(retry_after)}, reason=reason)
        self.limit = limit
        self.retry_after = retry_after
        self.method = method
        self.request_id = request_id
        self.tool = tool  # the tool a ``tools/call`` named

    def body(self) -> dict[str, Any]:
        data = {
            "limit": self.limit,
            "window_seconds": int(WINDOW.total_seconds()),
            "retry_after": self.retry_after,
        }
        error = {"code": RATE_LIMITED, "message": self.description, "data": data}
        return {"jsonrpc": "2.0", "id": self.request_id, "error": error}


class RequestLimits:
    def __init__(self, counts: BufferedCounts | RateLimiter | None = None) -> None:
        self._counts = counts or RateLimiter()

    async def count(self, caller: McpCaller, message: dict[str, Any] | None) -> None:
        """Count ``message`` when it is a request; raise ``RateLimited`` once the caller is over its limit."""
        if message is None or not isinstance(message.get("method"), str) or "id" not in message:
            return
        limit = caller.server.rate_limit_for(caller.client_id)
        if limit <= 0:
            return
        key = f"mcp-requests:{caller.server.id}:{caller.client_id}:{caller.user_id or ''}"
        counted = await self._counts.count(key, window=WINDOW)
        if counted.hits > limit:
            params = message.get("params")
            tool = (
                params.get("name") if message["method"] == "tools/call" and isinstance(params, dict) else ""
            )
            raise RateLimited(
                limit=limit,
                retry_after=counted.retry_after,
                method=message["method"],
                request_id=message["id"],
                tool=tool if isinstance(tool, str) else "",
            )
