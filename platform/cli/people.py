"""``switchboard users`` and ``groups``: people and their end-user groups."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click
import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserCreate, UserOut, UserUpdate
from switchboard.platform.cli.support import run
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import DomainError

ROLE_CHOICE = click.Choice([role.value for role in Role])


def _echo_user(user: UserOut, as_json: bool) -> None:
    if as_json:
        click.echo(msgspec.json.encode(user).decode())
    else:
        groups = ", ".join(group.name for group in user.groups) or "-"
        state = "active" if user.is_active else "deactivated"
        click.echo(f"{user.email}\t{user.role.value}\t{state}\tgroups: {groups}")


@click.group()
def users() -> None:
    """Users and their roles."""


def _password_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--password`` and ``--password-stdin`` (for scripts: the first line of standard input)."""
    command = click.option(
        "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
    )(command)
    return click.option("--password", default=None, help="At least 8 characters (asked for if left out).")(
        command
    )


def _password(given: str | None, from_stdin: bool) -> str:
    if given is not None and from_stdin:
        raise click.UsageError("Give the password with --password or --password-stdin, not both.")
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if given is not None:
        return given
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("create")
@click.argument("email")
@_password_options
@click.option("--role", type=ROLE_CHOICE, default=Role.MEMBER.value, show_default=True)
@click.option("--name", default="", help="Display name.")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_context
def users_create(
    ctx: click.Context,
    email: str,
    password: str | None,
    password_stdin: bool,
    role: str,
    name: str,
    as_json: bool,
) -> None:
    """Create a user (the password is asked for twice unless given with --password or --password-stdin)."""
    password = _password(password, password_stdin)

    async def work(services: IdentityServices, _: Database) -> UserOut:
        return await services.users.create(
            UserCreate(email=email, password=password, role=Role(role), name=name), actor=COMMAND_LINE
        )

    _echo_user(run(ctx, work), as_json)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users."""

    async def work(services: IdentityServices, _: Database) -> list[UserOut]:
        return await services.users.list_all()

    for user in run(ctx, work):
        _echo_user(user, as_json)


def _update_user(ctx: click.Context, email: str, change: UserUpdate) -> None:
    async def work(services: IdentityServices, _: Database) -> UserOut:
        user = await services.users.find_by_email(email)
        if user is None:
            raise DomainError(f"No user with the e-mail {email.lower()}.")
        return await services.users.update(user.id, change, actor=COMMAND_LINE)

    _echo_user(run(ctx, work), False)


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.pass_context
def users_set_role(ctx: click.Context, email: str, role: str) -> None:
    """Change a user's role."""
    _update_user(ctx, email, UserUpdate(role=Role(role)))


@users.command("deactivate")
@click.argument("email")
@click.pass_context
def users_deactivate(ctx: click.Context, email: str) -> None:
    """Deactivate a user: their sessions end and they cannot sign in."""
    _update_user(ctx, email, UserUpdate(is_active=False))


@users.command("activate")
@click.argument("email")
@click.pass_context
def users_activate(ctx: click.Context, email: str) -> None:
    """Let a deactivated user sign in again."""
    _update_user(ctx, email, UserUpdate(is_active=True))


@users.command("reset-password")
@click.argument("email")
@_password_options
@click.pass_context
def users_reset_password(ctx: click.Context, email: str, password: str | None, password_stdin: bool) -> None:
    """Set a new password for a user and end their sessions (asked for twice unless given)."""
    password = _password(password, password_stdin)

    async def work(services: IdentityServices, _: Database) -> None:
        user = await services.users.find_by_email(email)
        if user is None:
            raise DomainError(f"No user with the e-mail {email.lower()}.")
        await services.users.reset_password(user.id, password, actor=COMMAND_LINE)

    run(ctx, work)
    click.echo(f"Password reset for {email.lower()}; their sessions were signed out.")


@click.group()
def groups() -> None:
    """End-user groups and their members."""


def _group_command(
    ctx: click.Context, work: Callable[[IdentityServices], Awaitable[Any]], done: Callable[[Any], str]
) -> None:
    async def call(services: IdentityServices, _: Database) -> Any:
        return await work(services)

    click.echo(done(run(ctx, call)))


@groups.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.pass_context
def groups_create(ctx: click.Context, name: str, description: str) -> None:
    """Create a group."""
    _group_command(
        ctx,
        lambda s: s.groups.create(GroupCreate(name=name, description=description), actor=COMMAND_LINE),
        lambda group: f"Group {group.name} created.",
    )


@groups.command("list")
@click.pass_context
def groups_list(ctx: click.Context) -> None:
    """List groups with their members."""

    async def work(services: IdentityServices) -> str:
        rows = [
            f"{group.name}\t{len(group.members)} member(s)\t{', '.join(m.email for m in group.members)}"
            for group in await services.groups.list_all()
        ]
        return "\n".join(rows) or "No groups."

    _group_command(ctx, work, str)


@groups.command("add-member")
@click.argument("group")
@click.argument("email")
@click.pass_context
def groups_add_member(ctx: click.Context, group: str, email: str) -> None:
    """Add the user with EMAIL to GROUP."""

    async def work(services: IdentityServices) -> str:
        found = await services.groups.get_by_name(group)
        await services.groups.add_member(found.id, email, actor=COMMAND_LINE)
        return f"{email.lower()} added to {found.name}."

    _group_command(ctx, work, str)


@groups.command("remove-member")
@click.argument("group")
@click.argument("email")
@click.pass_context
def groups_remove_member(ctx: click.Context, group: str, email: str) -> None:
    """Remove the user with EMAIL from GROUP."""

    async def work(services: IdentityServices) -> str:
        found = await services.groups.get_by_name(group)
        await services.groups.remove_member(found.id, email, actor=COMMAND_LINE)
        return f"{email.lower()} removed from {found.name}."

    _group_command(ctx, work, str)


@groups.command("rename")
@click.argument("group")
@click.argument("new_name")
@click.pass_context
def groups_rename(ctx: click.Context, group: str, new_name: str) -> None:
    """Rename GROUP to NEW_NAME."""
    from switchboard.identity.schemas import GroupUpdate

    async def work(services: IdentityServices) -> str:
        found = await services.groups.get_by_name(group)
        renamed = await services.groups.update(found.id, GroupUpdate(name=new_name), actor=COMMAND_LINE)
        return f"Group {found.name} renamed to {renamed.name}."

    _group_command(ctx, work, str)


@groups.command("delete")
@click.argument("group")
@click.pass_context
def groups_delete(ctx: click.Context, group: str) -> None:
    """Delete GROUP (its members keep their accounts)."""

    async def work(services: IdentityServices) -> str:
        found = await services.groups.get_by_name(group)
        await services.groups.delete(found.id, actor=COMMAND_LINE)
        return f"Group {found.name} deleted."

    _group_command(ctx, work, str)
