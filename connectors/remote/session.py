"""One conversation with a remote MCP server over streamable HTTP (MCP 2025-03-26 to 2025-11-25), as an
OAuth client.

A ``RemoteSession`` initializes on first use, keeps the ``Mcp-Session-Id`` the server hands out
(stateless servers hand out none), sends ``MCP-Protocol-Version`` after the handshake, and initializes
again when the server says the session is gone (404). Requests the server makes on an event stream are
answered (``ping``) or declined.

Authorization, as the MCP authorization specification describes it, is the ``Credentials`` object's
business: the session asks it for a token, tells it about a 401 (it may refresh or authorize anew, once)
and about a 403 ``insufficient_scope`` (it may step up); at most ``MAX_AUTHORIZATIONS`` new tokens are got
for one request. Every failure becomes a ``RemoteError`` whose message a person can act on, never holding
a token.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import anyio
import httpx
import mcp_types
import pydantic
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION

from switchboard.connectors.remote.authorization import MAX_AUTHORIZATIONS
from switchboard.connectors.remote.credentials import Credentials
from switchboard.connectors.remote.errors import RemoteError, http_error
from switchboard.connectors.remote.metadata import bearer_challenge
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.streamable_http import GuardedStream, events, read_limited
from switchboard.platform.core.json_nesting import loads as load_json
from switchboard.platform.core.safe_fetch import FetchRefused

Model = TypeVar("Model", bound=pydantic.BaseModel)
CALL_TIMEOUT_SECONDS = 60.0
_CLIENT_INFO = {"name": "Switchboard", "version": "1"}


@contextlib.asynccontextmanager
async def remote_session(
    network: Network,
    policy: NetworkPolicy,
    endpoint: str,
    credentials: Credentials,
    *,
    name: str,
    headers: dict[str, str] | None = None,
    call_timeout: float = CALL_TIMEOUT_SECONDS,
) -> AsyncIterator[RemoteSession]:
    """A session over a guarded client of ``network``; the session is ended and the client closed after."""
    session = new_session(network, policy, endpoint, credentials, name, headers, call_timeout)
    try:
        yield session
    finally:
        await end_session(session)


def new_session(
    network: Network,
    policy: NetworkPolicy,
    endpoint: str,
    credentials: Credentials,
    name: str,
    headers: dict[str, str] | None,
    call_timeout: float,
) -> RemoteSession:
    """A session over a new guarded client of ``network`` (``end_session`` ends both)."""
    http = network.client(policy, timeout=call_timeout)
    return RemoteSession(http, endpoint, credentials, name=name, headers=headers, timeout=call_timeout)


async def end_session(session: RemoteSession) -> None:
    """Ends the session on the server, then closes its HTTP client."""
    try:
        await session.close()
    finally:
        await session.aclose_http()


class RemoteSession:
    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        credentials: Credentials,
        *,
        name: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> None:
        self._http = http
        self._endpoint = endpoint
        self._credentials = credentials
        self._name = name or endpoint
        self._headers = headers or {}
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._session_id: str | None = None
        self._protocol: str | None = None
        self.server_info: dict[str, Any] = {}
        self.tools_changed = False  # set when the server says its tool list changed
        self.skipped_tools: list[str] = []

    def use(self, credentials: Credentials, headers: dict[str, str] | None = None) -> None:
        """Carry on with another call's credentials object (the same credentials: see ``SessionPool``)."""
        self._credentials = credentials
        self._headers = headers or {}
        self.tools_changed = False

    async def list_tools(self) -> list[mcp_types.Tool]:
        """Every tool, page after page; a tool that is not a valid MCP tool is left out and named in
        ``skipped_tools``, so one bad tool does not hide the others."""
        tools: list[mcp_types.Tool] = []
        self.skipped_tools = []
        cursor: str | None = None
        for _ in range(100):  # a server that pages forever is not followed forever
            page = await self.request("tools/list", {"cursor": cursor} if cursor else {})
            items = page.get("tools")
            if not isinstance(items, list):
                raise RemoteError(f"{self._name} sent a malformed tool list.", problem="malformed")
            for item in items:
                try:
                    tools.append(mcp_types.Tool.model_validate(item))
                except pydantic.ValidationError:
                    name = item.get("name") if isinstance(item, dict) else None
                    self.skipped_tools.append(str(name)[:80] if name else "(unnamed)")
            cursor = page.get("nextCursor") if isinstance(page.get("nextCursor"), str) else None
            if not cursor:
                break
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        return _parsed(mcp_types.CallToolResult, result, self._name)

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One JSON-RPC request's result; initializes first when needed."""
        if self._protocol is None:
            await self._initialize()
        try:
            return await self._request(method, params)
        except _SessionGone:
            self._session_id = self._protocol = None
            await self._initialize()
            return await self._request(method, params)

    async def close(self) -> None:
        """Ends the session on the server when it keeps one (a 405 answer is fine)."""
        if self._session_id is None:
            return
        headers = {**self._headers, "Mcp-Session-Id": self._session_id}
        if self._protocol:
            headers["MCP-Protocol-Version"] = self._protocol
        token = await self._credentials.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._session_id = None
        with contextlib.suppress(httpx.HTTPError, FetchRefused):
            await self._http.delete(self._endpoint, headers=headers)

    async def aclose_http(self) -> None:
        """Close the session's HTTP client (after ``close``)."""
        await self._http.aclose()

    async def _initialize(self) -> None:
        params = {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": _CLIENT_INFO}
        result = await self._request("initialize", params, initializing=True)
        version = result.get("protocolVersion")
        if version not in HANDSHAKE_PROTOCOL_VERSIONS:
            raise RemoteError(
                f"{self._name} speaks MCP version {str(version)[:40]!r}, which Switchboard does not.",
                problem="protocol",
            )
        self._protocol = str(version)
        info = result.get("serverInfo")
        self.server_info = info if isinstance(info, dict) else {}
        await self._notify("notifications/initialized")

    async def _request(
        self, method: str, params: dict[str, Any], *, initializing: bool = False
    ) -> dict[str, Any]:
        request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            with anyio.fail_after(self._timeout):
                answer = await self._exchange(message, initializing=initializing)
        except TimeoutError:
            raise RemoteError(
                f"{self._name} did not answer {method} within {self._timeout:g} s; try again later.",
                problem="timeout",
            ) from None
        error = answer.get("error")
        if isinstance(error, dict):
            text = str(error.get("message", ""))[:300] or "no message"
            raise RemoteError(
                f"{self._name} answered {method} with an error ({error.get('code')}: {text}).", problem="rpc"
            )
        result = answer.get("result")
        if not isinstance(result, dict):
            raise RemoteError(f"{self._name} answered {method} without a result.", problem="malformed")
        return result

    async def _notify(self, method: str) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        with anyio.fail_after(self._timeout):
            async with self._post(message, await self._credentials.token()) as response:
                if response.status_code >= 400 and response.status_code not in (401, 403):
                    raise RemoteError(
                        f"{self._name} refused {method} (HTTP {response.status_code}).", problem="http"
                    )

    async def _exchange(self, message: dict[str, Any], *, initializing: bool) -> dict[str, Any]:
        token = await self._credentials.token()
        authorizations = 0  # new tokens got for this request: one refresh or authorization, then step-ups
        reauthorized = False
        while True:
            async with self._post(message, token) as response:
                status = response.status_code
                if status == httpx.codes.OK:
                    return await self._answer(response, message["id"], initializing=initializing)
                challenge = bearer_challenge(response.headers.get("www-authenticate"))
                body = (await read_limited(response))[:300].decode("utf-8", "replace")
            if status == httpx.codes.NOT_FOUND and self._session_id and not initializing:
                raise _SessionGone
            if (
                status == httpx.codes.UNAUTHORIZED
                and not reauthorized
                and authorizations < MAX_AUTHORIZATIONS
            ):
                reauthorized = True
                authorizations += 1
                token = await self._credentials.unauthorized(challenge)
                if token:
                    continue
            if (
                status == httpx.codes.FORBIDDEN
                and challenge is not None
                and challenge.error == "insufficient_scope"
            ):
                if authorizations < MAX_AUTHORIZATIONS:
                    authorizations += 1
                    token = await self._credentials.insufficient_scope(challenge)
                    if token:
                        continue
                raise RemoteError(
                    f"{self._name} needs more access ({' '.join(challenge.scopes) or 'more scopes'}) than "
                    "was granted; reconnect and grant it.",
                    problem="insufficient_scope",
                    challenge=challenge,
                )
            raise http_error(self._name, message["method"], status, body, challenge)

    def _post(self, message: dict[str, Any], token: str | None) -> GuardedStream:
        headers = {
            **self._headers,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        if self._session_id:
            headers["Mcp-Session-Id"] = self._session_id
        if self._protocol:
            headers["MCP-Protocol-Version"] = self._protocol
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return GuardedStream(
            self._http.stream("POST", self._endpoint, json=message, headers=headers), self._name
        )

    async def _answer(
        self, response: httpx.Response, request_id: int, *, initializing: bool
    ) -> dict[str, Any]:
        if initializing:
            self._session_id = response.headers.get("mcp-session-id") or None
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "text/event-stream":
            async for event in events(response):
                answer = await self._handle(event, request_id)
                if answer is not None:
                    return answer
            raise RemoteError(f"{self._name} ended its answer without a result.", problem="malformed")
        body = await read_limited(response)
        try:
            data = load_json(body)
        except ValueError:
            raise RemoteError(
                f"{self._name} answered with something other than JSON.", problem="malformed"
            ) from None
        messages = data if isinstance(data, list) else [data]
        for item in messages:
            answer = await self._handle(item, request_id)
            if answer is not None:
                return answer
        raise RemoteError(f"{self._name} answered without a result.", problem="malformed")

    async def _handle(self, message: Any, request_id: int) -> dict[str, Any] | None:
        """Our answer when ``message`` is it; otherwise deals with the message and returns None."""
        if not isinstance(message, dict):
            return None
        if message.get("id") == request_id and ("result" in message or "error" in message):
            return message
        method = message.get("method")
        if method == "notifications/tools/list_changed":
            self.tools_changed = True
        if isinstance(method, str) and "id" in message:  # a request from the server
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
            if method == "ping":
                reply["result"] = {}
            else:
                reply["error"] = {"code": -32601, "message": f"Switchboard does not support {method[:60]}"}
            async with self._post(reply, await self._credentials.token()):
                pass
        return None


class _SessionGone(Exception):
    pass


def _parsed(kind: type[Model], result: dict[str, Any], name: str) -> Model:
    try:
        return kind.model_validate(result)
    except pydantic.ValidationError:
        raise RemoteError(f"{name} sent a malformed {kind.__name__}.", problem="malformed") from None
