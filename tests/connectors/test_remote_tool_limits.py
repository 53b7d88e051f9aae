"""A remote MCP server's tools are its own to describe, so their input schemas are held to the limits of
a connector definition's before they become actions: a tool whose schema is a reference bomb is left out,
named in the answer and the log, and the other tools stay usable. The registry keeps no remote connector
that its own checks would refuse when read again."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import mcp_types as types
import pytest

from switchboard.connectors.definitions import DocumentTooLarge, load_definition
from switchboard.connectors.deps import ConnectorServices
from switchboard.connectors.registry import ConnectorRegistry
from switchboard.connectors.remote.connector import connector_definition, remote_tools
from switchboard.connectors.remote.discovery import AuthMode
from switchboard.connectors.remote.models import AuthSettings, RemoteServer, RemoteTool
from switchboard.connectors.tables import CustomConnector
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.platform.core.errors import NotFound
from switchboard.platform.services import Services
from tests.identity.support import make_user, signed_in
from tests.support.remote_mcp import FilesServer, reference_bomb
from tests.support.web import Browserless

API = "/api/v1/remote-servers"
TOKEN = "files-token-5f1c9a"
LEFT_OUT = (
    "The tool 'summarize_everything' was left out: its input schema holds more than 20,000 values once "
    "its references are expanded."
)


@pytest.fixture(scope="module")
def costly_endpoint() -> Iterator[str]:
    """The Files server listing ``summarize_everything`` too, whose input schema is a reference bomb."""
    with FilesServer(token=TOKEN, costly_tool=True) as server:
        yield server.endpoint


async def test_a_tool_whose_input_schema_stands_for_too_much_is_left_out_and_named(
    app_services: Services,
    services: IdentityServices,
    web: Browserless,
    costly_endpoint: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="switchboard")
    await make_user(services, "it@example.com", Role.ADMIN)
    client = await signed_in(web, "it@example.com")
    server = {
        "key": "files",
        "name": "Files",
        "endpoint": costly_endpoint,
        "allow_private": True,
        "auth": {"mode": "token", "token": TOKEN},
    }

    created = await client.post(API, json=server)

    assert created.status_code == 201, created.text
    body = created.json()
    assert [tool["name"] for tool in body["tools"]] == ["search_files", "Delete File!", "always_fails"]
    assert LEFT_OUT in body["warnings"]
    connectors: ConnectorServices = app_services.connectors
    definition = await connectors.registry.get("files")
    assert [action.mcp_tool for action in definition.actions] == [
        "search_files",
        "Delete File!",
        "always_fails",
    ]
    # What was stored reads back as it was kept, in any process.
    assert await ConnectorRegistry(None).get("files") == definition
    [record] = [record for record in caplog.records if "summarize_everything" in record.getMessage()]
    assert record.name.startswith("switchboard.")
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"A remote MCP server's tool was left out: {LEFT_OUT}"


async def test_the_registry_keeps_no_remote_connector_whose_input_schemas_stand_for_too_much(
    app_services: Services,
) -> None:
    now = datetime.now(UTC)
    tool = RemoteTool(
        action="summarize_everything", name="summarize_everything", input_schema=reference_bomb()
    )
    server = RemoteServer(
        key="costly",
        name="Costly",
        endpoint="https://mcp.example.com/mcp",
        auth=AuthSettings(mode=AuthMode.NONE),
        allow_private=False,
        tools=(tool,),
        created_at=now,
        updated_at=now,
    )
    registry = app_services.connectors.registry

    with pytest.raises(DocumentTooLarge) as refused:
        await registry.save_remote(connector_definition(server), actor="it@example.com")

    assert refused.value.message == (
        "remote MCP server 'costly': `actions.summarize_everything.input_schema`: the input schema holds "
        "more than 20,000 values once its references are expanded"
    )
    assert await CustomConnector.count() == 0
    with pytest.raises(NotFound):
        await registry.get("costly")


def test_an_input_schema_may_name_its_properties_like_schema_keywords() -> None:
    # A JSON-LD record names its fields "$id" and "$ref"; a schema may refer to the JSON Schema metaschema.
    schema = {
        "type": "object",
        "properties": {
            "$id": {"type": "string"},
            "$ref": {"type": "string"},
            "schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        },
    }
    tool = types.Tool(name="find_records", input_schema=schema)

    described, skipped = remote_tools([tool])

    assert skipped == []
    assert [(action.name, action.input_schema) for action in described] == [("find_records", schema)]
    definition = load_definition(
        {
            "key": "records",
            "name": "Records",
            "base_url": "https://api.example.com",
            "actions": [{"name": "find", "title": "Find", "path": "/records", "input_schema": schema}],
        }
    )
    assert definition.actions[0].input_schema == schema
