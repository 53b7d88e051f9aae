"""Calling a connector's action: inputs checked against its JSON Schema, one HTTP request, the output taken.

The request is built by ``action_requests``, which keeps each input in its place and adds the connection's
credentials last. Redirects are not followed: the credentials would go wherever the redirect pointed. One
HTTP client serves every caller, so it keeps no cookies.

Failures become ``ActionFailed`` with a message a person can act on ("GitHub answered 404: Not Found"),
whether the call may be repeated, and whether the app refused the credentials (401). Repeating is the
recipe engine's decision, not the runner's.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from switchboard.connectors.action_requests import (
    JSON_TYPE,
    MAX_DETAIL_CHARS,
    HttpRequest,
    RequestAuth,
    build_request,
    check_inputs,
    display_url,
    shorten,
)
from switchboard.connectors.definitions import Action, ConnectorDefinition, OutputMapping, RemoteMcp
from switchboard.connectors.remote.errors import RemoteError
from switchboard.connectors.remote.metadata import Challenge, bearer_challenge
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.session_pool import SessionPool
from switchboard.platform.core import tls
from switchboard.platform.core.errors import DomainError, NotFound

log = logging.getLogger("switchboard.connectors")

__all__ = ["ActionFailed", "ActionResult", "ActionRunner", "Reauthorize", "RequestAuth", "check_inputs"]

MAX_TEXT_CHARS = 20_000
_RETRYABLE_REMOTE = frozenset({"timeout", "network", "server_error", "rate_limited"})
_TEXT_TYPE = re.compile(r"^(text/|application/([\w.+-]*\+)?(xml|x-www-form-urlencoded|javascript))", re.I)


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    output: Any
    duration_ms: int


class ActionFailed(DomainError):
    """The app failed or refused the call. The message never holds a credential or a stack trace.

    ``retryable``: repeating the same call may succeed (the app was unreachable, busy or failing, and the
    action is safe to repeat). ``auth_problem``: the app refused the credentials (401), so the caller's
    connection may need reconnecting. ``required_scopes``: the app refused for want of these scopes (403
    ``insufficient_scope``, RFC 6750 §3.1).
    """

    code = "action_failed"
    status = 502

    def __init__(
        self,
        message: str,
        *,
        app: str,
        http_status: int | None = None,
        retryable: bool = False,
        auth_problem: bool = False,
        required_scopes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.app = app
        self.http_status = http_status
        self.retryable = retryable
        self.auth_problem = auth_problem
        self.required_scopes = required_scopes


class ActionRunner:
    def __init__(
        self,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = 5 * 1024 * 1024,
        network: Network | None = None,
        on_tools_changed: ToolsChanged | None = None,
    ) -> None:
        self._timeout = timeout
        self._network = network or Network()
        self._sessions = SessionPool(self._network)
        self._on_tools_changed = on_tools_changed
        self._max_bytes = max_response_bytes
        # One client for all callers: it must not carry cookies from one user's call into another's.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            verify=tls.client_context(),
            follow_redirects=False,
            cookies=no_cookies,
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
            raise _failure(definition, action, status, headers, content, auth)
        output = _output(definition, action.output, status, headers, content)
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
                    _redact(error.message, auth),
                    app=app,
                    http_status=httpx.codes.UNAUTHORIZED if refused else None,
                    auth_problem=refused,
                    retryable=error.problem in _RETRYABLE_REMOTE and action.is_idempotent,
                ) from None
        duration_ms = round((time.monotonic() - started) * 1000)
        if session.tools_changed and self._on_tools_changed is not None:
            await self._tools_changed(definition.key, credentials)
        if result.is_error:
            detail = shorten(_tool_text(result.content) or "no details", MAX_DETAIL_CHARS)
            raise ActionFailed(f"{app}'s tool {action.mcp_tool} failed: {_redact(detail, auth)}", app=app)
        output = result.structured_content if result.structured_content is not None else _tool_output(result)
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
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            host = urlsplit(request.url).netloc
            raise ActionFailed(
                f"{app} cannot be reached at {host} ({_reason(exc)}).", app=app, retryable=True
            ) from exc
        except httpx.TimeoutException as exc:
            # The request may have been carried out: only an action safe to repeat is retryable.
            raise ActionFailed(
                f"{app} did not answer within {self._timeout:g} s.", app=app, retryable=action.is_idempotent
            ) from exc
        except httpx.HTTPError as exc:
            raise ActionFailed(
                f"{app} broke off the answer ({_reason(exc)}).", app=app, retryable=action.is_idempotent
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
    scheme, _, token = auth.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _tool_text(content: list[Any]) -> str:
    return "\n".join(item.text for item in content if getattr(item, "type", "") == "text")


def _tool_output(result: Any) -> Any:
    """A tool's content: its text (JSON when the text is JSON), or the content items as data."""
    if all(getattr(item, "type", "") == "text" for item in result.content):
        text = _tool_text(result.content)
        try:
            return json.loads(text)
        except ValueError:
            return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "\n… (truncated)"
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in result.content]


