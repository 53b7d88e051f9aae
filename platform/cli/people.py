"""``switchboard users``, ``groups``, ``clients`` and ``keys``: people, their groups and OAuth clients."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click
import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import Client, ClientWithSecret, StaticClientCreate
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


@click.group()
def clients() -> None:
    """OAuth clients of MCP client apps, scripts and service accounts."""


def _echo_client(created: ClientWithSecret, as_json: bool) -> None:
    client = created.client
    if as_json:
        body: dict[str, Any] = {
            "client_id": client.client_id,
            "client_secret": created.client_secret,
            "name": client.name,
            "redirect_uris": client.redirect_uris,
            "grant_types": client.grant_types,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "service_account": client.service_account_email,
        }
        click.echo(msgspec.json.encode(body).decode())
        return
    click.echo(f"Client {client.name} created.")
    click.echo(f"client_id:     {client.client_id}")
    if created.client_secret:
        click.echo(f"client_secret: {created.client_secret}")
        click.echo("The secret is shown only this once: store it now.")
    if client.service_account_email:
        click.echo(
            f"Service account: {client.service_account_email} "
            "(add it to groups with `switchboard groups add-member GROUP EMAIL`)."
        )


@clients.command("create")
@click.option("--name", required=True, help="A name people recognise, such as 'Nightly sync'.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several redirect URIs.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
    help="Grant types (repeatable). Default: authorization_code and refresh_token; "
    "client_credentials binds the client to a new service account.",
)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only).")
@click.option("--introspect-any", is_flag=True, help="Resource-server credentials: may introspect any token.")
@click.option("--json", "as_json", is_flag=True, help="Print the client (and its secret) as JSON.")
@click.pass_context
def clients_create(
    ctx: click.Context,
    name: str,
    redirect_uris: tuple[str, ...],
    grants: tuple[str, ...],
    public: bool,
    introspect_any: bool,
    as_json: bool,
) -> None:
    """Create a static client; its secret is printed once."""
    data = StaticClientCreate(
        name=name,
        redirect_uris=list(redirect_uris),
        grant_types=list(grants) or ["authorization_code", "refresh_token"],
        confidential=not public,
        may_introspect_any=introspect_any,
    )

    async def work(services: IdentityServices, _: Database) -> ClientWithSecret:
        return await services.oauth.clients.create_static(data, actor=COMMAND_LINE)

    _echo_client(run(ctx, work), as_json)


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
def clients_list(ctx: click.Context, as_json: bool) -> None:
    """List clients with their kind and status."""

    async def work(services: IdentityServices, _: Database) -> list[Client]:
        return await services.oauth.clients.list_all()

    for client in run(ctx, work):
        if as_json:
            click.echo(msgspec.json.encode(client).decode())
        else:
            used = client.last_used_at.isoformat(timespec="seconds") if client.last_used_at else "never used"
            click.echo(
                f"{client.client_id}\t{client.name}\t{client.kind.value}\t{client.status.value}\t{used}"
            )


@clients.command("delete")
@click.argument("client_id")
@click.pass_context
def clients_delete(ctx: click.Context, client_id: str) -> None:
    """Delete CLIENT_ID: its tokens and codes stop working at once."""

    async def work(services: IdentityServices, _: Database) -> str:
        client = await services.oauth.clients.get(client_id)
        await services.oauth.clients.delete(
            client_id, actor=COMMAND_LINE, reason="deleted from the command line"
        )
        return client.name

    name = run(ctx, work)
    click.echo(f"Client {name} deleted; its tokens are revoked.")


@clients.command("approve")
@click.argument("client_id")
@click.pass_context
def clients_approve(ctx: click.Context, client_id: str) -> None:
    """Approve a pending dynamically registered client."""

    async def work(services: IdentityServices, _: Database) -> str:
        client = await services.oauth.clients.approve(client_id, actor=COMMAND_LINE)
        return client.name

    click.echo(f"Client {run(ctx, work)} approved.")


@clients.command("cap")
@click.argument("client_id")
@click.argument("scopes", nargs=-1)
@click.option("--remove", is_flag=True, help="Remove the cap: the client may get any scope people allow it.")
@click.pass_context
def clients_cap(ctx: click.Context, client_id: str, scopes: tuple[str, ...], remove: bool) -> None:
    """Allow CLIENT_ID at most SCOPES (such as mcp:tools:search_tickets), from its next token on."""
    if bool(scopes) == remove:
        raise click.UsageError("Give the scopes to allow, or --remove.")

    async def work(services: IdentityServices, _: Database) -> Client:
        return await services.oauth.clients.cap_scopes(client_id, scopes, actor=COMMAND_LINE)

    client = run(ctx, work)
    if client.scope_cap:
        click.echo(f"Client {client.name} may now get at most: {' '.join(client.scope_cap)}.")
    else:
        click.echo(f"Client {client.name} may get any scope people allow it.")


@click.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Start signing with a new key; the old one keeps verifying until its tokens expire."""

    async def work(services: IdentityServices, _: Database) -> str:
        return await services.oauth.keys.rotate()

    kid = run(ctx, work)
    click.echo(f"New signing key {kid} is in use; earlier keys verify tokens until they expire.")
