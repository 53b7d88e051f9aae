"""Helpers for per-person API keys and logins: a connector whose app takes one, and its end user's
connection."""

from __future__ import annotations

from switchboard.connectors.connections.models import Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from tests.support.connector_fixtures import allow_private


def key_definition(key: str = "keyed-app", auth: str = "{type: api_key, name: X-API-Key}") -> str:
    return f"""
key: {key}
name: Keyed App
base_url: "{{host}}"
fields:
  - {{key: host, label: Host, kind: url}}
auth: {auth}
actions:
  - {{name: whoami, title: Who am I, path: /api/me}}
"""


async def personal_connection(
    connectors: ConnectorServices,
    project: Project,
    builder: Principal,
    host: str,
    *,
    key: str = "keyed-app",
    auth: str = "{type: api_key, name: X-API-Key}",
) -> Connection:
    """An end user's connection whose people each enter their own key (or login: ``auth``)."""
    await connectors.registry.save(key_definition(key, auth), actor=builder.email)
    data = ConnectionInput(
        name="Keyed App", project_id=project.id, connector=key, mode=Mode.END_USER, fields={"host": host}
    )
    connection = await connectors.connections.create(data, actor=builder)
    return await allow_private(connectors, connection)
