"""``--help`` on every command of ``switchboard``, and the commands the public contract promises."""

from __future__ import annotations

import click
import pytest

from switchboard.platform.cli import main
from tests.platform.conftest import Cli, clean_environment


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand, as the words a user types after ``switchboard``."""
    paths: list[tuple[str, ...]] = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


ALL_COMMANDS = command_paths(main)


@pytest.fixture
def help_cli() -> Cli:
    """The CLI with settings so broken that any command touching them would fail."""
    return Cli(clean_environment(SWITCHBOARD_PORT="abc", SWITCHBOARD_DATABASE_URL="mysql://nowhere/db"))


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "switchboard")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_works_on_every_command_without_settings_or_a_database(
    help_cli: Cli, path: tuple[str, ...], flag: str
) -> None:
    result = help_cli(*path, flag)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: {' '.join(('switchboard', *path))} ")
    assert "Options:" in result.stdout
    assert result.stderr == ""


def test_every_command_has_a_one_line_summary() -> None:
    def summaries(group: click.Group) -> list[tuple[str, str]]:
        found = []
        for name, command in group.commands.items():
            found.append((name, command.get_short_help_str()))
            if isinstance(command, click.Group):
                found.extend(summaries(command))
        return found

    missing = [name for name, summary in summaries(main) if not summary]
    assert missing == []


@pytest.mark.parametrize(
    "path",
    [
        ("serve",),
        ("db", "migrate"),
        ("db", "status"),
        ("demo",),
        ("users", "create"),
        ("users", "list"),
        ("users", "set-role"),
        ("users", "deactivate"),
        ("users", "activate"),
        ("users", "reset-password"),
        ("groups", "create"),
        ("groups", "list"),
        ("groups", "add-member"),
        ("groups", "remove-member"),
        ("groups", "rename"),
        ("groups", "delete"),
    ],
    ids=" ".join,
)
def test_the_documented_command_exists(path: tuple[str, ...]) -> None:
    assert path in ALL_COMMANDS


def test_serve_help_names_its_host_and_port_options(help_cli: Cli) -> None:
    result = help_cli("serve", "--help")
    assert "--host TEXT" in result.stdout
    assert "--port INTEGER" in result.stdout


def test_an_unknown_command_is_refused_by_click(help_cli: Cli) -> None:
    result = help_cli("frobnicate")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: No such command 'frobnicate'."
