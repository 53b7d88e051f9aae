"""Piccolo app for the identity tables."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from switchboard.identity.tables import (
    ApiToken,
    AuditEvent,
    Group,
    GroupMember,
    IdentitySetting,
    LoginSession,
    OAuthClient,
    OAuthCode,
    OAuthConsent,
    OAuthGrant,
    OAuthRefreshToken,
    Revocation,
    SigningKey,
    SignInThrottle,
    User,
)
from switchboard.platform.core.ratelimit import RateLimitWindow

APP_CONFIG = AppConfig(
    app_name="identity",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        User,
        Group,
        GroupMember,
        LoginSession,
        ApiToken,
        SignInThrottle,
        OAuthClient,
        OAuthGrant,
        OAuthCode,
        OAuthRefreshToken,
        OAuthConsent,
        SigningKey,
        Revocation,
        AuditEvent,
        IdentitySetting,
        RateLimitWindow,
    ],
    migration_dependencies=[],
    commands=[],
)
