"""The identity services a running app shares, wired from the settings."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from switchboard.identity.audit import AuditLog
from switchboard.identity.oauth.clients import ClientService
from switchboard.identity.oauth.consent import ConsentService
from switchboard.identity.oauth.keys import SigningKeys
from switchboard.identity.oauth.metadata_documents import MetadataDocumentFetcher, MetadataFetcher
from switchboard.identity.oauth.rate_limits import RateLimits
from switchboard.identity.oauth.resources import ResourceDirectory, StaticResources
from switchboard.identity.oauth.revocation_list import RevocationList
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.oauth.tokens import Lifetimes
from switchboard.identity.oauth.verifier import TokenVerifier
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
    oauth: AuthorizationServer

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        resources: ResourceDirectory | None = None,
        metadata_fetcher: MetadataFetcher | None = None,
    ) -> IdentityServices:
        policy = ThrottlePolicy(
            max_failures_per_account=settings.login_max_failures_per_account,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            lockout_minutes=settings.login_lockout_minutes,
        )
        audit = AuditLog()
        return cls(
            users=UserService(audit),
            groups=GroupService(audit),
            sessions=SessionService(
                secret_key=settings.secret_key,
                lifetime=timedelta(hours=settings.session_lifetime_hours),
                throttler=SignInThrottler(policy),
                audit=audit,
            ),
            api_tokens=ApiTokenService(audit),
            oauth=_authorization_server(settings, resources or StaticResources(), metadata_fetcher, audit),
        )


def _authorization_server(
    settings: Settings, resources: ResourceDirectory, fetcher: MetadataFetcher | None, audit: AuditLog
) -> AuthorizationServer:
    lifetimes = Lifetimes(
        access_token=timedelta(minutes=settings.access_token_lifetime_minutes),
        refresh_token=timedelta(days=settings.refresh_token_lifetime_days),
        code=timedelta(seconds=settings.authorization_code_lifetime_seconds),
        refresh_reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
    )
    revocations = RevocationList(lifetimes.access_token)
    keys = SigningKeys(settings.secret_key, lifetimes.access_token, settings.previous_keys)
    return AuthorizationServer(
        issuer=settings.base_url,
        clients=ClientService(
            audit=audit,
            revocations=revocations,
            fetcher=fetcher or MetadataDocumentFetcher(),
            unused_lifetime=timedelta(hours=settings.unused_client_lifetime_hours),
        ),
        consents=ConsentService(audit, revocations),
        keys=keys,
        revocations=revocations,
        verifier=TokenVerifier(settings.base_url, keys, revocations),
        audit=audit,
        resources=resources,
        lifetimes=lifetimes,
        limits=RateLimits(
            token_per_client_per_minute=settings.token_requests_per_minute_per_client,
            token_per_ip_per_minute=settings.token_requests_per_minute_per_ip,
            registrations_per_ip_per_hour=settings.registrations_per_hour_per_ip,
        ),
    )
