"""Identity tables: users, end-user groups, sign-in sessions, admin API tokens, sign-in throttling, and
the OAuth authorization server's clients, codes, grants, keys, consents and audit trail."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
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
    kind = Varchar(
        length=16, default="person", help_text="'person', or 'service' for an account that cannot sign in."
    )
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


class OAuthClient(Table, tablename="identity_oauth_client"):
    """An OAuth client: made by an admin (static), registered dynamically, or a metadata document URL."""

    id = UUID(primary_key=True)
    client_id = Varchar(length=500, unique=True)
    kind = Varchar(length=24, help_text="'static', 'dynamic' or 'metadata_document'.")
    name = Varchar(length=200)
    redirect_uris = JSON(default=[])
    grant_types = JSON(default=[])
    token_endpoint_auth_method = Varchar(length=32, default="none")
    secret_hash = Varchar(length=64, null=True, default=None, secret=True)
    scope = Varchar(length=2000, default="", help_text="Scopes the client registered for; empty: any.")
    scope_cap = Varchar(
        length=2000,
        default="",
        help_text="The scopes an admin allows the client at most, space-separated; empty: no cap.",
    )
    client_uri = Varchar(length=500, default="")
    logo_uri = Varchar(length=500, default="")
    status = Varchar(length=16, default="pending", help_text="'pending', 'approved' or 'refused'.")
    approved_by = ForeignKey(references=User, on_delete=OnDelete.set_null, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.set_null, null=True, default=None)
    service_account = ForeignKey(references=User, on_delete=OnDelete.set_null, null=True, default=None)
    may_introspect_any = Boolean(default=False, help_text="Resource-server credentials.")
    fingerprint = Varchar(length=64, index=True, help_text="Name and redirect URIs, to group repeats.")
    metadata = JSON(default={}, help_text="The registered or fetched client metadata.")
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    secret_rotated_at = Timestamptz(null=True, default=None)


class OAuthGrant(Table, tablename="identity_oauth_grant"):
    """One authorization (a code exchange or a client-credentials request) and its refresh tokens."""

    id = UUID(primary_key=True)
    client = ForeignKey(references=OAuthClient, on_delete=OnDelete.cascade, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    grant_type = Varchar(length=40)
    scope = Varchar(length=2000, default="")
    resource = Varchar(length=500, default="")
    created_at = Timestamptz()
    last_used_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=200, default="")


class OAuthCode(Table, tablename="identity_oauth_code"):
    id = UUID(primary_key=True)
    code_hash = Varchar(length=64, unique=True, secret=True)
    client = ForeignKey(references=OAuthClient, on_delete=OnDelete.cascade, null=False, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    redirect_uri = Varchar(length=2000)
    scope = Varchar(length=2000, default="")
    resource = Varchar(length=500, default="")
    code_challenge = Varchar(length=128)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    grant = ForeignKey(
        references=OAuthGrant, on_delete=OnDelete.set_null, null=True, default=None, help_text="What it made."
    )


class OAuthRefreshToken(Table, tablename="identity_oauth_refresh_token"):
    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    grant = ForeignKey(references=OAuthGrant, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None, help_text="When it was exchanged for its successor.")
    rotated_from = UUID(
        null=True,
        default=None,
        index=True,
        help_text="The refresh token it was issued for (None: the grant's first), to tell whether its "
        "successor has been used when a spent token is presented again.",
    )


class OAuthConsent(Table, tablename="identity_oauth_consent"):
    """What a user allowed a client for one resource; (user, client, resource) is unique by index."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False, index=True)
    client = ForeignKey(references=OAuthClient, on_delete=OnDelete.cascade, null=False)
    resource = Varchar(length=500, default="")
    scope = Varchar(length=2000, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class SigningKey(Table, tablename="identity_signing_key"):
    kid = Varchar(length=64, primary_key=True)
    algorithm = Varchar(length=16, default="RS256")
    private_key = Text(
        secret=True, help_text="The private JWK, encrypted with a key derived from the secret key."
    )
    public_jwk = JSON()
    created_at = Timestamptz()
    retired_at = Timestamptz(null=True, default=None, help_text="When it stopped signing.")


class Revocation(Table, tablename="identity_revocation"):
    """Access tokens that must stop working before they expire; read incrementally by every process."""

    seq = BigSerial(primary_key=True)
    kind = Varchar(length=16, help_text="'token' (a jti), 'grant', 'client' or 'user'.")
    value = Varchar(length=500)
    created_at = Timestamptz()
    expires_at = Timestamptz(help_text="After this no token it could match is valid any more.")


class AuditEvent(Table, tablename="identity_audit_event"):
    id = BigSerial(primary_key=True)
    at = Timestamptz(index=True)
    action = Varchar(length=48, help_text="Such as token.issued, token.refused, client.registered.")
    outcome = Varchar(length=16, default="ok", help_text="'ok' or 'refused'.")
    actor = Varchar(length=254, default="", help_text="Who acted: an e-mail, or empty for the system.")
    subject = Varchar(length=254, default="", help_text="The user a token or consent is for.")
    client_id = Varchar(length=500, default="")
    client_name = Varchar(length=200, default="")
    grant_type = Varchar(length=40, default="")
    scope = Varchar(length=2000, default="")
    reason = Varchar(length=500, default="")
    ip_address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    object_type = Varchar(
        length=32, default="", index=True, help_text="What was acted on: user, group, server, client, …"
    )
    object_id = Varchar(length=200, default="", help_text="Its id, slug or e-mail.")
    object_name = Varchar(length=254, default="", help_text="Its name when the change was made.")


class IdentitySetting(Table, tablename="identity_setting"):
    """Settings admins change in the console, such as the client registration policy."""

    key = Varchar(length=64, primary_key=True)
    value = JSON()
    updated_at = Timestamptz()
