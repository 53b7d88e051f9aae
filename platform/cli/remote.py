"""``switchboard remote-servers``: remote MCP servers, their auth discovered and their tools as actions."""

from __future__ import annotations

import asyncio
from typing import Any

import click
import msgspec

from switchboard.connectors.remote.discovery import AuthMode, Discoverer, DiscoveryResult
from switchboard.connectors.remote.models import AuthInput, RemoteServer, RemoteServerInput, RemoteServerPatch
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import connector_services, fail, run
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import DomainError

_MODES = click.Choice([mode.value for mode in AuthMode])


def _echo_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


def _echo_discovery(result: DiscoveryResult) -> None:
    for field in msgspec.structs.fields(result):
        value = getattr(result, field.name)
        if field.name == "warnings":
            continue
        if isinstance(value, tuple):
            value = " ".join(value) or "-"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        click.echo(f"{field.name}: {value or '-'}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")


def _echo_server(server: RemoteServer) -> None:
    click.echo(f"{server.key}\t{server.name}\t{server.endpoint}\t{server.auth.mode.value}")
    for tool in server.tools:
        hints = ",".join(
            n for n, on in (("read-only", tool.read_only), ("destructive", tool.destructive)) if on
        )
        click.echo(f"  {tool.action}\t{tool.name}\t{hints or '-'}")
    for warning in server.warnings:
        click.echo(f"warning: {warning}")


@click.group("remote-servers")
def remote_servers() -> None:
    """Remote MCP servers: discover how one is protected, add it, list its tools as actions."""


@remote_servers.command("discover")
@click.argument("url")
@click.option("--allow-private", is_flag=True, help="Allow private and loopback addresses (and plain http).")
@click.option("--json", "as_json", is_flag=True, help="Print the discovery result as JSON.")
def remote_discover(url: str, allow_private: bool, as_json: bool) -> None:
    """Probe URL without credentials and follow its metadata: what auth it needs and where."""
    try:
        result = asyncio.run(
            Discoverer(Network()).discover(url.strip(), NetworkPolicy(allow_private=allow_private))
        )
    except DomainError as error:
        hint = (
            "\nFor a server on this machine or the company network (plain http, private addresses), "
            "add --allow-private."
            if getattr(error, "waivable", False) and not allow_private
            else ""
        )
        fail(error.message + hint)
        return
    if as_json:
        _echo_json(result)
    else:
        _echo_discovery(result)


@remote_servers.command("create")
@click.argument("key")
@click.option("--name", required=True, help="The name builders see.")
@click.option("--endpoint", required=True, help="The server's MCP endpoint URL.")
@click.option(
    "--mode", type=_MODES, default=None, help="How to authenticate (default: what discovery recommends)."
)
@click.option("--token", default="", help="The token (mode token).")
@click.option("--header", default="", help="The header the token goes in (default: Authorization: Bearer).")
@click.option("--client-id", default="", help="A client registered by hand (default: Switchboard registers).")
@click.option("--client-secret", default="", help="That client's secret.")
@click.option(
    "--scope", "scopes", multiple=True, help="A scope to ask for (repeatable; default: discovered)."
)
@click.option("--allow-private", is_flag=True, help="Allow private and loopback addresses (and plain http).")
@click.option("--json", "as_json", is_flag=True, help="Print the server as JSON.")
@click.pass_context
def remote_create(ctx: click.Context, /, key: str, **options: Any) -> None:
    """Add a remote MCP server as connector KEY; missing settings come from discovery."""
    as_json = options.pop("as_json")
    try:
        data = msgspec.convert(
            {
                "key": key,
                "name": options["name"],
                "endpoint": options["endpoint"],
                "allow_private": options["allow_private"],
                "auth": msgspec.to_builtins(_auth(options)),
            },
            RemoteServerInput,
        )
    except msgspec.ValidationError as error:
        fail(str(error), 2)
        return

    async def work(services: IdentityServices, _: Database) -> RemoteServer:
        async with connector_services(ctx, services) as connectors:
            return await connectors.remote.create(data, actor=COMMAND_LINE)

    server = run(ctx, work)
    _echo_json(server) if as_json else _echo_server(server)


@remote_servers.command("update")
@click.argument("key")
@click.option("--name", default=None)
@click.option("--endpoint", default=None)
@click.option("--mode", type=_MODES, default=None)
@click.option("--token", default="")
@click.option("--header", default="")
@click.option("--client-id", default="")
@click.option("--client-secret", default="")
@click.option("--scope", "scopes", multiple=True)
@click.pass_context
def remote_update(ctx: click.Context, /, key: str, **options: Any) -> None:
    """Change a remote server; discovery runs again and fills what is left empty."""
    patch = RemoteServerPatch(name=options["name"], endpoint=options["endpoint"], auth=_auth(options))

    async def work(services: IdentityServices, _: Database) -> RemoteServer:
        async with connector_services(ctx, services) as connectors:
            return await connectors.remote_connections.update(key, patch, actor=COMMAND_LINE)

    _echo_server(run(ctx, work))


@remote_servers.command("list")
@click.pass_context
def remote_list(ctx: click.Context) -> None:
    """List remote servers (key, name, endpoint, auth mode) with their tools."""

    async def work(services: IdentityServices, _: Database) -> list[RemoteServer]:
        async with connector_services(ctx, services) as connectors:
            return await connectors.remote.list()

    for server in run(ctx, work):
        _echo_server(server)


@remote_servers.command("refresh")
@click.argument("key")
@click.pass_context
def remote_refresh(ctx: click.Context, key: str) -> None:
    """List the server's tools again (servers that need no person's grant)."""

    async def work(services: IdentityServices, _: Database) -> RemoteServer:
        async with connector_services(ctx, services) as connectors:
            return await connectors.remote.refresh_own(key)

    _echo_server(run(ctx, work))


@remote_servers.command("delete")
@click.argument("key")
@click.pass_context
def remote_delete(ctx: click.Context, key: str) -> None:
    """Remove a remote server and its connector (not while connections use it)."""

    async def work(services: IdentityServices, _: Database) -> None:
        async with connector_services(ctx, services) as connectors:
            await connectors.remote.delete(key, actor=COMMAND_LINE)

    run(ctx, work)
    click.echo(f"Remote server {key} removed.")


def _auth(options: dict[str, Any]) -> AuthInput:
    return AuthInput(
        mode=AuthMode(options["mode"]) if options["mode"] else None,
        token=options["token"],
        header=options["header"],
        client_id=options["client_id"],
        client_secret=options["client_secret"],
        scopes=tuple(options["scopes"]) or None,
    )
