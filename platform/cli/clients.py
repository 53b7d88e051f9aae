"""``switchboard clients`` and ``keys``: the OAuth clients of Switchboard's authorization server and its
signing keys."""

from __future__ import annotations

from typing import Any

import click
import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import Client, ClientWithSecret, StaticClientCreate
from switchboard.identity.principal import COMMAND_LINE
from switchboard.platform.cli.support import run
from switchboard.platform.core.database import Database


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