def _output(
    definition: ConnectorDefinition,
    mapping: OutputMapping,
    status: int,
    headers: httpx.Headers,
    content: bytes,
) -> Any:
    if not content.strip():
        return None
    content_type = headers.get("content-type", "")
    if not JSON_TYPE.match(content_type):
        return _text(content, content_type)
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ActionFailed(
            f"{definition.name} answered {status} with malformed JSON.",
            app=definition.name,
            http_status=status,
        ) from exc
    if mapping.select:
        found, data = _dig(data, mapping.select)
        if not found:
            raise ActionFailed(
                f"{definition.name}'s answer has no {mapping.select!r}; check the connector's output.",
                app=definition.name,
                http_status=status,
            )
    if mapping.pick:
        if isinstance(data, list):
            return [_picked(item, mapping.pick) if isinstance(item, dict) else item for item in data]
        if isinstance(data, dict):
            return _picked(data, mapping.pick)
    return data


def _text(content: bytes, content_type: str) -> str:
    if content_type and not _TEXT_TYPE.match(content_type):
        kind = content_type.split(";")[0].strip()
        return f"({len(content)} bytes of {kind})"
    charset = httpx.Response(200, headers={"content-type": content_type}).charset_encoding or "utf-8"
    try:
        text = content.decode(charset, errors="replace")
    except LookupError:
        text = content.decode("utf-8", errors="replace")
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS] + f"\n… (truncated: {len(text) - MAX_TEXT_CHARS} more characters)"
    return text


def _dig(data: Any, path: str) -> tuple[bool, Any]:
    """A dotted path into JSON: ``tasks``, ``data.items``, ``items.0.id``."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, None
    return True, data


def _picked(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The named keys of an object; a dotted key (``user.login``) keeps the nesting: {"user": {"login"}}."""
    result: dict[str, Any] = {}
    for key in keys:
        found, value = _dig(item, key)
        if not found:
            continue
        *parents, last = key.split(".")
        target = result
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return result


