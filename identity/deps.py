"""The identity services a running app shares, and their dependency providers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.di import Provide

from switchboard.identity.auth.guards import current_principal
from switchboard.identity.principal import Principal
from switchboard.identity.services.api_tokens import ApiTokenService
from switchboard.identity.services.groups import GroupService
from switchboard.identity.services.sessions import SessionService
from switchboard.identity.services.throttle import SignInThrottler, ThrottlePolicy
from switchboard.identity.services.users import UserService
from switchboard.platform.core.settings import Settings


class IdentityServices(msgspec.Struct, frozen=True):
    users: UserService
    groups: GroupService
    sessions: SessionService
    api_tokens: ApiTokenService

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityServices:
        policy = ThrottlePolicy(
            max_failures_per_account=settings.login_max_failures_per_account,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            lockout_minutes=settings.login_lockout_minutes,
        )
        return cls(
            users=UserService(),
            groups=GroupService(),
            sessions=SessionService(
                secret_key=settings.secret_key,
                lifetime=timedelta(hours=settings.session_lifetime_hours),
                throttler=SignInThrottler(policy),
            ),
            api_tokens=ApiTokenService(),
        )

    def dependencies(self) -> dict[str, Provide]:
        return {
            "users": Provide(lambda: self.users, sync_to_thread=False),
            "groups": Provide(lambda: self.groups, sync_to_thread=False),
            "sessions": Provide(lambda: self.sessions, sync_to_thread=False),
            "api_tokens": Provide(lambda: self.api_tokens, sync_to_thread=False),
            "principal": Provide(_principal, sync_to_thread=False),
        }


def _principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    return current_principal(request)
