"""The connector registry: built-in connectors, a folder of definition files, and custom ones saved in the
database (on both engines)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.connectors.definitions import DefinitionError, load_definition
from switchboard.connectors.registry import ConnectorRegistry, ConnectorSummary
from switchboard.connectors.tables import Connection, CustomConnector, Project
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import Conflict, NotFound
from tests.support.actors import SETUP

DOCUMENTS = Path(__file__).parent / "openapi"


def definition_text(key: str, name: str, *, comment: str = "") -> str:
    return f"""{comment}
key: {key}
name: {name}
base_url: https://{key}.example.com
auth: {{type: bearer}}
actions:
  - name: ping
    title: Ping
    path: /ping
"""


def write(folder: Path, file_name: str, text: str, *, later_by: int = 0) -> Path:
    """Write a file; ``later_by`` seconds moves its modification time on, as a later edit would."""
    path = folder / file_name
    path.write_text(text)
    if later_by:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + later_by * 1_000_000_000))
    return path


# -- the folder (no database needed while a folder or built-in connector has the key) ----------------------


async def test_a_definition_file_in_the_folder_is_picked_up(tmp_path: Path) -> None:
    write(tmp_path, "crm.yaml", definition_text("crm", "CRM"))
    write(
        tmp_path, "billing.json", '{"key": "billing", "name": "Billing", "base_url": "https://b.example.com"}'
    )
    registry = ConnectorRegistry(tmp_path)

    assert (await registry.get("crm")).name == "CRM"
    assert (await registry.get("billing")).name == "Billing"
    assert registry.problems() == []


async def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, "crm.yml", definition_text("crm", "CRM"))
    registry = ConnectorRegistry(tmp_path)
    assert (await registry.get("crm")).name == "CRM"

    write(tmp_path, "crm.yml", definition_text("crm", "Sales CRM"), later_by=1)

    assert (await registry.get("crm")).name == "Sales CRM"


async def test_a_bad_file_is_reported_with_its_name_and_field_while_the_others_load(tmp_path: Path) -> None:
    write(tmp_path, "crm.yaml", definition_text("crm", "CRM"))
    write(tmp_path, "broken.yaml", definition_text("broken", "Broken").replace("/ping", "/ping/{id}"))
    write(tmp_path, "garbled.yaml", "key: [unclosed\n")
    write(tmp_path, "README.md", "not a definition")
    write(tmp_path, ".hidden.yaml", "key: [unclosed\n")
    registry = ConnectorRegistry(tmp_path)

    assert (await registry.get("crm")).name == "CRM"
    problems = registry.problems()
    assert problems[0] == "broken.yaml: `actions.ping.path`: {id} names no input"
    assert problems[1].startswith("garbled.yaml: ")
    assert len(problems) == 2


async def test_a_file_fixed_after_a_problem_is_picked_up(tmp_path: Path) -> None:
    write(tmp_path, "crm.yaml", "key: [unclosed\n")
    registry = ConnectorRegistry(tmp_path)
    assert len(registry.problems()) == 1

    write(tmp_path, "crm.yaml", definition_text("crm", "CRM"), later_by=1)

    assert registry.problems() == []
    assert (await registry.get("crm")).name == "CRM"


async def test_a_built_in_key_wins_and_the_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "my-github.yaml", definition_text("github", "Not GitHub"))
    registry = ConnectorRegistry(tmp_path)

    assert (await registry.get("github")).name == "GitHub"
    assert registry.problems() == ["my-github.yaml: `key`: the key 'github' belongs to a built-in connector"]


async def test_two_files_with_one_key_keep_the_first_by_name(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", definition_text("crm", "First"))
    write(tmp_path, "b.yaml", definition_text("crm", "Second"))
    registry = ConnectorRegistry(tmp_path)

    assert (await registry.get("crm")).name == "First"
    assert registry.problems() == ["b.yaml: `key`: the key 'crm' is already used by a.yaml"]


async def test_a_missing_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    registry = ConnectorRegistry(tmp_path / "nowhere")

    assert (await registry.get("http")).name == "HTTP request"
    assert registry.problems() == [
        f"{tmp_path / 'nowhere'}: the connectors folder cannot be read (No such file or directory)"
    ]


# -- with the database -------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "connectors"
    path.mkdir()
    return path


@pytest.fixture
def registry(database: Database, folder: Path) -> ConnectorRegistry:
    return ConnectorRegistry(folder)


async def test_the_list_has_built_ins_then_folder_then_custom_connectors(
    registry: ConnectorRegistry, folder: Path
) -> None:
    write(folder, "crm.yaml", definition_text("crm", "CRM"))
    await registry.save(definition_text("billing", "Billing"), actor="builder@example.com")

    listed = await registry.list()

    assert [(item.key, item.origin) for item in listed] == [
        ("demo-tasks", "built-in"),
        ("github", "built-in"),
        ("http", "built-in"),
        ("crm", "folder"),
        ("billing", "custom"),
    ]
    assert listed[1] == ConnectorSummary(
        key="github",
        name="GitHub",
        icon="🐙",
        description=listed[1].description,
        auth_type="oauth2_authorization_code",
        origin="built-in",
        action_count=3,
    )
    assert listed[4].auth_type == "bearer"


@pytest.mark.both_engines
async def test_a_custom_connector_is_saved_as_written(registry: ConnectorRegistry) -> None:
    source = definition_text("billing", "Billing", comment="# Our billing system")

    saved = await registry.save(source, actor="builder@example.com")

    assert saved == await registry.get("billing")
    assert await registry.origin("billing") == "custom"
    assert await registry.source("billing") == source
    row = await CustomConnector.select().where(CustomConnector.key == "billing").first()
    assert row is not None
    assert (row["source"], row["created_by"]) == (source, "builder@example.com")


@pytest.mark.both_engines
async def test_saving_the_same_key_again_updates_the_custom_connector(registry: ConnectorRegistry) -> None:
    await registry.save(definition_text("billing", "Billing"), actor="ann@example.com")
    first = await CustomConnector.select().first()

    await registry.save(definition_text("billing", "Billing v2"), actor="bob@example.com")

    assert (await registry.get("billing")).name == "Billing v2"
    rows = await CustomConnector.select()
    assert len(rows) == 1
    assert first is not None
    assert rows[0]["created_by"] == "ann@example.com"
    assert rows[0]["created_at"] == first["created_at"]
    assert rows[0]["updated_at"] >= first["updated_at"]


async def test_a_custom_connector_cannot_take_a_built_in_or_folder_key(
    registry: ConnectorRegistry, folder: Path
) -> None:
    write(folder, "crm.yaml", definition_text("crm", "CRM"))

    with pytest.raises(Conflict) as built_in:
        await registry.save(definition_text("github", "My GitHub"), actor="builder@example.com")
    with pytest.raises(Conflict) as in_folder:
        await registry.save(definition_text("crm", "My CRM"), actor="builder@example.com")

    assert built_in.value.message == "The key 'github' belongs to a built-in connector; choose another key."
    assert in_folder.value.message == "The key 'crm' belongs to a folder connector; choose another key."
    assert built_in.value.field == "key"
    assert await CustomConnector.count() == 0


async def test_a_wrong_custom_definition_is_refused_and_not_stored(registry: ConnectorRegistry) -> None:
    with pytest.raises(DefinitionError) as refused:
        await registry.save(
            definition_text("billing", "Billing").replace("bearer", "kerberos"), actor="b@example.com"
        )

    assert refused.value.message == (
        "definition: `auth.type` must be one of none, api_key, bearer, basic, oauth2_authorization_code, "
        "oauth2_client_credentials, oauth2_token_exchange; got 'kerberos'."
    )
    assert await CustomConnector.count() == 0


async def test_an_unknown_key_is_not_found_by_name(registry: ConnectorRegistry) -> None:
    with pytest.raises(NotFound) as missing:
        await registry.get("nothing")

    assert missing.value.message == "There is no connector 'nothing'."


@pytest.mark.both_engines
async def test_a_deleted_custom_connector_is_gone(registry: ConnectorRegistry) -> None:
    await registry.save(definition_text("billing", "Billing"), actor="builder@example.com")

    await registry.delete("billing", actor=SETUP)

    with pytest.raises(NotFound):
        await registry.get("billing")
    assert "billing" not in [item.key for item in await registry.list()]


async def test_only_custom_connectors_can_be_deleted(registry: ConnectorRegistry, folder: Path) -> None:
    write(folder, "crm.yaml", definition_text("crm", "CRM"))

    with pytest.raises(Conflict) as built_in:
        await registry.delete("github", actor=SETUP)
    with pytest.raises(Conflict) as in_folder:
        await registry.delete("crm", actor=SETUP)
    with pytest.raises(NotFound):
        await registry.delete("nothing", actor=SETUP)

    assert (
        built_in.value.message == "'github' is a built-in connector; only custom connectors can be deleted."
    )
    assert in_folder.value.message == "'crm' is a folder connector; only custom connectors can be deleted."


@pytest.mark.both_engines
async def test_a_custom_connector_in_use_by_a_connection_is_not_deleted(registry: ConnectorRegistry) -> None:
    await registry.save(definition_text("billing", "Billing"), actor="builder@example.com")
    now = datetime.now(UTC)
    project = uuid.uuid4()
    await Project.insert(Project(id=project, name="Finance", name_key="finance", created_at=now))
    await Connection.insert(
        Connection(
            id=uuid.uuid4(),
            project=project,
            name="Billing",
            name_key="billing",
            connector="billing",
            mode="shared",
            auth_type="bearer",
            settings={},
            created_at=now,
            updated_at=now,
        )
    )

    with pytest.raises(Conflict) as refused:
        await registry.delete("billing", actor=SETUP)

    assert refused.value.message == "1 connection uses 'billing'; delete them first."
    assert (await registry.get("billing")).name == "Billing"


async def test_a_removed_folder_file_is_no_longer_a_connector(
    registry: ConnectorRegistry, folder: Path
) -> None:
    path = write(folder, "crm.yaml", definition_text("crm", "CRM"))
    assert (await registry.get("crm")).name == "CRM"

    path.unlink()

    with pytest.raises(NotFound):
        await registry.get("crm")


async def test_a_custom_connector_hidden_by_a_later_folder_file_is_reported(
    registry: ConnectorRegistry, folder: Path
) -> None:
    await registry.save(definition_text("crm", "Custom CRM"), actor="builder@example.com")
    write(folder, "crm.yaml", definition_text("crm", "Folder CRM"))

    listed = await registry.list()

    assert [(item.key, item.origin) for item in listed if item.key == "crm"] == [("crm", "folder")]
    assert (await registry.get("crm")).name == "Folder CRM"
    assert registry.problems() == ["custom connector 'crm': hidden by the folder connector of that key"]


async def test_an_openapi_document_is_imported_as_a_custom_connector_in_yaml(
    registry: ConnectorRegistry,
) -> None:
    text = (DOCUMENTS / "petstore.yaml").read_text()

    imported = await registry.import_openapi(text, actor="builder@example.com", key="pets")

    assert imported.key == "pets"
    assert await registry.get("pets") == imported
    stored = await registry.source("pets")
    assert stored.startswith("key: pets\nname: Swagger Petstore\n")
    assert load_definition(stored) == imported
    assert [item.origin for item in await registry.list() if item.key == "pets"] == ["custom"]


async def test_a_built_in_connectors_source_is_its_yaml(registry: ConnectorRegistry) -> None:
    source = await registry.source("demo-tasks")

    assert load_definition(source) == await registry.get("demo-tasks")
    assert await registry.origin("demo-tasks") == "built-in"
