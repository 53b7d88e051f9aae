"""``switchboard users …`` and ``switchboard demo``: what an operator types, and what gets stored."""

from __future__ import annotations

import json

import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from switchboard.platform.core.errors import NotAuthenticated
from switchboard.platform.mcp.deps import McpServices
from tests.platform.conftest import Cli, read_back, stderr_lines

PASSWORD = "long-enough-password"


def stored_user(db_url: str, email: str) -> UserOut | None:
    async def find(services: IdentityServices) -> UserOut | None:
        return await services.users.find_by_email(email)

    return read_back(db_url, find)


def password_works(db_url: str, email: str, password: str) -> bool:
    async def sign_in(services: IdentityServices) -> bool:
        try:
            await services.sessions.sign_in(email, password, ip_address="127.0.0.1", user_agent="tests")
        except NotAuthenticated:
            return False
        return True

    return read_back(db_url, sign_in)


def create(cli: Cli, email: str, *options: str) -> None:
    result = cli("users", "create", email, "--password", PASSWORD, *options)
    assert result.exit_code == 0, result.stderr


# -- demo -------------------------------------------------------------------------------------------


def test_demo_seeds_the_documented_users_and_group(cli: Cli, db_url: str) -> None:
    result = cli("demo")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Demo data: group Sales, user admin@example.com (owner), user alice@example.com (member), "
        "alice@example.com in group Sales, user bob@example.com (member), "
        "connection Demo Tasks, recipe whoami (published version 1), "
        "recipe list_tasks (published version 1), recipe create_task (published version 1), "
        "MCP server demo, tool create_task on demo, tool list_tasks on demo, tool whoami on demo",
        "Demo sign-in: admin@example.com, alice@example.com, bob@example.com (password switchboard-demo)",
        "Demo Tasks: http://127.0.0.1:8000/demo-tasks (same accounts and password)",
    ]

    async def everyone(services: IdentityServices) -> list[tuple[str, Role, list[str]]]:
        return [(u.email, u.role, [g.name for g in u.groups]) for u in await services.users.list_all()]

    assert read_back(db_url, everyone) == [
        ("admin@example.com", Role.OWNER, []),
        ("alice@example.com", Role.MEMBER, ["Sales"]),
        ("bob@example.com", Role.MEMBER, []),
    ]
    assert password_works(db_url, "alice@example.com", "switchboard-demo")

    async def demo_server(_: IdentityServices) -> tuple[str, str, list[str], list[tuple[str, bool]]]:
        servers = McpServices.create().servers
        server = await servers.get_by_slug("demo")
        tools = [(tool.tool_name, tool.read_only) for tool in await servers.tools(server.id)]
        return server.access_method.value, server.name, [g.name for g in server.groups], tools

    assert read_back(db_url, demo_server) == (
        "identity",
        "Demo",
        ["Sales"],
        [("create_task", False), ("list_tasks", True), ("whoami", True)],
    )


def test_demo_run_twice_changes_nothing_the_second_time(cli: Cli, db_url: str) -> None:
    assert cli("demo").exit_code == 0
    before = cli("users", "list", "--json").stdout
    again = cli("demo")
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == "Demo data: already in place."
    assert cli("users", "list", "--json").stdout == before
    assert cli("groups", "list").stdout == "Sales\t1 member(s)\talice@example.com\n"


