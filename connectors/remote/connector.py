"""A remote server as a connector with its key: its auth as connections know it, its tools as actions.

A remote server describes its own tools, so their input schemas are held to the limits of a connector
definition's (``definitions.limits``) before they become actions: each call's arguments are validated
against them, and the connector, stored as a definition, must read back whole in any process.
"""

from __future__ import annotations

import logging
from typing import Any

from jsonschema import Draft202012Validator, SchemaError

from switchboard.connectors.definitions import (
    Action,
    ApiKeyAuth,
    AuthorizationCodeAuth,
    BearerAuth,
    ClientCredentialsAuth,
    ConnectorDefinition,
    NoAuth,
    OAuthProvider,
    RemoteMcp,
)
from switchboard.connectors.definitions.limits import MAX_VALUES, TooMuch, check_size, schema_problem
from switchboard.connectors.definitions.names import action_name, unique_name
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthSettings, RemoteServer, RemoteTool

log = logging.getLogger("switchboard.connectors")

# Room in a connector definition's ``MAX_VALUES`` for all but the input schemas: the definition's own
# fields, and each action's.
_RESERVED_VALUES = 1_000
_VALUES_PER_ACTION = 10


def remote_tools(tools: list[Any]) -> tuple[list[RemoteTool], list[str]]:
    """Each tool as an action (a safe, unique name). A tool whose input schema is unusable, too costly to
    validate against (``schema_problem``), or past what the connector's definition can hold with the
    tools before it, is left out: named in what is returned, and in the log."""
    described: list[RemoteTool] = []
    skipped: list[str] = []
    taken: set[str] = set()
    room = MAX_VALUES - _RESERVED_VALUES
    for tool in tools:
        schema = dict(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
        problem, values = _schema_problem(schema, room)
        if problem:
            skipped.append(f"The tool {tool.name[:80]!r} was left out: {problem}.")
            log.warning("A remote MCP server's tool was left out: %s", skipped[-1])
            continue
        room -= values
        action = unique_name(action_name(tool.name, prefix="t") or "tool", taken)
        annotations = tool.annotations
        described.append(
            RemoteTool(
                action=action,
                name=tool.name,
                title=(tool.title or (annotations.title if annotations else None) or tool.name)[:120],
                description=(tool.description or "")[:2000],
                input_schema=schema,
                read_only=bool(annotations and annotations.read_only_hint),
                destructive=bool(annotations and annotations.destructive_hint),
            )
        )
    return described, skipped


def _schema_problem(schema: dict[str, Any], room: int) -> tuple[str, int]:
    """What makes ``schema`` unusable as an action's input schema ('' if nothing), and the values it adds
    to the definition. Its size is measured first, so that the costlier checks only see what fits."""
    try:
        values = check_size(schema, what="its input schema") + _VALUES_PER_ACTION
    except TooMuch as exc:
        return str(exc), 0
    if values > room:
        return f"the server's tools hold more than {MAX_VALUES:,} values together", 0
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return "its input schema is not valid JSON Schema", 0
    costly = schema_problem(schema, what="its input schema")
    if costly is not None:
        return costly, 0
    if schema.get("type", "object") != "object":
        return "its input is not an object", 0
    return "", values


def connector_definition(server: RemoteServer) -> ConnectorDefinition:
    """A remote server's connector: its auth as the connections machinery knows it, its tools as actions."""
    auth = server.auth
    definition_auth: Any
    if auth.mode is AuthMode.NONE:
        definition_auth = NoAuth()
    elif auth.mode is AuthMode.TOKEN:
        header = auth.header
        definition_auth = (
            BearerAuth()
            if not header or header.lower() == "authorization"
            else ApiKeyAuth(location="header", name=header)
        )
    elif auth.mode is AuthMode.CLIENT_CREDENTIALS:
        definition_auth = ClientCredentialsAuth(provider=_provider(auth))
    else:
        definition_auth = AuthorizationCodeAuth(provider=_provider(auth))
    actions = tuple(
        Action(
            name=tool.action,
            title=tool.title or tool.name,
            description=tool.description,
            input_schema=tool.input_schema or {"type": "object", "properties": {}},
            idempotent=tool.read_only,
            mcp_tool=tool.name,
        )
        for tool in server.tools
    )
    return ConnectorDefinition(
        key=server.key,
        name=server.name,
        description=f"Remote MCP server at {server.endpoint}",
        icon="🛰️",
        auth=definition_auth,
        actions=actions,
        mcp=RemoteMcp(endpoint=server.endpoint, allow_private=server.allow_private),
    )


def _provider(auth: AuthSettings) -> OAuthProvider:
    """The server's authorization server as connections use it (the resource always sent)."""
    return OAuthProvider(
        authorize_url=auth.auth_url,
        token_url=auth.token_url,
        revocation_url=auth.revocation_url,
        issuer=auth.issuer,
        default_scopes=auth.scopes,
        send_resource=True,
        resource=auth.resource,
        require_iss=auth.iss_parameter_supported,
        token_endpoint_auth_method="client_secret_post"
        if auth.token_endpoint_auth_method == "client_secret_post"
        else "client_secret_basic",
    )
