"""How many requests the authorization server's endpoints answer, per client and per network.

The counting is the shared ``RateLimiter``'s; a limit passed is answered as ``too_many_requests`` (429,
with ``Retry-After``). Each limit has its own key prefix, so that the counts of one never use up another.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from switchboard.identity.oauth.errors import too_many_requests
from switchboard.platform.core.errors import Throttled
from switchboard.platform.core.ratelimit import RateLimiter, client_network

_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    token_per_client_per_minute: int = 120
    token_per_ip_per_minute: int = 600
    registrations_per_ip_per_hour: int = 60


class EndpointLimits:
    """The limits of the token, registration and authorization endpoints; each method counts one
    request and raises ``OAuthError`` (``too_many_requests``) past its limit."""

    def __init__(self, limits: RateLimits, limiter: RateLimiter | None = None) -> None:
        self.limits = limits
        self._limiter = limiter or RateLimiter()

    async def token_request_from(self, ip_address: str) -> None:
        """A token request from this network, authenticated or not."""
        await self._hit(
            f"token-ip:{client_network(ip_address)}", self.limits.token_per_ip_per_minute, _MINUTE
        )

    async def token_request_by(self, client_id: str) -> None:
        """A token request of this (authenticated) client, from wherever it is sent."""
        await self._hit(f"token-client:{client_id}", self.limits.token_per_client_per_minute, _MINUTE)

    async def registration_from(self, ip_address: str) -> None:
        """A new client from this network: registered (RFC 7591) or named by a metadata document."""
        await self._hit(
            f"register-ip:{client_network(ip_address)}", self.limits.registrations_per_ip_per_hour, _HOUR
        )

    async def refused_authorization_from(self, ip_address: str) -> None:
        """An authorization request refused for its redirect URI, which is audited: the limit keeps
        anyone from filling the audit trail."""
        await self._hit(
            f"authorize-refused-ip:{client_network(ip_address)}", self.limits.token_per_ip_per_minute, _MINUTE
        )

    async def _hit(self, key: str, limit: int, window: timedelta) -> None:
        try:
            await self._limiter.hit(key, limit=limit, window=window)
        except Throttled as exc:
            raise too_many_requests(exc) from None
