"""The ``switchboard`` command line: serve, database, demo seed, users, groups, OAuth clients, keys,
secrets, projects and connectors."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from switchboard.connectors.connections.models import ProjectCreate
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import Client, ClientWithSecret, StaticClientCreate
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, UserCreate, UserOut, UserUpdate
from switchboard.platform.core import piccolo_conf
from switchboard.platform.core.database import Database, DatabaseUnavailable
from switchboard.platform.core.errors import DomainError
from switchboard.platform.core.migrations import MigrationFailed, migrate, pending_migrations
from switchboard.platform.core.settings import Settings, SettingsError, load_settings, local_base_url
from switchboard.platform.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo, seed_demo_tasks
from switchboard.platform.demo_tasks.cli import demo_tasks_cli
from switchboard.platform.demo_tasks.clients import ClientRegistry

T = TypeVar("T")
ROLE_CHOICE = click.Choice([role.value for role in Role])


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings | None = ctx.obj.get("settings")
    if settings is None:
        try:
            settings = load_settings(config_file=ctx.obj.get("config"))
        except SettingsError as exc:
            _fail(str(exc), 2)
            raise  # unreachable: _fail exits
        ctx.obj["settings"] = settings
    return settings


class SchemaNotReady(Exception):
    """The database has migrations to apply before a command can use its tables."""


def _run(
    ctx: click.Context,
    work: Callable[[IdentityServices, Database], Awaitable[T]],
    *,
    needs_schema: bool = True,
) -> T:
    """Connect to the database, run ``work`` with the services, close; domain errors become one line.

    Commands that use the tables (``needs_schema``) first check that every migration is applied,
    so an unmigrated database gives one line saying what to run instead of a driver traceback.
    """
    settings = _settings(ctx)

    async def main() -> T:
        database = Database(settings.database_url, pool_size=2)
        await database.connect()
        try:
            if needs_schema and (pending := await pending_migrations(database)):
                raise SchemaNotReady(
                    f"the database is not migrated ({len(pending)} migration(s) not applied); "
                    "run `switchboard db migrate`"
                )
            return await work(IdentityServices.from_settings(settings), database)
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except DatabaseUnavailable as exc:
        _fail(str(exc))
    except DomainError as exc:
        _fail(exc.message)
    except MigrationFailed as exc:
        _fail(f"migration failed: {exc}")
    except SchemaNotReady as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (also SWITCHBOARD_CONFIG). Environment variables win over it.",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Switchboard: turn workflows into MCP tools that run with each end user's own access."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = str(config) if config else None


@main.command()
@click.option("--host", help="Address to listen on (default SWITCHBOARD_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default SWITCHBOARD_PORT or 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve Switchboard over HTTP."""
    import uvicorn

    from switchboard.platform.app import create_app

    settings = _settings(ctx)
    if port is not None and not 1 <= port <= 65535:
        _fail(f"--port {port} is invalid: expected an integer from 1 to 65535", 2)
    host, port = host or settings.host, port or settings.port
    if settings.base_url == local_base_url(settings.host, settings.port):
        # No public URL was configured: it follows where this server listens.
        settings = msgspec.structs.replace(settings, base_url=local_base_url(host, port))

    async def check(_: IdentityServices, database: Database) -> list[str]:
        return await pending_migrations(database)

    pending = _run(ctx, check, needs_schema=False)
    if pending:
        click.echo(
            f"warning: {len(pending)} migration(s) not applied; run `switchboard db migrate`", err=True
        )
    click.echo(f"Switchboard is serving on http://{host}:{port} (public URL {settings.base_url})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", proxy_headers=True)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Apply every pending migration."""

    async def work(_: IdentityServices, database: Database) -> list[str]:
        return await migrate(database)

    applied = _run(ctx, work, needs_schema=False)
    click.echo(f"Applied {len(applied)} migration(s)." if applied else "The database is up to date.")
    for name in applied:
        click.echo(f"  {name}")


@db.command("new-migration")
@click.argument("app")
@click.option("--description", "-d", default="", help="What the migration does.")
@click.option("--empty", is_flag=True, help="An empty migration to fill in by hand (raw SQL steps).")
@click.pass_context
def db_new_migration(ctx: click.Context, app: str, description: str, empty: bool) -> None:
    """For developers: write a migration for APP (such as identity) from its changed tables.

    The migration is written into the app's piccolo_migrations folder of a source checkout; review it
    and run the tests on both engines before committing it.
    """
    from piccolo.apps.migrations.commands.new import new

    settings = _settings(ctx)
    known = [config.app_name for config in piccolo_conf.APP_REGISTRY.app_configs.values()]
    if app not in known:
        _fail(f"unknown app {app!r}: expected one of {', '.join(known)}", 2)
    Database(settings.database_url).bind()
    asyncio.run(new(app_name=app, auto=not empty, desc=description, auto_input="y"))


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """List migrations that are not applied yet (exit 1 when any)."""

    async def work(_: IdentityServices, database: Database) -> list[str]:
        return await pending_migrations(database)

    pending = _run(ctx, work, needs_schema=False)
    if not pending:
        click.echo("The database is up to date.")
        return
    click.echo(f"{len(pending)} migration(s) not applied:")
    for name in pending:
        click.echo(f"  {name}")
    sys.exit(1)


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create the demo users and groups, and Demo Tasks with a connection to it (safe to run again)."""
    settings = _settings(ctx)

    async def work(services: IdentityServices, _: Database) -> list[str]:
        created = await seed_demo(services)
        if settings.mounts_demo_tasks:
            async with _connectors(ctx, services) as connectors:
                created += await seed_demo_tasks(settings, connectors)
        return created

    created = _run(ctx, work)
    click.echo("Demo data: " + (", ".join(created) if created else "already in place."))
    accounts = ", ".join(user.email for user in DEMO_USERS)
    click.echo(f"Demo sign-in: {accounts} (password {DEMO_PASSWORD})")
    if settings.mounts_demo_tasks:
        click.echo(f"Demo Tasks: {settings.base_url}/demo-tasks (same accounts and password)")


