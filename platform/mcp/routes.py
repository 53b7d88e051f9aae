"""The MCP endpoint and its protected resource metadata as Litestar route handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler, asgi
from litestar.params import FromPath
from litestar.types import Receive, Scope, Send

from switchboard.platform.mcp.access import METADATA_PREFIX
from switchboard.platform.mcp.endpoint import McpEndpoint

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "max-age=60",
}


def mcp_handlers(endpoint_of: Callable[[State], McpEndpoint]) -> list[ASGIRouteHandler | HTTPRouteHandler]:
    """``/mcp/<slug>`` (its own CSRF-free, cookie-free protocol: bearer tokens only) and
    ``/.well-known/oauth-protected-resource/mcp/<slug>``, answered by the endpoint the app serves."""

    @asgi("/mcp", is_mount=True, copy_scope=True, opt={"exclude_from_csrf": True}, name="mcp")
    async def mcp(scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = endpoint_of(scope["app"].state)
        await endpoint(scope, receive, send)  # type: ignore[arg-type]

    @get(
        f"{METADATA_PREFIX}/mcp/{{slug:str}}",
        name="mcp-resource-metadata",
        include_in_schema=False,
        opt={"exclude_from_csrf": True},
    )
    async def resource_metadata(slug: FromPath[str], state: State) -> Response[Any]:
        metadata = await endpoint_of(state).metadata(slug)
        if metadata is None:
            body = {"error": "not_found", "error_description": f"There is no MCP server {slug}."}
            return Response(body, status_code=404, headers={"Cache-Control": "no-store"})
        return Response(metadata, headers=_CORS)

    return [mcp, resource_metadata]
