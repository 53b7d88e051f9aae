"""An action's HTTP request, built from its inputs and the connection's values and credentials.

The inputs come from a recipe step, often from an agent, so each part is put where it belongs and nowhere
else: path placeholders are percent-encoded (a ``/``, ``?`` or ``..`` in an input cannot change the path),
header values cannot break a line, the generic HTTP action's URL must stay at the connection's address, and
the connection's credentials are added last, so neither the definition nor an input replaces them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import msgspec
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from switchboard.connectors.definitions import Action, ConnectorDefinition, is_acceptable_url
from switchboard.connectors.definitions.model import PLACEHOLDER
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, checked_url

MAX_DETAIL_CHARS = 300
USER_AGENT = "Switchboard"
# Set by the HTTP client itself; an input that set them could smuggle a second request or another host.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "upgrade", "te"})
JSON_TYPE = re.compile(r"^application/([\w.+-]*\+)?json\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


class RequestAuth(msgspec.Struct, frozen=True, kw_only=True):
    """What a connection contributes to a call: its field values (defaults applied) and credentials."""

    values: dict[str, str] = {}
    headers: dict[str, str] = {}
    query: dict[str, str] = {}


def build_request(
    definition: ConnectorDefinition, action: Action, inputs: dict[str, Any], auth: RequestAuth
) -> HttpRequest:
    """The HTTP request for an action, inputs already checked; credentials added last."""
    values = _field_values(definition, auth)
    if action.raw_http:
        request = _raw_request(definition, inputs, values, auth)
    else:
        request = _mapped_request(definition, action, inputs, values)
    _add_auth(request, auth)
    return request


class HttpRequest(msgspec.Struct, kw_only=True):
    """The request to send; the URL has no query (its parameters are in ``query``)."""

    method: str
    url: str
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    content: bytes | None = None


def check_inputs(action: Action, inputs: Any) -> None:
    """The inputs against the action's JSON Schema (2020-12); the error names the input at fault."""
    if not isinstance(inputs, dict):
        raise InvalidInput("The inputs must be an object.", field="inputs")
    error = best_match(Draft202012Validator(action.input_schema).iter_errors(inputs))
    if error is None:
        return
    where = _error_place(error)
    message = shorten(error.message, MAX_DETAIL_CHARS)
    raise InvalidInput(
        f"{where}: {message}" if where else message, field=f"inputs.{where}" if where else "inputs"
    )