def _echo_user(user: UserOut, as_json: bool) -> None:
    if as_json:
        click.echo(msgspec.json.encode(user).decode())
    else:
        groups = ", ".join(group.name for group in user.groups) or "-"
        state = "active" if user.is_active else "deactivated"
        click.echo(f"{user.email}\t{user.role.value}\t{state}\tgroups: {groups}")


@main.group()
def users() -> None:
    """Users and their roles."""


@users.command("create")
@click.argument("email")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."
)
@click.option("--role", type=ROLE_CHOICE, default=Role.MEMBER.value, show_default=True)
@click.option("--name", default="", help="Display name.")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_context
def users_create(ctx: click.Context, email: str, password: str, role: str, name: str, as_json: bool) -> None:
    """Create a user."""

    async def work(services: IdentityServices, _: Database) -> UserOut:
        return await services.users.create(
            UserCreate(email=email, password=password, role=Role(role), name=name), actor=None
        )

    _echo_user(_run(ctx, work), as_json)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users."""

    async def work(services: IdentityServices, _: Database) -> list[UserOut]:
        return await services.users.list_all()

    for user in _run(ctx, work):
        _echo_user(user, as_json)


def _update_user(ctx: click.Context, email: str, change: UserUpdate) -> None:
    async def work(services: IdentityServices, _: Database) -> UserOut:
        user = await services.users.find_by_email(email)
        if user is None:
            raise DomainError(f"No user with the e-mail {email.lower()}.")
        return await services.users.update(user.id, change, actor=None)

    _echo_user(_run(ctx, work), False)


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
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."
)
@click.pass_context
def users_reset_password(ctx: click.Context, email: str, password: str) -> None:
    """Set a new password for a user and end their sessions."""

    async def work(services: IdentityServices, _: Database) -> None:
        user = await services.users.find_by_email(email)
        if user is None:
            raise DomainError(f"No user with the e-mail {email.lower()}.")
        await services.users.reset_password(user.id, password, actor=None)

    _run(ctx, work)
    click.echo(f"Password reset for {email.lower()}; their sessions were signed out.")


@main.group()
def groups() -> None:
    """End-user groups and their members."""


def _group_command(
    ctx: click.Context, work: Callable[[IdentityServices], Awaitable[Any]], done: Callable[[Any], str]
) -> None:
    async def run(services: IdentityServices, _: Database) -> Any:
        return await work(services)

    click.echo(done(_run(ctx, run)))


@groups.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.pass_context
def groups_create(ctx: click.Context, name: str, description: str) -> None:
    """Create a group."""
    _group_command(
        ctx,
        lambda s: s.groups.create(GroupCreate(name=name, description=description), actor=None),
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
        await services.groups.add_member(found.id, email, actor=None)
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
        await services.groups.remove_member(found.id, email, actor=None)
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
        renamed = await services.groups.update(found.id, GroupUpdate(name=new_name), actor=None)
        return f"Group {found.name} renamed to {renamed.name}."

    _group_command(ctx, work, str)


@groups.command("delete")
@click.argument("group")
@click.pass_context
def groups_delete(ctx: click.Context, group: str) -> None:
    """Delete GROUP (its members keep their accounts)."""

    async def work(services: IdentityServices) -> str:
        found = await services.groups.get_by_name(group)
        await services.groups.delete(found.id, actor=None)
        return f"Group {found.name} deleted."

    _group_command(ctx, work, str)


@main.group()
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
        return await services.oauth.clients.create_static(data, actor=None)

    _echo_client(_run(ctx, work), as_json)


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
def clients_list(ctx: click.Context, as_json: bool) -> None:
    """List clients with their kind and status."""

    async def work(services: IdentityServices, _: Database) -> list[Client]:
        return await services.oauth.clients.list_all()

    for client in _run(ctx, work):
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
        await services.oauth.clients.delete(client_id, actor=None, reason="deleted from the command line")
        return client.name

    name = _run(ctx, work)
    click.echo(f"Client {name} deleted; its tokens are revoked.")


@clients.command("approve")
@click.argument("client_id")
@click.pass_context
def clients_approve(ctx: click.Context, client_id: str) -> None:
    """Approve a pending dynamically registered client."""

    async def work(services: IdentityServices, _: Database) -> str:
        client = await services.oauth.clients.approve(client_id, actor=None)
        return client.name

    click.echo(f"Client {_run(ctx, work)} approved.")


@main.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Start signing with a new key; the old one keeps verifying until its tokens expire."""

    async def work(services: IdentityServices, _: Database) -> str:
        return await services.oauth.keys.rotate()

    kid = _run(ctx, work)
    click.echo(f"New signing key {kid} is in use; earlier keys verify tokens until they expire.")


