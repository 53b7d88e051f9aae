"""Identity tables: users, end-user groups, sign-in sessions, admin API tokens, sign-in throttling."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class User(Table, tablename="identity_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, help_text="Lower-cased, so uniqueness ignores case.")
    name = Varchar(length=120, default="")
    role = Varchar(length=16, default="member", help_text="owner, admin, builder or member.")
    password_hash = Varchar(length=255, secret=True, help_text="argon2id hash.")
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    last_sign_in_at = Timestamptz(null=True, default=None)


class Group(Table, tablename="identity_group"):
    id = UUID(primary_key=True)
    name = Varchar(length=80)
    name_key = Varchar(length=80, unique=True, help_text="Lower-cased name, for case-blind uniqueness.")
    description = Varchar(length=500, default="")
    created_at = Timestamptz()


class GroupMember(Table, tablename="identity_group_member"):
    """A user in a group; (group, user) is unique through an index made by the first migration."""

    id = UUID(primary_key=True)
    group = ForeignKey(references=Group, on_delete=OnDelete.cascade, null=False)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    added_at = Timestamptz()


class LoginSession(Table, tablename="identity_login_session"):
    id = UUID(primary_key=True)
    token_hash = Varchar(
        length=64, unique=True, secret=True, help_text="SHA-256 of the session token in the cookie."
    )
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    last_seen_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    ip_address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class ApiToken(Table, tablename="identity_api_token"):
    id = UUID(primary_key=True)
    name = Varchar(length=80)
    token_hash = Varchar(
        length=64, unique=True, secret=True, help_text="SHA-256 of the token; the token is shown once."
    )
    prefix = Varchar(length=16, help_text="The token's first characters, to recognise it in lists.")
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)


class SignInThrottle(Table, tablename="identity_sign_in_throttle"):
    key = Varchar(length=300, primary_key=True, help_text="'account:<email>' or 'ip:<address>'.")
    failures = Integer(default=0)
    window_started_at = Timestamptz()
    locked_until = Timestamptz(null=True, default=None)