def _failure(
    definition: ConnectorDefinition,
    action: Action,
    status: int,
    headers: httpx.Headers,
    content: bytes,
    auth: RequestAuth,
) -> ActionFailed:
    app = definition.name
    if 300 <= status < 400:
        where = headers.get("location", "")
        return ActionFailed(
            f"{app} answered {status} and pointed to {display_url(where) if where else 'nowhere'}; "
            "redirects are not followed, so check the connection's address.",
            app=app,
            http_status=status,
        )
    detail = _redact(_detail(status, headers, content), auth)
    message = f"{app} answered {status}: {detail}" if detail else f"{app} answered {status}"
    if status == httpx.codes.FORBIDDEN:
        challenge = bearer_challenge(headers.get("www-authenticate", ""))
        if challenge is not None and challenge.error == "insufficient_scope" and challenge.scopes:
            return ActionFailed(f"{message}.", app=app, http_status=status, required_scopes=challenge.scopes)
    if status == httpx.codes.UNAUTHORIZED:
        return ActionFailed(
            f"{message}. The credentials were refused: reconnect the account or check the connection.",
            app=app,
            http_status=status,
            auth_problem=True,
        )
    if status == httpx.codes.TOO_MANY_REQUESTS:
        wait = headers.get("retry-after", "")
        later = f"try again in {wait} s" if wait.isdigit() else "try again later"
        return ActionFailed(f"{message}; {later}.", app=app, http_status=status, retryable=True)
    if status >= httpx.codes.INTERNAL_SERVER_ERROR:
        return ActionFailed(
            f"{message}; try again later.", app=app, http_status=status, retryable=action.is_idempotent
        )
    return ActionFailed(f"{message}.", app=app, http_status=status)


def _detail(status: int, headers: httpx.Headers, content: bytes) -> str:
    """The app's own words for the failure: a Bearer challenge naming the scope needed, a JSON error
    message, another Bearer challenge, or the first line of a short text."""
    challenge = _bearer_challenge(headers.get("www-authenticate", ""))
    if "(needs " in challenge:
        return shorten(challenge, MAX_DETAIL_CHARS)
    if JSON_TYPE.match(headers.get("content-type", "")) or content.lstrip()[:1] in (b"{", b"["):
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        from_json = _json_detail(data)
        if from_json:
            return shorten(from_json, MAX_DETAIL_CHARS)
    if challenge:
        return shorten(challenge, MAX_DETAIL_CHARS)
    content_type = headers.get("content-type", "")
    if (
        content
        and _TEXT_TYPE.match(content_type or "text/plain")
        and not content_type.startswith("text/html")
    ):
        first = content.decode("utf-8", errors="replace").strip().splitlines()
        return shorten(first[0], MAX_DETAIL_CHARS) if first else ""
    return ""


def _json_detail(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    error, description = data.get("error"), data.get("error_description")
    if isinstance(error, dict):  # {"error": {"message": ...}}, as Google and others answer
        return _json_detail(error)
    if isinstance(error, str) and error and isinstance(description, str) and description:
        return f"{error} ({description})"
    for key in ("message", "detail", "error_description", "error", "title", "msg"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip() + _field_errors(data.get("errors"))
    return ""


def _field_errors(errors: Any) -> str:
    """GitHub's 422 names each field at fault: ``Validation Failed (title: missing_field)``."""
    if not isinstance(errors, list):
        return ""
    parts: list[str] = []
    for item in errors[:5]:
        if isinstance(item, dict):
            text = item.get("message") or ": ".join(
                str(item[key]) for key in ("field", "code") if isinstance(item.get(key), str)
            )
            if text:
                parts.append(str(text))
        elif isinstance(item, str):
            parts.append(item)
    return f" ({'; '.join(parts)})" if parts else ""


def _bearer_challenge(header: str) -> str:
    """RFC 6750 §3: ``Bearer error="insufficient_scope", scope="tasks:write"`` -> the error and scope."""
    challenge = bearer_challenge(header)
    if challenge is None or not challenge.error:
        return ""
    scope, description = challenge.params.get("scope"), challenge.params.get("error_description")
    if scope:
        return f"{challenge.error} (needs {scope})"
    if description:
        return f"{challenge.error} ({description})"
    return challenge.error


def _redact(text: str, auth: RequestAuth) -> str:
    """An app that repeats what it was sent must not put a credential into an error message."""
    for value in (*auth.headers.values(), *auth.query.values()):
        for secret in (value, value.partition(" ")[2]):  # the whole value first, then without its scheme
            if len(secret) >= 8:
                text = text.replace(secret, "[redacted]")
    return text


def _reason(exc: BaseException) -> str:
    return type(exc).__name__
