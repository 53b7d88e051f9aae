"""Demo Tasks' own tables, prefixed ``demo_tasks_`` so they never meet Switchboard's.

Secrets are never stored in clear: passwords as argon2id hashes, codes and tokens as SHA-256 hashes;
client secrets are encrypted (not hashed) because Switchboard's demo seed reads them back.
"""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table


class Account(Table, tablename="demo_tasks_account"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, help_text="Lower-cased, so uniqueness ignores case.")
    name = Varchar(length=120, default="")
    password_hash = Varchar(length=255, secret=True, help_text="argon2id hash.")
    created_at = Timestamptz()


class Client(Table, tablename="demo_tasks_client"):
    """An OAuth client of Demo Tasks' authorization server (confidential: it always has a secret)."""

    id = UUID(primary_key=True)
    client_id = Varchar(length=64, unique=True)
    name = Varchar(length=200, unique=True, help_text="Clients are looked up by name by the demo seed.")
    secret_encrypted = Text(
        secret=True, help_text="The client secret, sealed with a key from the secret key."
    )
    redirect_uris = Text(default="", help_text="Registered redirect URIs, one per line; matched exactly.")
    created_at = Timestamptz()


class Grant(Table, tablename="demo_tasks_grant"):
    """One authorization of a client by an account; its tokens live and die with it."""

    id = UUID(primary_key=True)
    client = ForeignKey(references=Client, on_delete=OnDelete.cascade, null=False, index=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    scope = Varchar(length=200, default="")
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class AuthorizationCode(Table, tablename="demo_tasks_authorization_code"):
    id = UUID(primary_key=True)
    code_hash = Varchar(length=64, unique=True, secret=True, help_text="SHA-256 of the code.")
    client = ForeignKey(references=Client, on_delete=OnDelete.cascade, null=False, index=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False)
    redirect_uri = Varchar(length=2000)
    scope = Varchar(length=200, default="")
    code_challenge = Varchar(length=128, help_text="PKCE S256 challenge.")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    grant = ForeignKey(
        references=Grant,
        on_delete=OnDelete.set_null,
        null=True,
        default=None,
        help_text="What the code produced, revoked if the code is presented again.",
    )


class Token(Table, tablename="demo_tasks_token"):
    """An access or refresh token, known only by its hash."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True, secret=True, help_text="SHA-256 of the token.")
    kind = Varchar(length=16, help_text="'access' or 'refresh'.")
    grant = ForeignKey(references=Grant, on_delete=OnDelete.cascade, null=False, index=True)
    scope = Varchar(length=200, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None, help_text="When a refresh token was exchanged.")
    revoked_at = Timestamptz(null=True, default=None)


class Task(Table, tablename="demo_tasks_task"):
    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, on_delete=OnDelete.cascade, null=False, index=True)
    title = Varchar(length=200)
    done = Boolean(default=False)
    created_at = Timestamptz()
