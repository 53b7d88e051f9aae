"""``switchboard connectors add`` and ``import-openapi`` refuse documents built to stall the server, at once
and naming the limit, and store nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from switchboard.connectors.definitions.loading import MAX_DEPTH, MAX_VALUES
from tests.connectors.oversized import alias_bomb, deep_json, openapi_alias_bomb
from tests.platform.conftest import Cli

TOO_MANY_VALUES = f"the document holds more than {MAX_VALUES:,} values once its YAML aliases are expanded"


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        ("add", alias_bomb(6, 9), f"definition: {TOO_MANY_VALUES}"),
        ("add", deep_json(200), f"definition: the document nests deeper than {MAX_DEPTH} levels"),
        ("import-openapi", openapi_alias_bomb(6, 9), f"OpenAPI document: {TOO_MANY_VALUES}"),
    ],
    ids=["alias bomb", "deep nesting", "openapi alias bomb"],
)
def test_a_document_built_to_stall_the_server_is_refused_at_once_naming_the_limit(
    cli: Cli, tmp_path: Path, command: str, text: str, message: str
) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(text)

    started = time.monotonic()
    result = cli("connectors", command, str(path))

    assert time.monotonic() - started < 5
    assert (result.exit_code, result.stderr) == (1, f"error: {message}\n")
    listed = cli("connectors", "list")
    assert [line.split("\t")[3] for line in listed.stdout.splitlines()] == ["built-in"] * 3
