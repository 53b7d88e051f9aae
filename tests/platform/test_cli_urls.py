"""The URLs ``switchboard`` commands print follow the public URL: configured, or where ``serve`` listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.platform import cli as cli_module
from tests.platform.conftest import Cli

pytestmark = pytest.mark.one_engine


@pytest.fixture
def serve_without_listening(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``serve`` goes as far as announcing itself, without binding a port or running the server."""
    announcements: list[str] = []
    monkeypatch.setattr(cli_module, "_listen", lambda host, port: [])
    monkeypatch.setattr(
        cli_module, "_serve", lambda app, sockets, announcement: announcements.append(announcement)
    )
    return announcements


def test_after_serve_on_another_port_commands_print_urls_on_that_port(
    cli: Cli, serve_without_listening: list[str]
) -> None:
    assert cli("serve", "--port", "9123").exit_code == 0
    demo = cli("demo")
    created = cli("servers", "create", "sales", "--name", "Sales tools")

    assert serve_without_listening == [
        "Switchboard is serving on http://127.0.0.1:9123 (public URL http://127.0.0.1:9123)"
    ]
    assert demo.stdout.splitlines()[-1] == (
        "Demo Tasks: http://127.0.0.1:9123/demo-tasks (same accounts and password)"
    )
    assert created.stdout == "Created MCP server sales: http://127.0.0.1:9123/mcp/sales\n", created.stderr


def test_a_configured_public_url_wins_over_where_serve_listened(
    cli: Cli, serve_without_listening: list[str]
) -> None:
    assert cli("serve", "--port", "9123").exit_code == 0
    created = cli(
        "servers", "create", "sales", "--name", "Sales", SWITCHBOARD_BASE_URL="https://sb.example.com"
    )

    assert created.stdout == "Created MCP server sales: https://sb.example.com/mcp/sales\n", created.stderr


def test_the_configured_port_gives_the_urls_before_any_serve(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text("[switchboard]\nport = 9200\n")

    created = cli("--config", str(config), "servers", "create", "sales", "--name", "Sales")

    assert created.stdout == "Created MCP server sales: http://127.0.0.1:9200/mcp/sales\n", created.stderr
