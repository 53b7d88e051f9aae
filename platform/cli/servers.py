"""``switchboard servers``: MCP servers, the end-user groups that may use them, their tools and API tokens."""

from __future__ import annotations

from uuid import UUID

import click

from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.server_tools import TOOL_COMMANDS
from switchboard.platform.cli.support import run, settings_of
from switchboard.platform.core.database import Database
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import (
    AccessMethod,
    McpServer,
    ServerCreate,
    ServerUpdate,
)


async def _group_ids(identity: IdentityServices, names: tuple[str, ...]) -> list[UUID]:
    return [(await identity.groups.get_by_name(name)).id for name in names]


def _line(server: McpServer) -> str:
    groups = ", ".join(group.name for group in server.groups) or "-"
    return f"{server.slug}\t{server.name}\t{server.access_method.value}\t{groups}"


def _client_limits(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    """``CLIENT_ID=REQUESTS_A_MINUTE`` values (a client id may hold ``=`` itself: the last one counts)."""
    parsed = []
    for value in values:
        client_id, _, limit = value.rpartition("=")
        try:
            parsed.append((client_id, int(limit)))
        except ValueError:
            raise click.BadParameter(f"{value!r} is not CLIENT_ID=REQUESTS_A_MINUTE") from None
        if not client_id:
            raise click.BadParameter(f"{value!r} is not CLIENT_ID=REQUESTS_A_MINUTE")
    return tuple(parsed)


@click.group()
def servers() -> None:
    """MCP servers: /mcp/<slug>, their end-user groups, tools and API tokens."""


@servers.command("list")
@click.pass_context
def servers_list(ctx: click.Context) -> None:
    """List servers: slug, name, access method and groups."""

    async def work(_: IdentityServices, __: Database) -> list[McpServer]:
        return await McpServices.create().servers.list_all()

    for server in run(ctx, work):
        click.echo(_line(server))


@servers.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The name people see.")
@click.option("--description", default="", help="What the server is for.")
@click.option("--instructions", default="", help="Instructions for the model.")
@click.option(
    "--access-method",
    type=click.Choice([m.value for m in AccessMethod]),
    default="identity",
    show_default=True,
)
@click.option(
    "--rate-limit",
    type=int,
    default=60,
    show_default=True,
    help="Requests a minute per person and client (0: no limit).",
)
@click.pass_context
def servers_create(
    ctx: click.Context,
    slug: str,
    name: str,
    description: str,
    instructions: str,
    access_method: str,
    rate_limit: int,
) -> None:
    """Create the server SLUG, served at <base URL>/mcp/SLUG."""
    data = ServerCreate(
        slug=slug,
        name=name,
        description=description,
        instructions=instructions,
        access_method=AccessMethod(access_method),
        rate_limit_per_minute=rate_limit,
    )

    async def work(_: IdentityServices, __: Database) -> McpServer:
        return await McpServices.create().servers.create(data, actor=COMMAND_LINE)

    server = run(ctx, work)
    click.echo(f"Created MCP server {server.slug}: {settings_of(ctx).base_url}/mcp/{server.slug}")


@servers.command("update")
@click.argument("slug")
@click.option("--name", help="The name people see.")
@click.option("--description", help="What the server is for.")
@click.option("--instructions", help="Instructions for the model.")
@click.option("--access-method", type=click.Choice([m.value for m in AccessMethod]))
@click.option("--rate-limit", type=int, help="Requests a minute per person and client (0: no limit).")
@click.option(
    "--client-limit",
    "client_limits",
    multiple=True,
    callback=_client_limits,
    metavar="CLIENT_ID=REQUESTS_A_MINUTE",
    help="Give a client a rate limit of its own on the server (0: no limit); repeatable.",
)
@click.option(
    "--no-client-limit",
    "no_client_limits",
    multiple=True,
    metavar="CLIENT_ID",
    help="Take a client's own limit away (it has the server's again); repeatable.",
)
@click.pass_context
def servers_update(
    ctx: click.Context,
    slug: str,
    name: str | None,
    description: str | None,
    instructions: str | None,
    access_method: str | None,
    rate_limit: int | None,
    client_limits: tuple[tuple[str, int], ...],
    no_client_limits: tuple[str, ...],
) -> None:
    """Change the server SLUG; options left out stay as they are (the slug cannot change)."""
    data = ServerUpdate(
        name=name,
        description=description,
        instructions=instructions,
        access_method=AccessMethod(access_method) if access_method else None,
        rate_limit_per_minute=rate_limit,
    )
    if data == ServerUpdate() and not client_limits and not no_client_limits:
        raise click.UsageError(
            "say what to change: --name, --description, --instructions, --access-method, --rate-limit, "
            "--client-limit or --no-client-limit"
        )

    async def work(_: IdentityServices, __: Database) -> McpServer:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        if data != ServerUpdate():
            server = await mcp.servers.update(server.id, data, actor=COMMAND_LINE)
        for client_id, limit in client_limits:
            server = await mcp.limits.set_for_client(server.id, client_id, limit, actor=COMMAND_LINE)
        for client_id in no_client_limits:
            server = await mcp.limits.remove_for_client(server.id, client_id, actor=COMMAND_LINE)
        return server

    server = run(ctx, work)
    click.echo(_line(server))
    if client_limits or no_client_limits:
        for limit in server.client_rate_limits:
            click.echo(f"client limit\t{limit.client_id}\t{limit.rate_limit_per_minute}")


@servers.command("delete")
@click.argument("slug")
@click.pass_context
def servers_delete(ctx: click.Context, slug: str) -> None:
    """Delete the server SLUG (clients using it are refused from then on)."""

    async def work(_: IdentityServices, __: Database) -> None:
        servers = McpServices.create().servers
        await servers.delete((await servers.get_by_slug(slug)).id, actor=COMMAND_LINE)

    run(ctx, work)
    click.echo(f"Deleted MCP server {slug}.")


@servers.command("add-group")
@click.argument("slug")
@click.argument("groups", nargs=-1, required=True)
@click.pass_context
def servers_add_group(ctx: click.Context, slug: str, groups: tuple[str, ...]) -> None:
    """Let the members of GROUPS use the server SLUG."""

    async def work(identity: IdentityServices, _: Database) -> McpServer:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        return await mcp.groups.add(server.id, await _group_ids(identity, groups), actor=COMMAND_LINE)

    click.echo(_line(run(ctx, work)))


@servers.command("remove-group")
@click.argument("slug")
@click.argument("group")
@click.pass_context
def servers_remove_group(ctx: click.Context, slug: str, group: str) -> None:
    """Stop GROUP's members from using the server SLUG (from their next request on)."""

    async def work(identity: IdentityServices, _: Database) -> McpServer:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        (group_id,) = await _group_ids(identity, (group,))
        return await mcp.groups.remove(server.id, group_id, actor=COMMAND_LINE)

    click.echo(_line(run(ctx, work)))


for _command in TOOL_COMMANDS:
    servers.add_command(_command)


@servers.group("token")
def servers_token() -> None:
    """API tokens of servers that use the Token access method."""


@servers_token.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="What the token is for, such as the job using it.")
@click.pass_context
def servers_token_create(ctx: click.Context, slug: str, name: str) -> None:
    """Create an API token for the server SLUG; it is printed once and never shown again."""

    async def work(_: IdentityServices, __: Database) -> str:
        mcp = McpServices.create()
        server = await mcp.servers.get_by_slug(slug)
        return (await mcp.tokens.create(server.id, name, actor=COMMAND_LINE)).secret

    secret = run(ctx, work)
    click.echo(secret)
    click.echo("Keep this token now: it is not shown again.", err=True)