@contextlib.asynccontextmanager
async def _connectors(ctx: click.Context, services: IdentityServices) -> AsyncIterator[ConnectorServices]:
    connectors = ConnectorServices.from_settings(
        _settings(ctx), audit=services.oauth.audit, sign=services.oauth.keys.sign_assertion
    )
    try:
        yield connectors
    finally:
        await connectors.aclose()


@main.group()
def secrets() -> None:
    """Stored secrets (connection credentials, third-party tokens, signing keys)."""


@secrets.command("reencrypt")
@click.pass_context
def secrets_reencrypt(ctx: click.Context) -> None:
    """Re-encrypt every stored secret with the current secret key.

    After setting a new SWITCHBOARD_SECRET_KEY, list the old one in SWITCHBOARD_PREVIOUS_SECRET_KEYS,
    run this, then remove the old key.
    """

    settings = _settings(ctx)

    async def work(services: IdentityServices, _: Database) -> tuple[int, int, int, int]:
        async with _connectors(ctx, services) as connectors:
            return (
                await connectors.connections.reencrypt(),
                await connectors.grants.reencrypt(),
                await services.oauth.keys.reencrypt(),
                await ClientRegistry(settings.secret_key, settings.previous_keys).reencrypt(),
            )

    connections, grants, keys_changed, demo_clients = _run(ctx, work)
    click.echo(
        f"Re-encrypted {connections} connection(s), {grants} user grant(s), {keys_changed} signing key(s) "
        f"and {demo_clients} Demo Tasks client secret(s) with the current secret key."
    )


@main.group()
def projects() -> None:
    """Projects, which hold connections and recipes."""


@projects.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.pass_context
def projects_create(ctx: click.Context, name: str, description: str) -> None:
    """Create a project."""

    async def work(services: IdentityServices, _: Database) -> str:
        async with _connectors(ctx, services) as connectors:
            project = await connectors.projects.create(
                ProjectCreate(name=name, description=description), actor=None
            )
        return project.name

    click.echo(f"Project {_run(ctx, work)} created.")


@projects.command("list")
@click.pass_context
def projects_list(ctx: click.Context) -> None:
    """List projects."""

    async def work(services: IdentityServices, _: Database) -> list[str]:
        async with _connectors(ctx, services) as connectors:
            return [project.name for project in await connectors.projects.list_all()]

    for name in _run(ctx, work):
        click.echo(name)


@main.group()
def connectors() -> None:
    """Connector definitions: the built-in ones, a folder's and those added here or in the console."""


@connectors.command("list")
@click.pass_context
def connectors_list(ctx: click.Context) -> None:
    """List connectors (and any definition files that failed to load)."""

    async def work(services: IdentityServices, _: Database) -> tuple[list[Any], list[str]]:
        async with _connectors(ctx, services) as connectors:
            return list(await connectors.registry.list()), list(connectors.registry.problems())

    found, problems = _run(ctx, work)
    for summary in found:
        click.echo(f"{summary.key}\t{summary.name}\t{summary.auth_type}\t{summary.origin}")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)


@connectors.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def connectors_add(ctx: click.Context, file: Path) -> None:
    """Add (or replace) a connector from a YAML or JSON definition FILE."""

    source = file.read_text()

    async def work(services: IdentityServices, _: Database) -> str:
        async with _connectors(ctx, services) as connectors:
            definition = await connectors.registry.save(source, actor="command line")
        return f"{definition.key} ({definition.name})"

    click.echo(f"Connector {_run(ctx, work)} saved.")


@connectors.command("import-openapi")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", default=None, help="The connector key (default: from the document's title).")
@click.pass_context
def connectors_import_openapi(ctx: click.Context, file: Path, key: str | None) -> None:
    """Make a connector from an OpenAPI 3 document FILE: each operation becomes an action."""

    source = file.read_text()

    async def work(services: IdentityServices, _: Database) -> str:
        async with _connectors(ctx, services) as connectors:
            definition = await connectors.registry.import_openapi(source, actor="command line", key=key)
        return f"{definition.key} ({definition.name}, {len(definition.actions)} actions)"

    click.echo(f"Connector {_run(ctx, work)} saved.")


main.add_command(demo_tasks_cli, name="demo-tasks")