def test_demo_puts_back_a_missing_membership(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    assert cli("groups", "remove-member", "Sales", "alice@example.com").exit_code == 0
    again = cli("demo")
    assert again.stdout.splitlines()[0] == "Demo data: alice@example.com in group Sales"


# -- users create -------------------------------------------------------------------------------------


def test_users_create_stores_a_user_with_a_lower_cased_email(cli: Cli, db_url: str) -> None:
    result = cli(
        "users", "create", "Carol@Example.com", "--password", PASSWORD, "--role", "admin", "--name", "Carol"
    )
    assert result.exit_code == 0
    assert result.stdout == "carol@example.com\tadmin\tactive\tgroups: -\n"
    user = stored_user(db_url, "carol@example.com")
    assert user is not None
    assert (user.email, user.name, user.role, user.is_active) == (
        "carol@example.com",
        "Carol",
        Role.ADMIN,
        True,
    )
    assert password_works(db_url, "carol@example.com", PASSWORD)


def test_users_create_makes_a_member_by_default(cli: Cli, db_url: str) -> None:
    create(cli, "dave@example.com")
    user = stored_user(db_url, "dave@example.com")
    assert user is not None
    assert user.role is Role.MEMBER


def test_users_create_asks_for_the_password_twice_when_not_given(cli: Cli, db_url: str) -> None:
    result = cli("users", "create", "erin@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0
    assert PASSWORD not in result.output
    assert password_works(db_url, "erin@example.com", PASSWORD)


def test_users_create_prints_json_when_asked(cli: Cli) -> None:
    result = cli("users", "create", "frank@example.com", "--password", PASSWORD, "--json")
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed["email"] == "frank@example.com"
    assert printed["role"] == "member"
    assert printed["groups"] == []
    assert "password" not in result.stdout


def test_users_create_refuses_an_email_taken_in_another_case(cli: Cli, db_url: str) -> None:
    create(cli, "carol@example.com", "--role", "admin")
    result = cli("users", "create", "CAROL@example.COM", "--password", PASSWORD)
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: A user with the e-mail carol@example.com already exists."]
    user = stored_user(db_url, "carol@example.com")
    assert user is not None
    assert user.role is Role.ADMIN


def test_users_create_refuses_an_unknown_role_before_touching_the_database(cli: Cli, db_url: str) -> None:
    result = cli("users", "create", "gina@example.com", "--password", PASSWORD, "--role", "wizard")
    assert result.exit_code == 2
    assert stderr_lines(result) == [
        "Usage: switchboard users create [OPTIONS] EMAIL",
        "Try 'switchboard users create --help' for help.",
        "",
        "Error: Invalid value for '--role': 'wizard' is not one of 'owner', 'admin', 'builder', 'member'.",
    ]
    assert stored_user(db_url, "gina@example.com") is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("harry@example.com", "short", "error: The password needs at least 8 characters."),
        ("not-an-email", PASSWORD, "error: Enter a valid e-mail address, such as alice@example.com."),
    ],
)
def test_users_create_refuses_bad_input_with_one_line(
    cli: Cli, db_url: str, email: str, password: str, message: str
) -> None:
    result = cli("users", "create", email, "--password", password)
    assert result.exit_code == 1
    assert stderr_lines(result) == [message]
    assert stored_user(db_url, email) is None


# -- changing users ------------------------------------------------------------------------------------


def test_users_set_role_changes_the_stored_role(cli: Cli, db_url: str) -> None:
    create(cli, "carol@example.com")
    result = cli("users", "set-role", "CAROL@example.com", "builder")
    assert result.exit_code == 0
    assert result.stdout == "carol@example.com\tbuilder\tactive\tgroups: -\n"
    user = stored_user(db_url, "carol@example.com")
    assert user is not None
    assert user.role is Role.BUILDER


def test_users_set_role_refuses_an_unknown_role(cli: Cli) -> None:
    create(cli, "carol@example.com")
    result = cli("users", "set-role", "carol@example.com", "king")
    assert result.exit_code == 2
    assert stderr_lines(result)[-1] == (
        "Error: Invalid value for '{owner|admin|builder|member}': "
        "'king' is not one of 'owner', 'admin', 'builder', 'member'."
    )


@pytest.mark.parametrize(
    "command",
    [
        ("users", "set-role", "nobody@example.com", "admin"),
        ("users", "deactivate", "nobody@example.com"),
        ("users", "activate", "nobody@example.com"),
        ("users", "reset-password", "nobody@example.com", "--password", PASSWORD),
    ],
)
def test_changing_an_unknown_user_fails_with_one_line(cli: Cli, command: tuple[str, ...]) -> None:
    result = cli(*command)
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: No user with the e-mail nobody@example.com."]


