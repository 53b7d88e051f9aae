"""A remote server as a connector with its key: its auth as connections know it, its tools as actions."""

from __future__ import annotations

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
from switchboard.connectors.definitions.names import action_name, unique_name
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthSettings, RemoteServer, RemoteTool


def remote_tools(tools: list[Any]) -> tuple[list[RemoteTool], list[str]]:
    """Each tool as an action (a safe, unique name); tools whose input schema is unusable are skipped."""
    described: list[RemoteTool] = []
    skipped: list[str] = []
    taken: set[str] = set()
    for tool in tools:
        schema = dict(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError:
            skipped.append(
                f"The tool {tool.name[:80]!r} was left out: its input schema is not valid JSON Schema."
            )
            continue
        if schema.get("type", "object") != "object":
            skipped.append(f"The tool {tool.name[:80]!r} was left out: its input is not an object.")
            continue
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
