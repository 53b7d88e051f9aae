"""MCP server tables: servers, their clients' own rate limits, their end-user groups, their tools (attached
recipes, and remote servers' tools offered directly), API tokens, and what each client said of itself."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from switchboard.connectors.tables import Connection
from switchboard.identity.tables import Group, User
from switchboard.recipes.tables import Recipe


class Server(Table, tablename="mcp_server"):
    """An MCP server at ``/mcp/<slug>``; the slug is unique and never changes (clients keep the URL)."""

    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=80)
    description = Text(default="")
    instructions = Text(default="")
    access_method = Varchar(length=16, default="identity")
    rate_limit_per_minute = Integer(default=60)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ServerClientLimit(Table, tablename="mcp_server_client_limit"):
    """A client's own rate limit on a server, instead of the server's; (server, client_id) is unique
    (migration index)."""

    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    client_id = Varchar(length=600, help_text="An OAuth client's id, or token:<name> for an API token.")
    rate_limit_per_minute = Integer(help_text="Requests a minute per person through this client; 0: none.")


class ServerGroup(Table, tablename="mcp_server_group"):
    """An end-user group that may use a server; (server, group) is unique (migration index)."""

    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False, index=True)


class ServerTool(Table, tablename="mcp_server_tool"):
    """A recipe attached as a tool; (server, recipe) is unique. An empty scope is ``mcp:tools:<tool>``."""

    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    recipe = ForeignKey(references=Recipe, on_delete=OnDelete.cascade, null=False, index=True)
    scope = Varchar(length=200, default="")
    read_only = Boolean(default=False)
    destructive = Boolean(default=False)


class ServerRemoteTool(Table, tablename="mcp_server_remote_tool"):
    """A remote MCP server's tool offered directly (no recipe), called through one of its connections."""

    id = UUID(primary_key=True)
    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    connection = ForeignKey(references=Connection, on_delete=OnDelete.cascade, null=False, index=True)
    action = Varchar(length=64, help_text="The action of the remote server's connector.")
    name = Varchar(length=64, help_text="The tool's name on this server.")
    scope = Varchar(length=200, default="")
    read_only = Boolean(default=False)
    destructive = Boolean(default=False)


class ServerToken(Table, tablename="mcp_server_token"):
    """A server API token (Token access method): only the SHA-256 of the secret is kept."""

    id = UUID(primary_key=True)
    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=80)
    prefix = Varchar(length=16)
    secret_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    created_by = Varchar(length=254, default="")
    last_used_at = Timestamptz(null=True, default=None)


class ClientSighting(Table, tablename="mcp_client_sighting"):
    """What a client said of itself when it last called a server: (server, client_id, person_key) is
    unique (migration index). ``user`` is None for an API token's caller, so ``person_key`` stands for
    the person in that index, where SQLite and PostgreSQL alike count NULLs as distinct."""

    id = UUID(primary_key=True)
    server = ForeignKey(references=Server, on_delete=OnDelete.cascade, null=False, index=True)
    client_id = Varchar(length=600, index=True, help_text="An OAuth client's id, or token:<name>.")
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    person_key = Varchar(length=36, default="", help_text="The user's id, or '' for an API token's caller.")
    user_email = Varchar(length=254, default="")
    service_account = Boolean(default=False, help_text="A client calling as itself (client credentials).")
    protocol_version = Varchar(length=32, default="")
    url_elicitation = Boolean(
        null=True, default=None, help_text="Whether it declared URL-mode elicitation; None: not yet said."
    )
    client_name = Varchar(length=200, default="", help_text="Its clientInfo name, as it says.")
    client_version = Varchar(length=100, default="")
    last_seen_at = Timestamptz()
