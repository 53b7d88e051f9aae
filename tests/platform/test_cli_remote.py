"""``switchboard remote-servers``: an operator discovers and adds a remote MCP server from the shell, against
a real MCP SDK server (tests/support/remote_mcp.py) and a small document server for discovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.connectors.connections.models import ConnectionInput, Mode
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.platform.conftest import Cli, read_back
from tests.support.actors import SETUP
from tests.support.remote_mcp import FilesServer

TOKEN = "cli-token-8d2e"


@pytest.fixture(scope="module")
def files_endpoint() -> Iterator[str]:
    with FilesServer(token=TOKEN) as server:
        yield server.endpoint


def test_discover_prints_what_the_server_needs_and_refuses_loopback_without_the_allowance(
    cli: Cli, files_endpoint: str
) -> None:
    refused = cli("remote-servers", "discover", files_endpoint)
    allowed = cli("remote-servers", "discover", files_endpoint, "--allow-private")

    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: Could not fetch {files_endpoint}: only https URLs are allowed.\n"
        "For a server on this machine or the company network (plain http, private addresses), "
        "add --allow-private.\n"
    )
    # The Files server answers 401 but publishes no metadata: discovery says so, and what to do.
    assert allowed.exit_code == 1
    assert "The server requires authorization, but Switchboard cannot find out how." in allowed.stderr
    assert allowed.stderr.rstrip().endswith(
        "Enter the authorization and token URLs yourself, or use a token."
    )


def test_an_operator_adds_a_server_with_a_token_and_sees_its_tools(cli: Cli, files_endpoint: str) -> None:
    created = cli(
        "remote-servers", "create", "files", "--name", "Files", "--endpoint", files_endpoint,
        "--mode", "token", "--token", TOKEN, "--allow-private",
    )  # fmt: skip
    listed = cli("remote-servers", "list")
    as_json = cli("remote-servers", "refresh", "files")

    assert created.exit_code == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[:4] == [
        f"files\tFiles\t{files_endpoint}\ttoken",
        "  search_files\tsearch_files\tread-only",
        "  delete_file\tDelete File!\tdestructive",
        "  always_fails\talways_fails\t-",
    ]
    assert lines[4].startswith(
        "warning: The server requires authorization, but Switchboard cannot find out how."
    )
    assert TOKEN not in created.stdout
    assert listed.stdout.splitlines() == lines[:4]
    assert as_json.exit_code == 0, as_json.stderr
    assert cli("remote-servers", "delete", "files").stdout == "Remote server files removed.\n"
    assert cli("remote-servers", "list").stdout == ""


def test_mistakes_are_refused_with_one_line(cli: Cli, files_endpoint: str) -> None:
    no_token = cli(
        "remote-servers", "create", "files", "--name", "Files", "--endpoint", files_endpoint,
        "--mode", "token", "--allow-private",
    )  # fmt: skip
    bad_key = cli("remote-servers", "create", "Files!", "--name", "Files", "--endpoint", files_endpoint)
    taken = cli(
        "remote-servers", "create", "http", "--name", "Again", "--endpoint", files_endpoint,
        "--mode", "none", "--allow-private",
    )  # fmt: skip
    unknown = cli("remote-servers", "delete", "nothing")

    assert (no_token.exit_code, no_token.stderr) == (1, "error: Enter the token the server expects.\n")
    assert bad_key.exit_code == 2
    assert bad_key.stderr.endswith("- at `$.key`\n")
    assert taken.stderr == "error: The key 'http' belongs to a built-in connector; choose another key.\n"
    assert unknown.stderr == "error: There is no remote MCP server 'nothing'.\n"


def test_an_operator_offers_a_remote_tool_on_an_mcp_server_and_takes_it_back(
    cli: Cli, db_url: str, files_endpoint: str
) -> None:
    assert cli("demo").exit_code == 0
    created = cli(
        "remote-servers", "create", "files", "--name", "Files", "--endpoint", files_endpoint,
        "--mode", "token", "--token", TOKEN, "--allow-private",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr

    async def shared_connection(identity: IdentityServices) -> None:
        """A builder's shared connection to Files (made in the console; there is no command for it)."""
        settings = Settings(secret_key=TEST_SECRET, database_url=db_url, data_dir="unused")
        sign = identity.oauth.keys.sign_assertion
        connectors = ConnectorServices.from_settings(
            settings, audit=identity.oauth.audit, sign=sign, users=identity.users
        )
        project = await connectors.projects.ensure("Demo")
        data = ConnectionInput(
            name="Files (shared)", project_id=project.id, connector="files", mode=Mode.SHARED
        )
        await connectors.connections.create(data, actor=SETUP)
        await connectors.aclose()

    read_back(db_url, shared_connection)
    offered = cli("servers", "offer", "demo", "Files (shared)", "search_files", "--read-only")
    tools = cli("servers", "tools", "demo")
    unknown = cli("servers", "offer", "demo", "Files (shared)", "nothing")
    detached = cli("servers", "detach", "demo", "search_files")

    assert offered.stdout == (
        "search_files\tmcp:tools:search_files\tremote files.search_files via Files (shared)\tread-only\n"
    ), offered.stderr
    assert tools.stdout.splitlines()[-1] == offered.stdout.rstrip("\n")
    assert unknown.stderr == "error: Files has no tool 'nothing'.\n"
    assert detached.stdout == "Detached search_files from demo.\n"