def _error_place(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    wanted = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(wanted, list):
        missing = [name for name in wanted if name not in error.instance]
        named = next((name for name in missing if error.message == f"{name!r} is a required property"), None)
        if named is not None:
            path.append(named)
    return ".".join(path)


def _field_values(definition: ConnectorDefinition, auth: RequestAuth) -> dict[str, str]:
    values = {field.key: field.default for field in definition.fields}
    values.update({key: value for key, value in auth.values.items() if value})
    return values


def fill_template(definition: ConnectorDefinition, template: str, values: dict[str, str]) -> str:
    """A URL template with the connection's field values: URL fields as they are (they were checked as
    URLs), anything else percent-encoded so it stays inside its part of the URL."""

    def value_of(match: re.Match[str]) -> str:
        field = definition.field(match.group(1))
        value = values.get(match.group(1), "")
        if field is not None and not value and field.required:
            raise InvalidInput(
                f"The connection has no {field.label}; enter it in the connection.",
                field=f"fields.{field.key}",
            )
        if field is not None and field.kind == "url":
            return value.rstrip("/")
        return quote(value, safe="")

    return PLACEHOLDER.sub(value_of, template)


def _base_url(definition: ConnectorDefinition, values: dict[str, str]) -> str:
    base = fill_template(definition, definition.base_url, values).rstrip("/")
    problem = url_problem(base) if base else None
    if problem:
        raise InvalidInput(f"{definition.name}'s address cannot be used: {problem}.", field="fields")
    if base and not is_acceptable_url(base):
        raise InvalidInput(
            f"{definition.name}'s address {display_url(base)} is not an https URL; check the connection.",
            field="fields",
        )
    return base


def _path_value(name: str, value: Any) -> str:
    text = _scalar(value)
    if text in {"", ".", ".."}:
        raise InvalidInput(f"{name}: {text!r} cannot be part of the path.", field=f"inputs.{name}")
    return quote(text, safe="")


def _mapped_request(
    definition: ConnectorDefinition, action: Action, inputs: dict[str, Any], values: dict[str, str]
) -> HttpRequest:
    base = _base_url(definition, values)
    if not base:
        raise InvalidInput(f"{definition.name} has no base URL to send {action.name!r} to.", field="fields")
    path = PLACEHOLDER.sub(lambda match: _path_value(match.group(1), inputs.get(match.group(1))), action.path)
    mapping = action.request
    request = _new_request(action.method, base + path, definition)
    for parameter, name in mapping.query.items():
        if inputs.get(name) is not None:
            request.query.extend(_query_items(parameter, inputs[name]))
    for header, name in mapping.headers.items():
        if inputs.get(name) is not None:
            _set_header(request.headers, header, _scalar(inputs[name]), f"inputs.{name}")
    if mapping.body == "none":
        return request
    if mapping.body_from:
        body = inputs.get(mapping.body_from)
    elif mapping.body_fields:
        body = {key: inputs[name] for key, name in mapping.body_fields.items() if name in inputs}
    else:
        # No mapping named: what the path, query and headers did not take is the body.
        used = {*PLACEHOLDER.findall(action.path), *mapping.query.values(), *mapping.headers.values()}
        body = {name: value for name, value in inputs.items() if name not in used}
    _set_body(request, mapping.body, body)
    return request


def _new_request(method: str, url: str, definition: ConnectorDefinition) -> HttpRequest:
    """A request whose URL's own query (``/orders?status=open``) is kept as parameters: the HTTP client
    would otherwise replace it with the mapped ones, and the credentials' must replace a same-named one."""
    parts = urlsplit(url)
    query = list(httpx.QueryParams(parts.query).multi_items())
    bare = parts._replace(query="").geturl()
    return HttpRequest(method=method, url=bare, query=query, headers=dict(definition.headers))


def _set_body(request: HttpRequest, kind: str, body: Any) -> None:
    if body is None:
        return
    if kind == "form":
        if not isinstance(body, dict):
            raise InvalidInput("A form body must be an object.", field="inputs")
        items = [
            item for key, value in body.items() if value is not None for item in _query_items(key, value)
        ]
        request.content = str(httpx.QueryParams(tuple(items))).encode()
        request.headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return
    request.content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    request.headers.setdefault("Content-Type", "application/json")


def _raw_request(
    definition: ConnectorDefinition, inputs: dict[str, Any], values: dict[str, str], auth: RequestAuth
) -> HttpRequest:
    """The generic HTTP action: method, url, headers, query and body all come from the inputs.

    A relative url is joined to the connection's base URL. An absolute one must stay at the base URL's
    origin; without a base URL it is allowed only when the connection adds no credentials, so a step
    cannot send a connection's credentials to a host the builder did not choose.
    """
    base = _base_url(definition, values)
    url = str(inputs.get("url", ""))
    method = str(inputs.get("method") or "GET").upper()
    if "://" in url:
        problem = url_problem(url)
        if problem:
            raise InvalidInput(f"url: {problem}.", field="inputs.url")
        if not is_acceptable_url(url):
            raise InvalidInput(f"url: {display_url(url)} is not an https URL.", field="inputs.url")
        if base and _origin(url) != _origin(base):
            raise InvalidInput(
                f"url: {display_url(url)} is not at the connection's address {display_url(base)}.",
                field="inputs.url",
            )
        if not base and (auth.headers or auth.query):
            raise InvalidInput(
                "url: this connection sends credentials, so give a path; its base URL is added.",
                field="inputs.url",
            )
        full = url
    elif base:
        if _DOT_SEGMENT.search(url.split("?", 1)[0]):
            raise InvalidInput(
                "url: a path cannot climb out of the base URL with . or ..", field="inputs.url"
            )
        full = base + "/" + url.lstrip("/")
    else:
        raise InvalidInput(
            "url: give an absolute https URL, or set a base URL on the connection.", field="inputs.url"
        )
    request = _new_request(method, full, definition)
    for name, value in (inputs.get("query") or {}).items():
        if value is not None:
            request.query.extend(_query_items(str(name), value))
    for name, value in (inputs.get("headers") or {}).items():
        _set_header(request.headers, str(name), str(value), f"inputs.headers.{name}")
    body = inputs.get("body")
    if body is not None:
        if method == "GET":
            raise InvalidInput("body: a GET request has no body.", field="inputs.body")
        content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
        if isinstance(body, str) and content_type and not JSON_TYPE.match(content_type):
            request.content = body.encode()
        else:
            _set_body(request, "json", body)
    return request


def _add_auth(request: HttpRequest, auth: RequestAuth) -> None:
    """Credentials last, replacing any header or query parameter of the same name."""
    for name, value in auth.headers.items():
        _set_header(request.headers, name, value, "connection")
    names = {name for name in auth.query}
    request.query = [(key, value) for key, value in request.query if key not in names]
    request.query.extend(auth.query.items())
    request.headers.setdefault("User-Agent", USER_AGENT)
    if not any(key.lower() == "accept" for key in request.headers):
        request.headers["Accept"] = "application/json"


def _set_header(headers: dict[str, str], name: str, value: str, field: str) -> None:
    if name.lower() in RESERVED_HEADERS or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
        raise InvalidInput(f"{field}: the header {name[:60]!r} cannot be set.", field=field)
    if _CONTROL.search(value.replace("\t", " ")):
        raise InvalidInput(f"{field}: a header value cannot contain line breaks.", field=field)
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def _query_items(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, list | tuple):
        return [(name, _scalar(item)) for item in value if item is not None]
    return [(name, _scalar(value))]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def url_problem(url: str) -> str | None:
    """Why an http or https ``url`` cannot be sent to, by the outbound policy's check of its form (its host's
    spelling, its port; the address is checked when connecting). None when it can, and for a URL of another
    scheme or none, which ``is_acceptable_url`` refuses in its own words."""
    if not url.lower().startswith(("https://", "http://")):
        return None
    try:
        checked_url(url, FetchPolicy(require_https=False))
    except FetchRefused as refused:
        return refused.detail
    return None


def shorten(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def display_url(url: str) -> str:
    """An address without user name, password or query, which may hold a signature or a key."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an invalid address"
    if ":" in host:
        host = f"[{host}]"
    return shorten(f"{parts.scheme}://{host}{port}{parts.path}" if host else parts.path, 200)