def test_users_deactivate_and_activate_are_stored_and_gate_sign_in(cli: Cli, db_url: str) -> None:
    create(cli, "carol@example.com")
    deactivated = cli("users", "deactivate", "carol@example.com")
    assert deactivated.exit_code == 0
    assert deactivated.stdout == "carol@example.com\tmember\tdeactivated\tgroups: -\n"
    user = stored_user(db_url, "carol@example.com")
    assert user is not None
    assert not user.is_active
    assert not password_works(db_url, "carol@example.com", PASSWORD)

    activated = cli("users", "activate", "carol@example.com")
    assert activated.exit_code == 0
    assert activated.stdout == "carol@example.com\tmember\tactive\tgroups: -\n"
    assert password_works(db_url, "carol@example.com", PASSWORD)


def test_the_last_active_owner_cannot_be_deactivated_or_demoted(cli: Cli, db_url: str) -> None:
    create(cli, "owner@example.com", "--role", "owner")
    for command in (("deactivate", "owner@example.com"), ("set-role", "owner@example.com", "admin")):
        result = cli("users", *command)
        assert result.exit_code == 1
        assert stderr_lines(result) == ["error: Switchboard needs at least one active owner."]
    user = stored_user(db_url, "owner@example.com")
    assert user is not None
    assert (user.role, user.is_active) == (Role.OWNER, True)


def test_users_reset_password_replaces_the_password_and_ends_sessions(cli: Cli, db_url: str) -> None:
    create(cli, "carol@example.com")

    async def open_session(services: IdentityServices) -> str:
        session = await services.sessions.sign_in(
            "carol@example.com", PASSWORD, ip_address="127.0.0.1", user_agent="tests"
        )
        return session.cookie_value

    cookie = read_back(db_url, open_session)
    result = cli("users", "reset-password", "Carol@example.com", "--password", "a-brand-new-password")
    assert result.exit_code == 0
    assert result.stdout == "Password reset for carol@example.com; their sessions were signed out.\n"
    assert password_works(db_url, "carol@example.com", "a-brand-new-password")
    assert not password_works(db_url, "carol@example.com", PASSWORD)

    async def authenticate(services: IdentityServices) -> object:
        return await services.sessions.authenticate(cookie)

    assert read_back(db_url, authenticate) is None


def test_users_reset_password_refuses_a_short_password(cli: Cli, db_url: str) -> None:
    create(cli, "carol@example.com")
    result = cli("users", "reset-password", "carol@example.com", "--password", "short")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: The password needs at least 8 characters."]
    assert password_works(db_url, "carol@example.com", PASSWORD)


def test_users_list_shows_each_user_with_role_state_and_groups(cli: Cli) -> None:
    assert cli("users", "list").stdout == ""
    assert cli("demo").exit_code == 0
    assert cli("users", "deactivate", "bob@example.com").exit_code == 0
    result = cli("users", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "admin@example.com\towner\tactive\tgroups: -",
        "alice@example.com\tmember\tactive\tgroups: Sales",
        "bob@example.com\tmember\tdeactivated\tgroups: -",
    ]


def test_users_list_json_prints_one_object_per_line(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    result = cli("users", "list", "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["email"], row["role"], [g["name"] for g in row["groups"]]) for row in rows] == [
        ("admin@example.com", "owner", []),
        ("alice@example.com", "member", ["Sales"]),
        ("bob@example.com", "member", []),
    ]
    assert all("password_hash" not in row for row in rows)


def test_users_create_reads_the_password_from_standard_input_for_scripts(cli: Cli, db_url: str) -> None:
    result = cli("users", "create", "fay@example.com", "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Password" not in result.output  # nothing was asked
    assert password_works(db_url, "fay@example.com", PASSWORD)


def test_a_password_given_both_ways_is_refused_and_nobody_is_created(cli: Cli, db_url: str) -> None:
    result = cli(
        "users",
        "create",
        "gus@example.com",
        "--password",
        PASSWORD,
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 2
    assert "Give the password with --password or --password-stdin, not both." in result.output
    assert stored_user(db_url, "gus@example.com") is None


def test_reset_password_reads_the_new_password_from_standard_input(cli: Cli, db_url: str) -> None:
    create(cli, "hal@example.com")
    result = cli("users", "reset-password", "hal@example.com", "--password-stdin", input="another-secret-9\n")
    assert result.exit_code == 0, result.output
    assert password_works(db_url, "hal@example.com", "another-secret-9")
