"""``switchboard groups …``: end-user groups and their members, from the command line."""

from __future__ import annotations

import pytest

from switchboard.identity.deps import IdentityServices
from tests.platform.conftest import Cli, read_back, stderr_lines

PASSWORD = "long-enough-password"


def stored_groups(db_url: str) -> dict[str, tuple[str, list[str]]]:
    """Every group by name: its description and its members' e-mails."""

    async def groups(services: IdentityServices) -> dict[str, tuple[str, list[str]]]:
        return {
            g.name: (g.description, [m.email for m in g.members]) for g in await services.groups.list_all()
        }

    return read_back(db_url, groups)


@pytest.fixture
def people(cli: Cli) -> Cli:
    """The CLI on a database with carol and dave, and a group Support without members."""
    for email in ("carol@example.com", "dave@example.com"):
        assert cli("users", "create", email, "--password", PASSWORD).exit_code == 0
    assert cli("groups", "create", "Support", "--description", "The help desk").exit_code == 0
    return cli


def test_groups_create_stores_the_group_with_its_description(cli: Cli, db_url: str) -> None:
    result = cli("groups", "create", "  Field   Sales ", "--description", "On the road")
    assert result.exit_code == 0
    assert result.stdout == "Group Field Sales created.\n"
    assert stored_groups(db_url) == {"Field Sales": ("On the road", [])}


def test_groups_create_refuses_a_name_taken_in_another_case(people: Cli, db_url: str) -> None:
    result = people("groups", "create", "SUPPORT")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: A group named 'SUPPORT' already exists."]
    assert list(stored_groups(db_url)) == ["Support"]


def test_groups_create_refuses_a_blank_name(cli: Cli, db_url: str) -> None:
    result = cli("groups", "create", "   ")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: Enter a group name."]
    assert stored_groups(db_url) == {}


def test_groups_list_says_when_there_are_no_groups(cli: Cli) -> None:
    result = cli("groups", "list")
    assert result.exit_code == 0
    assert result.stdout == "No groups.\n"


def test_groups_list_shows_each_group_with_its_members(people: Cli) -> None:
    assert people("groups", "create", "Accounts").exit_code == 0
    assert people("groups", "add-member", "Support", "dave@example.com").exit_code == 0
    assert people("groups", "add-member", "Support", "carol@example.com").exit_code == 0
    result = people("groups", "list")
    assert result.stdout.splitlines() == [
        "Accounts\t0 member(s)\t",
        "Support\t2 member(s)\tcarol@example.com, dave@example.com",
    ]


def test_groups_add_member_stores_the_membership(people: Cli, db_url: str) -> None:
    result = people("groups", "add-member", "support", "Carol@Example.com")
    assert result.exit_code == 0
    assert result.stdout == "carol@example.com added to Support.\n"
    assert stored_groups(db_url) == {"Support": ("The help desk", ["carol@example.com"])}
    listed = people("users", "list").stdout.splitlines()
    assert "carol@example.com\tmember\tactive\tgroups: Support" in listed


def test_groups_add_member_twice_is_refused(people: Cli, db_url: str) -> None:
    assert people("groups", "add-member", "Support", "carol@example.com").exit_code == 0
    result = people("groups", "add-member", "Support", "carol@example.com")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: carol@example.com is already a member of Support."]
    assert stored_groups(db_url)["Support"][1] == ["carol@example.com"]


@pytest.mark.parametrize("command", ["add-member", "remove-member"])
def test_a_membership_change_on_an_unknown_group_names_the_group(people: Cli, command: str) -> None:
    result = people("groups", command, "Nope", "carol@example.com")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: No group named 'Nope'."]


@pytest.mark.parametrize("command", ["add-member", "remove-member"])
def test_a_membership_change_for_an_unknown_user_names_the_email(people: Cli, command: str) -> None:
    result = people("groups", command, "Support", "Nobody@Example.com")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: No user with the e-mail nobody@example.com."]


def test_groups_remove_member_removes_only_that_membership(people: Cli, db_url: str) -> None:
    for email in ("carol@example.com", "dave@example.com"):
        assert people("groups", "add-member", "Support", email).exit_code == 0
    result = people("groups", "remove-member", "Support", "CAROL@example.com")
    assert result.exit_code == 0
    assert result.stdout == "carol@example.com removed from Support.\n"
    assert stored_groups(db_url) == {"Support": ("The help desk", ["dave@example.com"])}


def test_groups_remove_member_of_someone_not_in_the_group_is_refused(people: Cli) -> None:
    result = people("groups", "remove-member", "Support", "dave@example.com")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: dave@example.com is not a member of Support."]


def test_groups_rename_keeps_the_members(people: Cli, db_url: str) -> None:
    assert people("groups", "add-member", "Support", "carol@example.com").exit_code == 0
    result = people("groups", "rename", "support", "Help Desk")
    assert result.exit_code == 0
    assert result.stdout == "Group Support renamed to Help Desk.\n"
    assert stored_groups(db_url) == {"Help Desk": ("The help desk", ["carol@example.com"])}


def test_groups_rename_onto_another_groups_name_is_refused(people: Cli, db_url: str) -> None:
    assert people("groups", "create", "Accounts").exit_code == 0
    result = people("groups", "rename", "Support", "accounts")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: A group named 'accounts' already exists."]
    assert sorted(stored_groups(db_url)) == ["Accounts", "Support"]


def test_groups_rename_to_a_different_case_of_its_own_name_is_allowed(people: Cli, db_url: str) -> None:
    result = people("groups", "rename", "Support", "SUPPORT")
    assert result.exit_code == 0
    assert list(stored_groups(db_url)) == ["SUPPORT"]


def test_groups_delete_removes_the_group_but_not_its_members(people: Cli, db_url: str) -> None:
    assert people("groups", "add-member", "Support", "carol@example.com").exit_code == 0
    result = people("groups", "delete", "Support")
    assert result.exit_code == 0
    assert result.stdout == "Group Support deleted.\n"
    assert stored_groups(db_url) == {}
    assert people("users", "list").stdout.splitlines() == [
        "carol@example.com\tmember\tactive\tgroups: -",
        "dave@example.com\tmember\tactive\tgroups: -",
    ]


@pytest.mark.parametrize("command", [("rename", "Nope", "Other"), ("delete", "Nope")])
def test_renaming_or_deleting_an_unknown_group_fails_with_one_line(
    cli: Cli, command: tuple[str, ...]
) -> None:
    result = cli("groups", *command)
    assert result.exit_code == 1
    assert stderr_lines(result) == ["error: No group named 'Nope'."]
