"""An app's answer to a connector action: the output it gives, or the failure it means.

Output: JSON (narrowed by the action's ``select`` and ``pick``), text (cut at ``MAX_TEXT_CHARS``), a
placeholder for binary content, or what a remote MCP tool returned. Failures become ``ActionFailed`` with
a message a person can act on ("GitHub answered 404: Not Found") and data the caller decides by: whether
repeating the call may help, whether the app refused the credentials (401), which scopes it wanted (403
``insufficient_scope``). An app that repeats what it was sent cannot put a credential into a message.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec

from switchboard.connectors.action_requests import (
    JSON_TYPE,
    MAX_DETAIL_CHARS,
    RequestAuth,
    display_url,
    shorten,
)
from switchboard.connectors.definitions import Action, ConnectorDefinition, OutputMapping
from switchboard.connectors.remote.metadata import bearer_challenge
from switchboard.platform.core.errors import DomainError
from switchboard.platform.core.json_nesting import loads as load_json

MAX_TEXT_CHARS = 20_000
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


def tool_text(content: list[Any]) -> str:
    return "\n".join(item.text for item in content if getattr(item, "type", "") == "text")


def tool_output(result: Any) -> Any:
    """A tool's content: its text (JSON when the text is JSON), or the content items as data."""
    if all(getattr(item, "type", "") == "text" for item in result.content):
        text = tool_text(result.content)
        try:
            return load_json(text)
        except ValueError:
            return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "\n… (truncated)"
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in result.content]


def read_output(
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
        data = load_json(content)
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


def failure_of(
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
    detail = redact(_detail(status, headers, content), auth)
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
            data = load_json(content)
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


def redact(text: str, auth: RequestAuth) -> str:
    """An app that repeats what it was sent must not put a credential into an error message."""
    for value in (*auth.headers.values(), *auth.query.values()):
        for secret in (value, value.partition(" ")[2]):  # the whole value first, then without its scheme
            if len(secret) >= 8:
                text = text.replace(secret, "[redacted]")
    return text