@servers_token.command("revoke")
@click.argument("slug")
@click.argument("token_id", type=click.UUID)
@click.pass_context
def servers_token_revoke(ctx: click.Context, slug: str, token_id: UUID) -> None:
    """Revoke the API token TOKEN_ID of the server SLUG."""

    async def work(_: IdentityServices, __: Database) -> None:
        mcp = McpServices.create()
        await mcp.tokens.revoke((await mcp.servers.get_by_slug(slug)).id, token_id, actor=COMMAND_LINE)

    run(ctx, work)
    click.echo(f"Revoked token {token_id}.")


@servers_token.command("list")
@click.argument("slug")
@click.pass_context
def servers_token_list(ctx: click.Context, slug: str) -> None:
    """List the server's API tokens: id, name, first characters, created, last used."""

    async def work(_: IdentityServices, __: Database) -> list[tuple[str, str, str, str, str]]:
        mcp = McpServices.create()
        tokens = await mcp.tokens.list_all((await mcp.servers.get_by_slug(slug)).id)
        return [
            (
                str(t.id),
                t.name,
                t.prefix + "…",
                t.created_at.isoformat(),
                t.last_used_at.isoformat() if t.last_used_at else "never",
            )
            for t in tokens
        ]

    for row in run(ctx, work):
        click.echo("\t".join(row))
