"""Turning an OpenAPI 3 document into a connector definition: its server, operations and parameters."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from switchboard.connectors.definitions import (
    ConnectorDefinition,
    DefinitionError,
    is_acceptable_url,
    load_definition,
    parse_document,
)
from switchboard.connectors.definitions.model import PLACEHOLDER
from switchboard.connectors.definitions.names import action_name, unique_name
from switchboard.connectors.openapi.document import METHODS, Document, clip, object_parts, problem
from switchboard.connectors.openapi.security import auth_of


def definition_from_openapi(
    document: str | bytes | dict[str, Any], *, key: str | None = None, name: str | None = None
) -> ConnectorDefinition:
    """The connector described by an OpenAPI 3 document; ``DefinitionError`` names the place at fault."""
    data = (
        parse_document(document, source="OpenAPI document") if isinstance(document, str | bytes) else document
    )
    if not isinstance(data, dict):
        raise DefinitionError("An OpenAPI document is a mapping with an `openapi` field.", field="document")
    _check_version(data)
    return _Importer(data).definition(key=key, name=name)


def _check_version(data: dict[str, Any]) -> None:
    if "swagger" in data:
        raise problem(
            f"this is a Swagger {data['swagger']} document; only OpenAPI 3.0 and 3.1 can be imported. "
            "Convert it to OpenAPI 3 first (the Swagger Editor can)",
            "swagger",
        )
    version = data.get("openapi")
    if not isinstance(version, str) or not re.match(r"^3\.\d+(\.\d+)?", version):
        raise problem("not an OpenAPI 3 document (it needs `openapi: 3.0.x` or `3.1.x`)", "openapi")


class _Importer:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.document = Document(data)

    def definition(self, *, key: str | None, name: str | None) -> ConnectorDefinition:
        info = self.data.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        if not name and not (isinstance(title, str) and title.strip()):
            raise problem("the document has no title to name the connector by", "info.title")
        display = clip(name or str(title), 120)
        connector_key = key or _key_from(display)
        base_url, fields = self._server()
        raw: dict[str, Any] = {
            "key": connector_key,
            "name": display,
            "description": clip(_text(info, "description") or _text(info, "summary"), 2000),
            "base_url": base_url,
            "fields": fields,
            "auth": auth_of(self.document, base_url),
            "actions": self._actions(),
        }
        docs = self.data.get("externalDocs")
        if isinstance(docs, dict) and isinstance(docs.get("url"), str) and is_acceptable_url(docs["url"]):
            raw["docs_url"] = docs["url"]
        return load_definition(raw, source="OpenAPI document")

    def _server(self) -> tuple[str, list[dict[str, Any]]]:
        servers = self.data.get("servers")
        server = servers[0] if isinstance(servers, list) and servers else None
        url = server.get("url") if isinstance(server, dict) else None
        if url is None:
            return "{host}", [_host_field()]
        if not isinstance(url, str):
            raise problem("a server URL is text", "servers[0].url")
        variables = server.get("variables") if isinstance(server, dict) else None
        concrete = _with_variables(url, variables if isinstance(variables, dict) else {})
        if "://" not in concrete:
            return "{host}" + concrete.rstrip("/"), [_host_field()]
        if "{" in url or not is_acceptable_url(concrete):
            default = concrete.rstrip("/") if is_acceptable_url(concrete) and "{" not in concrete else ""
            note = (
                "" if default or "{" in url else f"The document names {concrete}; apps are called over https."
            )
            return "{host}", [_host_field(default=default, note=note)]
        return concrete.rstrip("/"), []

    def _actions(self) -> list[dict[str, Any]]:
        paths = self.data.get("paths")
        if paths is None:
            return []
        if not isinstance(paths, dict):
            raise problem("`paths` maps each path to its operations", "paths")
        actions: list[dict[str, Any]] = []
        names: set[str] = set()
        for path, item in paths.items():
            where = f"paths.{path}"
            if not isinstance(path, str) or not path.startswith("/"):
                raise problem("a path starts with /", where)
            item, _ = self.document.resolved(item, where)
            if not isinstance(item, dict):
                raise problem("a path item is a mapping of operations", where)
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                if not isinstance(operation, dict):
                    raise problem("an operation is a mapping", f"{where}.{method}")
                action = self._action(path, method, item, operation, f"{where}.{method}")
                if action is None:
                    continue
                action["name"] = unique_name(action["name"], names)
                actions.append(action)
        return actions

    def _action(
        self, path: str, method: str, item: dict[str, Any], operation: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        properties: dict[str, Any] = {}
        required: list[str] = []
        request: dict[str, Any] = {}
        for parameter, place in self._parameters(item, operation, where):
            path = self._add_parameter(parameter, place, path, properties, required, request)
        for placeholder in PLACEHOLDER.findall(path):
            if placeholder not in properties:  # a path parameter the document forgot to declare
                properties[placeholder] = {"type": "string"}
                required.append(placeholder)
        undeclared = re.sub(PLACEHOLDER, "", path)
        if "{" in undeclared or "}" in undeclared:
            raise problem("a path placeholder names no parameter", where)
        if method != "get" and "requestBody" in operation:
            body = self._body(operation["requestBody"], f"{where}.requestBody", properties, required)
            if body is None:
                return None
            request.update(body)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = list(dict.fromkeys(required))
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise problem(f"a schema is not valid JSON Schema ({exc.message})", where) from exc
        operation_id = operation.get("operationId")
        summary, description = _text(operation, "summary"), _text(operation, "description")
        name = action_name(operation_id) if isinstance(operation_id, str) else ""
        title = clip(summary.splitlines()[0] if summary else _title_of(operation_id, method, path), 120)
        action: dict[str, Any] = {
            "name": name or action_name(f"{method}_{path}") or method,
            "title": title,
            "description": clip(description or (summary if summary != title else ""), 2000),
            "method": method.upper(),
            "path": path,
            "input_schema": schema,
            "request": request,
        }
        if method in ("put", "delete"):
            action["idempotent"] = True
        return action

    def _parameters(
        self, item: dict[str, Any], operation: dict[str, Any], where: str
    ) -> list[tuple[dict[str, Any], str]]:
        """Path-level parameters, overridden by the operation's own with the same name and location."""
        found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for owner, place in ((item, where.rsplit(".", 1)[0]), (operation, where)):
            listed = owner.get("parameters") or []
            if not isinstance(listed, list):
                raise problem("`parameters` is a list", f"{place}.parameters")
            for index, entry in enumerate(listed):
                parameter, at = self.document.resolved(entry, f"{place}.parameters[{index}]")
                if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
                    raise problem("a parameter needs a `name`", at)
                if parameter.get("in") not in ("path", "query", "header", "cookie"):
                    raise problem("a parameter's `in` is path, query, header or cookie", at)
                found[(parameter["name"], parameter["in"])] = (parameter, at)
        return list(found.values())

    def _add_parameter(
        self,
        parameter: dict[str, Any],
        place: str,
        path: str,
        properties: dict[str, Any],
        required: list[str],
        request: dict[str, Any],
    ) -> str:
        original, location = parameter["name"], parameter["in"]
        if location == "cookie" or (
            location == "header" and original.lower() in ("accept", "content-type", "authorization")
        ):
            return path  # OpenAPI says these headers are ignored; cookies are not sent
        input_name = _free_name(_identifier(original), properties, prefix=location)
        schema = parameter.get("schema")
        if schema is None and isinstance(parameter.get("content"), dict):
            media = next(iter(parameter["content"].values()), None)
            schema = media.get("schema") if isinstance(media, dict) else None
        converted = self.document.schema(
            schema if schema is not None else {"type": "string"}, f"{place}.schema"
        )
        if parameter.get("description") and isinstance(converted, dict) and "description" not in converted:
            converted = {**converted, "description": clip(str(parameter["description"]), 2000)}
        properties[input_name] = converted
        if location == "path" or parameter.get("required") is True:
            required.append(input_name)
        if location == "path":
            if "{" + original + "}" not in path:
                raise problem(f"the path has no {{{original}}}", place)
            return path.replace("{" + original + "}", "{" + input_name + "}")
        group = "query" if location == "query" else "headers"
        request.setdefault(group, {})[original] = input_name
        return path

    def _body(
        self, entry: Any, where: str, properties: dict[str, Any], required: list[str]
    ) -> dict[str, Any] | None:
        """The request mapping for the body; its inputs are added to ``properties``. None: not sendable."""
        body, at = self.document.resolved(entry, where)
        if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
            raise problem("a request body needs `content`", at)
        chosen = _media_type(body["content"])
        if chosen is None:
            return None if body.get("required") else {}
        media_type, kind = chosen
        media = body["content"][media_type]
        raw_schema = media.get("schema", {}) if isinstance(media, dict) else {}
        schema = self.document.schema(raw_schema, f"{at}.content.{media_type}.schema", for_request=True)
        flat = object_parts(schema)
        if flat is not None:
            fields, needed = flat
            names = {_identifier(name) for name in fields}
            if fields and len(names) == len(fields) and not names & properties.keys():
                body_fields: dict[str, str] = {}
                for name, property_schema in fields.items():
                    properties[_identifier(name)] = property_schema
                    body_fields[name] = _identifier(name)
                required.extend(_identifier(name) for name in needed if name in fields)
                return {"body": kind, "body_fields": body_fields}
        input_name = _free_name("body", properties, prefix="request")
        if isinstance(schema, dict) and body.get("description") and "description" not in schema:
            schema = {**schema, "description": clip(str(body["description"]), 2000)}
        properties[input_name] = schema
        if body.get("required") is True:
            required.append(input_name)
        return {"body": kind, "body_from": input_name}


