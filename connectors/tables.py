"""Connector tables: projects, custom connector definitions, connections, each user's grant, connect links.

Credentials and third-party tokens are stored only as ciphertext (``platform.core.crypto.SecretBox``);
connect links and their ``state`` only as hashes.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from switchboard.identity.tables import User


class Project(Table, tablename="connectors_project"):
    """A builder's folder (the connection form's "Location"): connections and recipes live in one."""

    id = UUID(primary_key=True)
    name = Varchar(length=80)
    name_key = Varchar(length=80, unique=True, help_text="Lower-cased name, for case-blind uniqueness.")
    description = Varchar(length=500, default="")
    created_at = Timestamptz()


class CustomConnector(Table, tablename="connectors_custom_connector"):
    """A connector definition added through the console or the API (YAML or JSON as written)."""

    key = Varchar(length=63, primary_key=True)
    source = Text(help_text="The definition as the builder wrote it.")
    created_by = Varchar(length=254, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Connection(Table, tablename="connectors_connection"):
    """Credentials for a connector: shared (one set) or end user's (each user connects their own)."""

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=80)
    name_key = Varchar(length=80, help_text="Lower-cased name; unique per project (index in migration).")
    connector = Varchar(length=63, index=True, help_text="The connector definition's key.")
    mode = Varchar(length=16, help_text="'shared' or 'end_user'.")
    auth_type = Varchar(length=40)
    settings = JSON(help_text="Non-secret settings: field values, client ID, scopes.")
    secrets = Text(default="", secret=True, help_text="Encrypted JSON of the credentials.")
    scopes_version = Integer(default=1, help_text="Raised when scopes change, so grants re-consent.")
    private_origins = Text(
        default="",
        help_text="The origins (scheme://host:port, space-separated) an admin allowed onto private "
        "addresses and plain http for this connection; empty: none.",
    )
    created_by = Varchar(length=254, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class UserGrant(Table, tablename="connectors_user_grant"):
    """One account of a user in an end user's connection: its tokens, or the API key (``user name:password``
    for basic) they entered for one whose app has no OAuth. A person may connect several accounts, each
    named by a ``label``; (connection, user, label_key) is unique (migration index)."""

    id = UUID(primary_key=True)
    connection = ForeignKey(references=Connection, on_delete=OnDelete.cascade, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    status = Varchar(length=20, default="connected", help_text="'connected' or 'needs_reconnect'.")
    reason = Varchar(length=300, default="", help_text="Why the grant needs reconnecting.")
    account = Varchar(length=254, default="", help_text="The connected account, from the app's userinfo.")
    label = Varchar(length=80, default="default", help_text="The person's name for this account.")
    label_key = Varchar(
        length=80, default="default", help_text="Lower-cased label, for case-blind uniqueness."
    )
    is_default = Boolean(default=True, help_text="The account calls use when they name none.")
    scopes = Text(default="", help_text="Scopes the app granted, space-separated.")
    scopes_version = Integer(default=1)
    tokens = Text(default="", secret=True, help_text="Encrypted JSON: access and refresh tokens.")
    expires_at = Timestamptz(null=True, default=None)
    issuer = Varchar(length=500, default="", help_text="The authorization server that issued the tokens.")
    lease_until = Timestamptz(null=True, default=None, help_text="A refresh in progress holds the lease.")
    connected_at = Timestamptz()
    refreshed_at = Timestamptz(null=True, default=None)


class ConnectLink(Table, tablename="connectors_connect_link"):
    """A single-use link for one user to connect one connection, then the authorization it started."""

    id = UUID(primary_key=True)
    link_hash = Varchar(length=64, unique=True, secret=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    connection = ForeignKey(references=Connection, on_delete=OnDelete.cascade, null=False)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    opened_at = Timestamptz(null=True, default=None)
    state_hash = Varchar(length=64, null=True, default=None, unique=True, secret=True)
    verifier = Text(default="", secret=True, help_text="Encrypted PKCE code verifier.")
    redirect_to = Varchar(length=500, default="", help_text="Where the user goes after connecting.")
    finished_at = Timestamptz(null=True, default=None)
    more_scopes = Text(default="", help_text="Scopes asked for beyond the connection's (a step-up).")
    label = Varchar(
        length=80,
        default="",
        help_text="The account it connects, by the person's name for it; '': the default.",
    )


class RemoteServer(Table, tablename="connectors_remote_server"):
    """A remote MCP server added by URL; its connector (same key) is generated from it.

    ``settings`` holds the non-secret auth configuration and what discovery found; ``secrets`` the
    encrypted credentials entered for it and ``registration`` the encrypted client Switchboard registered.
    """

    key = Varchar(length=63, primary_key=True, help_text="The connector's key.")
    name = Varchar(length=80)
    endpoint = Varchar(length=1000)
    auth_mode = Varchar(length=40)
    settings = JSON(help_text="Auth settings (URLs, scopes, client ID, header), the discovery result, tools.")
    secrets = Text(default="", secret=True, help_text="Encrypted JSON: token, client secret.")
    registration = Text(default="", secret=True, help_text="Encrypted JSON: the client registered.")
    allow_private = Boolean(default=False, help_text="An admin allowed private addresses for this server.")
    tools_refreshed_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=254, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
