"""Calling a connector's action: inputs checked against its JSON Schema, one request, the answer read.

An HTTP action's request is built by ``action_requests``, which keeps each input in its place and adds the
connection's credentials last; its answer is read by ``action_answers``. Redirects are not followed: the
credentials would go wherever the redirect pointed. One HTTP client serves every caller, so it keeps no
cookies. Every request goes through the outbound policy (``remote.network``): https to public addresses,
checked on the address connected to, unless an admin allowed the connection's origin onto private
addresses. A remote MCP server's tool is called in a session kept for the caller's credentials.

Failures are ``ActionFailed``; repeating a call is the recipe engine's decision, not the runner's, and
renewing refused credentials is the caller's (``connectors.calls``), through ``reauthorize``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx

from switchboard.connectors.action_answers import (
    ActionFailed,
    ActionResult,
    failure_of,
    read_output,
    redact,
    tool_output,
    tool_text,
)
from switchboard.connectors.action_requests import (
    MAX_DETAIL_CHARS,
    HttpRequest,
    RequestAuth,
    build_request,
    check_inputs,
    display_url,
    shorten,
)
from switchboard.connectors.definitions import Action, ConnectorDefinition, RemoteMcp
from switchboard.connectors.remote.errors import RemoteError
from switchboard.connectors.remote.metadata import Challenge
from switchboard.connectors.remote.network import Network, NetworkPolicy, allowed_on_connection
from switchboard.connectors.remote.session_pool import SessionPool
from switchboard.platform.core.errors import DomainError, NotFound
from switchboard.platform.core.requests import bearer_token
from switchboard.platform.core.safe_fetch import FetchRefused, GuardedClient, Refusal, TrustedOrigin

log = logging.getLogger("switchboard.connectors")

_RETRYABLE_REMOTE = frozenset({"timeout", "network", "server_error", "rate_limited"})
ADMIN_MAY_ALLOW = "only an admin can allow it onto private addresses"


class ActionRunner:
    def __init__(
        self,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = 5 * 1024 * 1024,
        network: Network | None = None,
        on_tools_changed: ToolsChanged | None = None,
        trusted: TrustedOrigin | None = None,
    ) -> None:
        """``transport`` replaces the network altogether (tests inject faults with it); ``trusted`` says
        which origins an admin allowed onto private addresses (by default: those allowed on a connection)."""
        self._timeout = timeout
        self._network = network or Network()
        self._sessions = SessionPool(self._network)
        self._on_tools_changed = on_tools_changed
        self._max_bytes = max_response_bytes
        # One client for all callers: it must not carry cookies from one user's call into another's.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self._http = GuardedClient(
            timeout=timeout,
            transport=transport or self._network.app_transport(trusted or allowed_on_connection),
            follow_redirects=False,
            cookies=no_cookies,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._sessions.aclose()

    async def end_idle_sessions(self) -> int:
        """Housekeeping: end remote MCP sessions nobody used for a while; returns how many."""
        return await self._sessions.end_idle()

    async def run(
        self,
        definition: ConnectorDefinition,
        action_name: str,
        inputs: dict[str, Any],
        auth: RequestAuth,
        reauthorize: Reauthorize | None = None,
    ) -> ActionResult:
        """``reauthorize`` renews the credentials when a remote MCP server refuses them (once after a 401;
        with more scopes after a 403 ``insufficient_scope``)."""
        action = definition.action(action_name)
        if action is None:
            raise NotFound(f"{definition.name} has no action {action_name!r}.", field="action")
        check_inputs(action, inputs)
        if definition.mcp is not None:
            return await self._call_tool(definition, definition.mcp, action, inputs, auth, reauthorize)
        request = build_request(definition, action, inputs, auth)
        started = time.monotonic()
        status, headers, content = await self._send(definition, action, request)
        duration_ms = round((time.monotonic() - started) * 1000)
        if not 200 <= status < 300:
            raise failure_of(definition, action, status, headers, content, auth)
        output = read_output(definition, action.output, status, headers, content)
        return ActionResult(status=status, output=output, duration_ms=duration_ms)

    async def _call_tool(
        self,
        definition: ConnectorDefinition,
        remote: RemoteMcp,
        action: Action,
        inputs: dict[str, Any],
        auth: RequestAuth,
        reauthorize: Reauthorize | None,
    ) -> ActionResult:
        """A remote MCP server's tool, in a session kept for these credentials (see ``SessionPool``), the
        connection's headers on each request, renewed after a refusal. A tool error is the action's
        failure, in the tool's own words."""
        app = definition.name
        policy = NetworkPolicy(allow_private=remote.allow_private)
        started = time.monotonic()
        credentials = _ConnectionCredentials(auth, reauthorize)
        async with self._sessions.session(
            policy,
            remote.endpoint,
            credentials,
            name=app,
            headers=credentials.headers,
            call_timeout=self._timeout,
        ) as session:
            try:
                result = await session.call_tool(action.mcp_tool, inputs)
            except RemoteError as error:
                refused = error.problem == "unauthorized"
                raise ActionFailed(
                    redact(error.message, auth),
                    app=app,
                    http_status=httpx.codes.UNAUTHORIZED if refused else None,
                    auth_problem=refused,
                    retryable=error.problem in _RETRYABLE_REMOTE and action.is_idempotent,
                ) from None
        duration_ms = round((time.monotonic() - started) * 1000)
        if session.tools_changed and self._on_tools_changed is not None:
            await self._tools_changed(definition.key, credentials)
        if result.is_error:
            detail = shorten(tool_text(result.content) or "no details", MAX_DETAIL_CHARS)
            raise ActionFailed(f"{app}'s tool {action.mcp_tool} failed: {redact(detail, auth)}", app=app)
        output = result.structured_content if result.structured_content is not None else tool_output(result)
        return ActionResult(status=200, output=output, duration_ms=duration_ms)

    async def _tools_changed(self, key: str, credentials: _ConnectionCredentials) -> None:
        """The remote server said its tool list changed: list it again with the same credentials."""
        assert self._on_tools_changed is not None
        headers = dict(credentials.headers)
        token = await credentials.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            await self._on_tools_changed(key, headers)
        except DomainError as error:
            log.warning("the tools of %s could not be listed again: %s", key, error.message)

    async def _send(
        self, definition: ConnectorDefinition, action: Action, request: HttpRequest
    ) -> tuple[int, httpx.Headers, bytes]:
        app = definition.name
        try:
            async with self._http.stream(
                request.method,
                request.url,
                params=tuple(request.query),
                headers=request.headers,
                content=request.content,
            ) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self._max_bytes:
                    raise self._too_large(app, response.status_code)
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > self._max_bytes:
                        raise self._too_large(app, response.status_code)
                return response.status_code, response.headers, bytes(content)
        except FetchRefused as refused:
            raise _refusal(app, request, refused) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            host = urlsplit(request.url).netloc
            raise ActionFailed(
                f"{app} cannot be reached at {host} ({type(exc).__name__}).", app=app, retryable=True
            ) from exc
        except httpx.TimeoutException as exc:
            # The request may have been carried out: only an action safe to repeat is retryable.
            raise ActionFailed(
                f"{app} did not answer within {self._timeout:g} s.", app=app, retryable=action.is_idempotent
            ) from exc
        except httpx.HTTPError as exc:
            raise ActionFailed(
                f"{app} broke off the answer ({type(exc).__name__}).", app=app, retryable=action.is_idempotent
            ) from exc

    def _too_large(self, app: str, status: int) -> ActionFailed:
        limit = (
            f"{self._max_bytes / (1024 * 1024):g} MiB"
            if self._max_bytes >= 1024 * 1024
            else (f"{self._max_bytes} bytes")
        )
        return ActionFailed(
            f"{app}'s answer is larger than {limit}; ask for less (for example a smaller page).",
            app=app,
            http_status=status,
        )


