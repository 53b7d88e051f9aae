"""The MCP endpoint: ``/mcp/<slug>`` over streamable HTTP, one SDK server for every Switchboard server.

Each request is handled on its own (the SDK's stateless mode): any process behind a load balancer can
answer it, with no sticky sessions. In front of the SDK this module checks what the SDK cannot know:
the Origin (DNS-rebinding protection), the caller (``AccessGate``), the server's rate limit
(``RequestLimits``) and, for ``tools/call``, the tool's scope, so that a missing scope is the HTTP 403
``insufficient_scope`` an OAuth client can step up from. Every refusal goes to the audit trail
(``RefusalLog``). The verified caller travels to the tool handlers in the ASGI scope of the request.

The answer to ``initialize`` (or ``server/discover``, from 2026-07-28) names Switchboard with its version
and carries the instructions of the server asked, set in the console for the model.

``tools/list`` lists the published recipes attached to the server whose scope the caller holds;
``tools/call`` runs the published version as the caller (``ToolRunner``). A fault in either reaches the
caller as JSON-RPC ``-32603`` naming a request id, and the log with its traceback and that id: never its
own text.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar, cast

import mcp_types as types
import msgspec

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from switchboard.platform.core.errors import NotFound
from switchboard.platform.core.request_ids import new_request_id
from switchboard.platform.mcp.access import AccessGate, McpCaller, Refusal, ServerLookup, server_url
from switchboard.platform.mcp.client_sightings import ClientSightings
from switchboard.platform.mcp.messages import MAX_BODY_BYTES, ClientGone, read_message
from switchboard.platform.mcp.models import McpServer, RemoteTool, ServerTool
from switchboard.platform.mcp.origins import OriginPolicy
from switchboard.platform.mcp.rate_limits import RateLimited, RequestLimits
from switchboard.platform.mcp.refusals import RefusalLog
from switchboard.platform.mcp.sessions import SessionIds, SessionNote
from switchboard.platform.mcp.tools import ToolRunner

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Params = TypeVar("Params")
Result = TypeVar("Result")
Handler = Callable[[ServerRequestContext[Any, Any], Params], Awaitable[Result]]

log = logging.getLogger("switchboard.mcp")

_CALLER = "switchboard.mcp.caller"
_SESSION = "switchboard.mcp.session"
_TOOL = "switchboard.mcp.tool"
# What a client asks first, and whose answer carries the server's instructions, at either revision.
_OPENINGS = frozenset({"initialize", "server/discover"})


class McpEndpoint:
    """The ASGI app Litestar mounts at ``/mcp``; ``metadata`` answers the protected resource metadata."""

    def __init__(
        self,
        *,
        base_url: str,
        servers: ServerLookup,
        gate: AccessGate,
        tools: ToolRunner,
        sessions: SessionIds,
        limits: RequestLimits,
        refusals: RefusalLog,
        sightings: ClientSightings | None = None,
    ) -> None:
        self._base_url = base_url
        self._sightings = sightings or ClientSightings()
        self._limits = limits
        self._refusals = refusals
        self._sessions = sessions
        self._origins = OriginPolicy(base_url)
        self._servers = servers
        self._gate = gate
        self._tools = tools
        self.sdk = Server(
            "switchboard",
            version=_switchboard_version(),
            on_list_tools=_faults_hidden("tools/list", self._list_tools),
            on_call_tool=_faults_hidden("tools/call", self._call_tool),
        )
        self.sdk.middleware.append(_with_instructions)
        self._manager = StreamableHTTPSessionManager(
            app=self.sdk,
            json_response=True,
            stateless=True,
            max_request_body_size=MAX_BODY_BYTES,
            # The Origin is checked here, against the configured base URL; the Host is the proxy's business.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's task group, for the app's lifespan."""
        async with self._manager.run():
            yield

    # --- HTTP -------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        answered = False

        async def noting_the_answer(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._serve(scope, receive, noting_the_answer)
        except Exception as exc:
            # A fault of ours before the SDK answers (the gate, the rate limit, the tool lookup): logged once
            # with a request id, answered as JSON-RPC naming it, never with the exception's text.
            request_id = new_request_id()
            where = f"{scope.get('method', '')} /mcp/{_slug(scope)}"
            log.error("unhandled error on %s (request id %s)", where, request_id, exc_info=exc)
            if answered:
                raise
            text = f"Internal error; it has been logged with request id {request_id}."
            await _send_json(
                send, 500, _rpc_error(None, types.INTERNAL_ERROR, text), {"x-request-id": request_id}
            )

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = _slug(scope)
        server = await self._server(slug)
        if server is None:
            description = f"There is no MCP server {slug}."
            await self._refused(
                scope, slug, None, Refusal(404, "not_found", description, {}, reason="no such MCP server")
            )
            await _send_json(send, 404, {"error": "not_found", "error_description": description})
            return
        if not self._origins.allows(_header(scope, b"origin")):
            description = "Requests from this Origin are not allowed."
            reason = f"requests from the Origin {_header(scope, b'origin')} are not allowed"
            await self._refused(
                scope, slug, server, Refusal(403, "forbidden", description, {}, reason=reason)
            )
            await _send_json(send, 403, {"error": "forbidden", "error_description": description})
            return
        caller: McpCaller | None = None
        try:
            caller = await self._gate.caller(server, _header(scope, b"authorization"))
            caller = msgspec.structs.replace(
                caller, ip_address=_client_ip(scope), user_agent=_header(scope, b"user-agent") or ""
            )
            # Read only for a verified caller: strangers cannot make the server buffer bodies.
            message, receive = await read_message(scope, receive)
            await self._limits.count(caller, message)
            tool = await self._tool_in_scope(caller, message)
        except Refusal as refusal:
            await self._refused(scope, slug, server, refusal, caller)
            await _send_json(send, refusal.status, refusal.body(), refusal.headers)
            return
        except ClientGone:  # hung up mid-body: not a fault of ours, and nobody to answer
            log.debug("a client of /mcp/%s went away before its request had arrived", slug)
            return
        # What the client says of itself (protocol version, capabilities, name), for its diagnostics.
        await self._sightings.seen(caller, message, _header(scope, b"mcp-protocol-version") or "")
        scope[_CALLER] = caller
        scope[_TOOL] = tool
        if message is not None and message.get("method") == "initialize":
            send = self._with_session_id(send, message)
        else:
            session_id = _header(scope, b"mcp-session-id")
            note = self._sessions.read(session_id) if session_id is not None else SessionNote()
            if note is None:
                await _send_json(
                    send, 404, _rpc_error(message, -32001, "Session not found: initialize again.")
                )
                return
            if scope.get("method") == "GET":
                # No stream of server-initiated messages: each answer travels with its request (the MCP
                # specification lets a server answer 405 here).
                await _send_json(send, 405, {"error": "method_not_allowed"}, {"allow": "POST"})
                return
            if scope.get("method") == "DELETE":
                # A session id is a signed note that any process can read, not something kept that could be
                # ended: the specification lets such a server refuse explicit termination with 405.
                await _send_json(send, 405, {"error": "method_not_allowed"}, {"allow": "POST"})
                return
            scope[_SESSION] = note
        # The SDK serves its endpoint at the mount's root.
        scope = {**scope, "path": "/", "raw_path": b"/"}
        await self._manager.handle_request(scope, receive, send)

    async def _refused(
        self,
        scope: Scope,
        slug: str,
        server: McpServer | None,
        refusal: Refusal,
        caller: McpCaller | None = None,
    ) -> None:
        """Record a refusal in the audit trail, and a ``tools/call`` over the rate limit in the tool-call log
        too (as rationed as the audit trail's records: see ``RefusalLog``)."""
        recorded = await self._refusals.refused(
            refusal,
            slug=slug,
            server=server,
            ip_address=_client_ip(scope),
            user_agent=_header(scope, b"user-agent") or "",
            caller=caller,
        )
        if recorded and caller is not None and isinstance(refusal, RateLimited) and refusal.tool:
            await self._tools.rate_limited(caller, refusal.tool, refusal.description)

    def _with_session_id(self, send: Send, initialize: dict[str, Any]) -> Send:
        """``send`` adding the session id, noting the client's capabilities, to the ``initialize`` answer."""
        session_id = self._sessions.issue(SessionNote(url_elicitation=_declares_url_elicitation(initialize)))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [*message.get("headers", []), (b"mcp-session-id", session_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        return sending

    async def metadata(self, slug: str) -> dict[str, Any] | None:
        """RFC 9728 protected resource metadata of a server (None: no such server)."""
        server = await self._server(slug)
        if server is None:
            return None
        return {
            "resource": server_url(self._base_url, server.slug),
            "authorization_servers": [self._base_url],
            "bearer_methods_supported": ["header"],
            "resource_name": server.name,
            "scopes_supported": self._gate.advertised(await self._tools.scopes(server)),
        }

    async def _server(self, slug: str) -> McpServer | None:
        if not slug:
            return None
        try:
            return await self._servers.serving(slug)
        except NotFound:
            return None

    async def _tool_in_scope(
        self, caller: McpCaller, message: dict[str, Any] | None
    ) -> ServerTool | RemoteTool | None:
        """The tool a ``tools/call`` names (kept for the handler, so it is looked up once). One whose scope
        the token lacks is refused with 403 ``insufficient_scope``, naming the scope to ask for, before the
        SDK sees the call."""
        if message is None or message.get("method") != "tools/call":
            return None
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str):
            return None
        tool = await self._tools.find(caller.server, name)
        if tool is not None and not caller.may_call(tool.scope):
            raise self._gate.insufficient_scope(caller.server, tool.scope, name)
        return tool

    # --- MCP --------------------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        caller = _caller(ctx)
        return types.ListToolsResult(tools=await self._tools.listed(caller))

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        caller = _caller(ctx)
        # Declared in this request's envelope (2026-07-28), or at initialize (the session id's note).
        capabilities = ctx.session.client_capabilities
        elicitation = capabilities.elicitation if capabilities is not None else None
        note = ctx.request.scope.get(_SESSION) if ctx.request is not None else None
        url_mode = (elicitation is not None and elicitation.url is not None) or (
            isinstance(note, SessionNote) and note.url_elicitation
        )
        found = ctx.request.scope.get(_TOOL) if ctx.request is not None else None
        tool = (
            found if isinstance(found, ServerTool | RemoteTool) and found.tool_name == params.name else None
        )
        return await self._tools.call(
            caller, params.name, params.arguments or {}, tool=tool, url_elicitation=url_mode
        )


def _faults_hidden(method: str, handler: Handler[Params, Result]) -> Handler[Params, Result]:
    """``handler`` answering a fault of ours as ``-32603`` naming a request id, the fault logged once with
    its traceback and that id (the SDK would send the exception's own text). The ``MCPError``s a handler
    raises on purpose (an unknown tool, a connect link to open first) pass unchanged."""

    async def answering(ctx: ServerRequestContext[Any, Any], params: Params) -> Result:
        try:
            return await handler(ctx, params)
        except MCPError:
            raise
        except Exception as exc:
            request_id = new_request_id()
            caller = ctx.request.scope.get(_CALLER) if ctx.request is not None else None
            where = f"/mcp/{caller.server.slug}" if isinstance(caller, McpCaller) else "/mcp"
            log.error("unhandled error in %s on %s (request id %s)", method, where, request_id, exc_info=exc)
            raise MCPError(
                types.INTERNAL_ERROR, f"Internal error; it has been logged with request id {request_id}."
            ) from None

    return answering


async def _with_instructions(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """The opening answer with the instructions of the server asked: the one SDK server answers for every
    Switchboard server, so its own ``instructions`` cannot be theirs."""
    result = await call_next(ctx)
    if ctx.method not in _OPENINGS or not isinstance(result, dict):
        return result
    caller = ctx.request.scope.get(_CALLER) if ctx.request is not None else None
    if isinstance(caller, McpCaller) and caller.server.instructions:
        return {**result, "instructions": caller.server.instructions}
    return result


def _switchboard_version() -> str:
    """The installed package's version, which clients read as ``serverInfo.version``."""
    try:
        return version("switchboard")
    except PackageNotFoundError:
        return ""


def _caller(ctx: ServerRequestContext[Any, Any]) -> McpCaller:
    request = ctx.request
    caller = request.scope.get(_CALLER) if request is not None else None
    if not isinstance(caller, McpCaller):  # only reachable if the endpoint is mounted without its gate
        raise RuntimeError("MCP request without a verified caller")
    return caller


def _slug(scope: Scope) -> str:
    """``/mcp/<slug>`` (the path Litestar hands a mount keeps the full path in ``raw_path``)."""
    path = cast("str", scope.get("path", ""))
    root = cast("str", scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    if path.startswith("/mcp/"):
        path = path[len("/mcp") :]
    slug = path.strip("/")
    return slug if slug and "/" not in slug else ""


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return cast("bytes", value).decode("latin-1")
    return None


def _declares_url_elicitation(initialize: dict[str, Any]) -> bool:
    params = initialize.get("params")
    capabilities = params.get("capabilities") if isinstance(params, dict) else None
    elicitation = capabilities.get("elicitation") if isinstance(capabilities, dict) else None
    return isinstance(elicitation, dict) and isinstance(elicitation.get("url"), dict)


def _rpc_error(message: dict[str, Any] | None, code: int, text: str) -> dict[str, Any]:
    request_id = message.get("id") if message is not None else None
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": text}}


async def _send_json(send: Send, status: int, body: object, headers: dict[str, str] | None = None) -> None:
    content = msgspec.json.encode(body)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"no-store"),
        *((name.encode(), value.encode("latin-1")) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})
