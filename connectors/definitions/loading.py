"""Reading connector definitions from YAML or JSON, with errors that name the field at fault.

A document is refused before anything else reads it when it is larger than ``MAX_DEFINITION_BYTES``,
nests deeper than ``MAX_DEPTH`` or holds more than ``MAX_VALUES`` values once its YAML aliases are expanded;
an action's input schema when following its references would visit more than ``MAX_SCHEMA_VALUES`` (see
``limits``). Everything here is CPU work that grows with the document: callers serving requests run it in
a worker thread.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from switchboard.connectors.definitions.limits import (
    MAX_DEFINITION_BYTES,
    MAX_DEPTH,
    MAX_SCHEMA_VALUES,
    MAX_VALUES,
    TooMuch,
    check_size,
    schema_problem,
)
from switchboard.connectors.definitions.messages import plain_problem
from switchboard.connectors.definitions.model import (
    PLACEHOLDER,
    Action,
    ConnectorDefinition,
    OAuthProvider,
)
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, checked_url

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_DEPTH",
    "MAX_SCHEMA_VALUES",
    "MAX_VALUES",
    "DefinitionError",
    "DocumentTooLarge",
    "dump_definition",
    "is_acceptable_url",
    "load_definition",
    "parse_document",
]

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DefinitionError(InvalidInput):
    """A connector definition is malformed; the message names where (``actions.list_tasks.path``) and why.

    ``path`` is that place alone, for forms that show the message next to the field and for API clients.
    """

    def __init__(self, message: str, *, field: str | None = None, path: str = "") -> None:
        super().__init__(message, field=field)
        self.path = path

    def details(self) -> dict[str, Any]:
        return {"path": self.path} if self.path else {}


class DocumentTooLarge(DefinitionError):
    """A document past one of the limits on its size: refused as a bad request, before any more work."""

    status = 400


def parse_document(text: str | bytes, *, source: str) -> Any:
    """YAML (a superset of JSON) into plain data, refusing oversized or unparsable documents."""
    size = len(text) if isinstance(text, bytes) or text.isascii() else len(text.encode("utf-8"))
    if size > MAX_DEFINITION_BYTES:
        raise DocumentTooLarge(f"{source}: the document is larger than {MAX_DEFINITION_BYTES // 1024} KiB")
    try:
        # libyaml's safe loader when PyYAML was built with it: the same documents, several times faster.
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
        if "nesting depth" in problem:  # libyaml's own limit, far past ours
            raise DocumentTooLarge(f"{source}: the document nests deeper than {MAX_DEPTH} levels") from None
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DefinitionError(f"{source}: {where}{_yaml_hint(problem)}") from exc
    except RecursionError:  # the pure-Python parser, without libyaml
        raise DocumentTooLarge(f"{source}: the document nests deeper than {MAX_DEPTH} levels") from None
    _check_size(data, source=source, what="the document")
    return data


# What the parser's words usually mean in a hand-written definition.
_YAML_HINTS = {
    "mapping values are not allowed": "a value with a colon in it needs quotes",
    "found a tab character": "indent with spaces, not tabs",
    "found character '\\t'": "indent with spaces, not tabs",
    "found character that cannot start any token": "a tab, or a character such as @ that needs quotes",
    "could not find expected ':'": "each field is written `name: value`",
}


def _yaml_hint(problem: str) -> str:
    hint = next((hint for start, hint in _YAML_HINTS.items() if problem.startswith(start)), None)
    return f"{problem} ({hint})" if hint else problem


class _PastLimit(str):
    """A problem that is a limit passed, not a mistake: refused as ``DocumentTooLarge``."""

    __slots__ = ()


def _check_size(data: Any, *, source: str, what: str) -> None:
    try:
        check_size(data, what=what)
    except TooMuch as exc:
        raise DocumentTooLarge(f"{source}: {exc}") from None


def load_definition(data: str | bytes | dict[str, Any], *, source: str = "definition") -> ConnectorDefinition:
    """Check a definition (text or already-parsed data) and return it."""
    if isinstance(data, str | bytes):
        raw = parse_document(data, source=source)
    else:
        raw = data
        _check_size(raw, source=source, what="the definition")
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: a connector definition must be a mapping of fields")
    try:
        definition = msgspec.convert(raw, ConnectorDefinition, strict=False)
    except msgspec.ValidationError as exc:
        problem = plain_problem(str(exc), raw)
        raise DefinitionError(f"{source}: {problem.text}", path=problem.path) from exc
    problems = list(_problems(definition))
    if problems:
        error = DocumentTooLarge if isinstance(problems[0], _PastLimit) else DefinitionError
        problem = plain_problem(problems[0], raw)
        raise error(f"{source}: {problem.text}", path=problem.path)
    return definition


def dump_definition(definition: ConnectorDefinition) -> str:
    """The definition as YAML, the form builders edit: only what differs from the defaults."""
    return str(yaml.safe_dump(_plain(definition), sort_keys=False, allow_unicode=True, width=100))


def _plain(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        data: dict[str, Any] = {config.tag_field: config.tag} if config.tag_field and config.tag else {}
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            if field.default is not msgspec.NODEFAULT and item == field.default:
                continue
            if field.default_factory is not msgspec.NODEFAULT and item == field.default_factory():
                continue
            data[field.encode_name] = _plain(item)
        return data
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _problems(definition: ConnectorDefinition) -> Any:
    # A remote MCP server's connector is written by Switchboard (builders cannot save one): when an admin
    # allowed the server onto private addresses, its plain-http addresses stand, and every call to them
    # goes through the outbound policy with that allowance.
    any_http = definition.mcp is not None and definition.mcp.allow_private
    field_keys = {field.key for field in definition.fields}
    if len(field_keys) != len(definition.fields):
        yield "two connection fields have the same key - at `$.fields`"
    for index, field in enumerate(definition.fields):
        if field.kind == "url" and field.default and not is_acceptable_url(field.default):
            yield f"the default is not an https URL - at `$.fields[{index}].default`"
    yield from _template_problems(definition.base_url, field_keys, "$.base_url", any_http=any_http)
    if (
        definition.base_url
        and not definition.base_url.startswith("{")
        and not is_acceptable_url(definition.base_url, any_http=any_http)
    ):
        yield "must be an https URL (http only for this machine) - at `$.base_url`"
    provider = definition.provider
    if provider is not None:
        yield from _provider_problems(provider, field_keys, definition.auth_type, any_http=any_http)
    names: set[str] = set()
    for index, action in enumerate(definition.actions):
        if action.name in names:
            yield f"the action name {action.name!r} is used twice - at `$.actions[{index}].name`"
        names.add(action.name)
        yield from _action_problems(action, f"$.actions[{index}]")


def _provider_problems(
    provider: OAuthProvider, field_keys: set[str], auth_type: str, *, any_http: bool
) -> Any:
    where = "$.auth.provider"
    if auth_type == "oauth2_authorization_code" and not provider.authorize_url:
        yield f"an authorization code grant needs an authorize URL - at `{where}.authorize_url`"
    for name in ("authorize_url", "token_url", "revocation_url", "userinfo_url"):
        yield from _template_problems(
            getattr(provider, name), field_keys, f"{where}.{name}", any_http=any_http
        )
    for index, scope in enumerate(provider.default_scopes):
        if not scope or any(char.isspace() for char in scope):
            yield f"a scope cannot be empty or contain spaces - at `{where}.default_scopes[{index}]`"
    if not provider.account_label:
        yield f"name at least one userinfo field - at `{where}.account_label`"


def _template_problems(template: str, field_keys: set[str], where: str, *, any_http: bool = False) -> Any:
    for name in PLACEHOLDER.findall(template):
        if name not in field_keys:
            yield f"{{{name}}} names no connection field - at `{where}`"
    concrete = PLACEHOLDER.sub("x", template)
    if template and not template.startswith("{") and not is_acceptable_url(concrete, any_http=any_http):
        yield f"must be an https URL (http only for this machine) - at `{where}`"


def _action_problems(action: Action, where: str) -> Any:
    try:
        Draft202012Validator.check_schema(action.input_schema)
    except SchemaError as exc:
        yield f"not a valid JSON Schema: {_clip(exc.message, 300)} - at `{where}.input_schema`"
        return
    costly = schema_problem(action.input_schema)
    if costly is not None:
        yield _PastLimit(f"{costly} - at `{where}.input_schema`")
        return
    if action.input_schema.get("type", "object") != "object":
        yield f'an action\'s input schema must have type "object" - at `{where}.input_schema.type`'
    if action.raw_http or action.mcp_tool:
        return
    if not action.path.startswith("/") and not action.path.startswith("{"):
        yield f"a path starts with / - at `{where}.path`"
    properties = action.input_schema.get("properties", {})
    for name in PLACEHOLDER.findall(action.path):
        if name not in properties:
            yield f"{{{name}}} names no input - at `{where}.path`"
    mapping = action.request
    for group in ("query", "headers", "body_fields"):
        for key, input_name in getattr(mapping, group).items():
            if input_name not in properties:
                yield f"{input_name!r} names no input - at `{where}.request.{group}.{key}`"
    if mapping.body_from and mapping.body_from not in properties:
        yield f"{mapping.body_from!r} names no input - at `{where}.request.body_from`"
    if (mapping.body_fields or mapping.body_from) and mapping.body == "none":
        yield f'say how the body is sent ("json" or "form") - at `{where}.request.body`'
    if action.method == "GET" and mapping.body != "none":
        yield f"a GET request has no body - at `{where}.request.body`"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_acceptable_url(url: str, *, any_http: bool = False) -> bool:
    """An absolute https URL, or http for this machine (local development and tests; for any host with
    ``any_http``), that the outbound policy's check of a URL's form passes (a host spelt as DNS or a plain
    IP address, a port in range)."""
    try:
        parts = urlsplit(url)
        checked_url(url, FetchPolicy(require_https=False))
    except (ValueError, FetchRefused):
        return False
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (any_http or parts.hostname in {"localhost", "127.0.0.1", "::1"})