class RequestRefused(DomainError):
    """Switchboard did not send an action's request: its address is outside the outbound policy. Not the
    app's failure, and no use repeating: the connection (or the step's URL) must change, or an admin allow
    the address."""

    code = "request_refused"
    status = 403


def _refusal(app: str, request: HttpRequest, refused: FetchRefused) -> DomainError:
    """The outbound policy refused the request before anything connected: say why, and who can change it."""
    where = display_url(request.url)
    if refused.reason is Refusal.UNRESOLVABLE:
        return ActionFailed(f"{app} cannot be reached at {where}: {refused.detail}.", app=app, retryable=True)
    log.info("a request to %s was refused: %s", where, refused.detail)
    hint = f"; {ADMIN_MAY_ALLOW}" if refused.waivable else ""
    return RequestRefused(f"{app} was not called at {where}: {refused.detail}{hint}.")


ToolsChanged = Callable[[str, dict[str, str]], Awaitable[object]]
"""Lists a remote server's tools again (connector key, request headers) after it said they changed."""
Reauthorize = Callable[[tuple[str, ...]], Awaitable[RequestAuth | None]]
"""Renews a caller's credentials after a refusal: a 401 (no scopes), or a 403 asking for these scopes (a
step-up). None when there is nothing to renew; it may raise ConnectionRequired when a person must consent."""


class _ConnectionCredentials:
    """A connection's credentials for a remote MCP call: its bearer token (other headers stay as they
    are), renewed through ``reauthorize`` once when the server answers 401, and with more scopes when it
    answers 403 ``insufficient_scope`` (the session limits how often)."""

    def __init__(self, auth: RequestAuth, reauthorize: Reauthorize | None) -> None:
        self._token = _bearer_token(auth)
        self.headers = {k: v for k, v in auth.headers.items() if not (self._token and k == "Authorization")}
        self._reauthorize = reauthorize
        self._refreshed = False

    async def token(self) -> str | None:
        return self._token

    async def unauthorized(self, challenge: Challenge | None) -> str | None:
        if self._refreshed:
            return None
        self._refreshed = True
        return await self._renewed(())

    async def insufficient_scope(self, challenge: Challenge) -> str | None:
        return await self._renewed(challenge.scopes) if challenge.scopes else None

    async def _renewed(self, scopes: tuple[str, ...]) -> str | None:
        if self._reauthorize is None or self._token is None:
            return None
        renewed = await self._reauthorize(scopes)
        self._token = _bearer_token(renewed) if renewed is not None else None
        return self._token


def _bearer_token(auth: RequestAuth) -> str | None:
    return bearer_token(auth.headers.get("Authorization"))
