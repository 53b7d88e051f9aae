"""Helpers for grant tests: a connector for a test provider, an end user's connection, connecting."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import httpx
import msgspec

from switchboard.connectors.connections.models import Connected, Connection, ConnectionInput, Mode, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from tests.support.connector_fixtures import allow_private
from tests.support.fault_provider import FaultProvider


def provider_definition(
    key: str, issuer: str, *, scopes: tuple[str, ...] = ("tasks:read", "tasks:write")
) -> str:
    scope_list = ", ".join(f'{{name: "{scope}"}}' for scope in scopes)
    return f"""
key: {key}
name: Test App
base_url: "{{host}}"
fields:
  - {{key: host, label: Host, kind: url}}
auth:
  type: oauth2_authorization_code
  provider:
    authorize_url: "{{host}}/authorize"
    token_url: "{{host}}/token"
    revocation_url: "{{host}}/revoke"
    userinfo_url: "{{host}}/userinfo"
    issuer: "{issuer}"
    scopes: [{scope_list}]
actions:
  - {{name: whoami, title: Who am I, path: /api/me}}
"""


async def fake_connection(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    **changes: object,
) -> Connection:
    await connectors.registry.save(provider_definition("test-app", fake.issuer), actor=builder.email)
    data = ConnectionInput(
        name="Test App",
        project_id=project.id,
        connector="test-app",
        mode=Mode.END_USER,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        scopes=("tasks:read",),
        fields={"host": fake.issuer},
    )
    connection = await connectors.connections.create(msgspec.structs.replace(data, **changes), actor=builder)
    return await allow_private(connectors, connection)


def link_token(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def callback_params(authorize_url: str) -> dict[str, str]:
    """Follow the app's authorization URL (the fake approves at once) to the redirect back to Switchboard."""
    async with httpx.AsyncClient() as http:
        response = await http.get(authorize_url)
    assert response.status_code in {302, 303}, response.text
    location = response.headers["location"]
    assert location.startswith("http://testserver.local/connections/callback?"), location
    return dict(parse_qsl(urlsplit(location).query))


async def connect(connectors: ConnectorServices, user_id: UUID, connection_id: UUID) -> Connected:
    """What a person does: open their connect link, let the app approve, come back."""
    link = await connectors.grants.connect_link(user_id, connection_id)
    authorize_url = await connectors.connect.open_link(link_token(link), user_id)
    return await connectors.connect.finish(await callback_params(authorize_url), user_id)
