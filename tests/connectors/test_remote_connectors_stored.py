"""A remote MCP server's connector is stored and read again by every process: one an admin allowed onto a
private plain-http address reads back as it was saved (builders cannot write such a connector)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.connectors.definitions import DefinitionError, dump_definition, load_definition
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.connector import connector_definition
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthSettings, RemoteServer, RemoteTool
from switchboard.platform.services import Services


def internal_server(*, allow_private: bool) -> RemoteServer:
    now = datetime.now(UTC)
    return RemoteServer(
        key="wiki",
        name="Wiki",
        endpoint="http://10.0.0.5:8080/mcp",
        auth=AuthSettings(
            mode=AuthMode.AUTHORIZATION_CODE,
            client_id="switchboard",
            auth_url="http://10.0.0.5:8080/authorize",
            token_url="http://10.0.0.5:8080/token",
        ),
        allow_private=allow_private,
        tools=(RemoteTool(action="search", name="search", input_schema={"type": "object"}),),
        created_at=now,
        updated_at=now,
    )


async def test_an_allowed_private_http_server_reads_back_in_another_process(app_services: Services) -> None:
    definition = connector_definition(internal_server(allow_private=True))
    await app_services.connectors.registry.save_remote(definition, actor="it@example.com")

    elsewhere = ConnectorRegistry(None)  # another process: nothing cached
    found = await elsewhere.get("wiki")

    assert found.mcp is not None
    assert found.mcp.endpoint == "http://10.0.0.5:8080/mcp"
    assert found.provider is not None
    assert found.provider.authorize_url == "http://10.0.0.5:8080/authorize"


def test_plain_http_to_another_machine_stays_refused_without_the_allowance() -> None:
    definition = connector_definition(internal_server(allow_private=False))

    with pytest.raises(DefinitionError, match=r"`auth\.provider\.authorize_url`: must be an https URL"):
        load_definition(dump_definition(definition))