def _media_type(content: dict[str, Any]) -> tuple[str, str] | None:
    for media_type in content:
        if re.match(r"^application/([\w.+-]*\+)?json\b", str(media_type), re.IGNORECASE):
            return media_type, "json"
    if "application/x-www-form-urlencoded" in content:
        return "application/x-www-form-urlencoded", "form"
    return None


def _host_field(*, default: str = "", note: str = "") -> dict[str, Any]:
    field: dict[str, Any] = {
        "key": "host",
        "label": "Host",
        "kind": "url",
        "placeholder": "https://api.example.com",
        "help": " ".join(filter(None, ["The API's address, up to where its paths begin.", note])),
    }
    if default:
        field["default"] = default
    return field


def _with_variables(url: str, variables: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        default = variable.get("default") if isinstance(variable, dict) else None
        return str(default) if default is not None else match.group(0)

    return re.sub(r"\{([^{}]+)\}", value, url)


def _key_from(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise problem("the title gives no usable key; give the connector a key", "info.title")
    if not slug[0].isalpha():
        slug = "api-" + slug
    return slug[:63].rstrip("-")


def _identifier(name: str) -> str:
    """An input name that can stand in a path placeholder: letters, digits and _."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return text if text and not text[0].isdigit() else "_" + text


def _free_name(name: str, taken: dict[str, Any], *, prefix: str) -> str:
    if name not in taken:
        return name
    candidate = f"{prefix}_{name}"
    number = 2
    while candidate in taken:
        candidate = f"{prefix}_{name}_{number}"
        number += 1
    return candidate


def _title_of(operation_id: Any, method: str, path: str) -> str:
    if isinstance(operation_id, str) and action_name(operation_id):
        return action_name(operation_id).replace("_", " ").capitalize()
    return f"{method.upper()} {path}"


def _text(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    return value.strip() if isinstance(value, str) else ""
