"""What Demo Tasks' request handlers share, built once per app from its issuer and secret key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

import msgspec

from switchboard.platform.demo_tasks.authorization import Authorizer
from switchboard.platform.demo_tasks.clients import ClientRegistry
from switchboard.platform.demo_tasks.sessions import SessionCookies
from switchboard.platform.demo_tasks.tokens import TokenEndpoint


class DemoTasks(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    clients: ClientRegistry
    authorizer: Authorizer
    tokens: TokenEndpoint
    sessions: SessionCookies

    @classmethod
    def build(
        cls,
        *,
        issuer: str,
        secret_key: str,
        access_token_lifetime: timedelta,
        secure_cookies: bool,
        previous_keys: Sequence[str] = (),
    ) -> DemoTasks:
        issuer = issuer.rstrip("/")
        clients = ClientRegistry(secret_key, previous_keys)
        return cls(
            issuer=issuer,
            clients=clients,
            authorizer=Authorizer(issuer=issuer, clients=clients),
            tokens=TokenEndpoint(clients=clients, access_token_lifetime=access_token_lifetime),
            sessions=SessionCookies(secret_key, path=mount_path(issuer), secure=secure_cookies),
        )

    def url(self, path: str) -> str:
        """An absolute URL of this app; every link and redirect is built from the issuer."""
        return self.issuer + path


def mount_path(issuer: str) -> str:
    """Where the app lives on its host: ``/demo-tasks`` for ``http://host/demo-tasks``, else ``/``."""
    return urlsplit(issuer).path.rstrip("/") or "/"
