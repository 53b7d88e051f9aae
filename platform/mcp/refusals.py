"""Refusals at ``/mcp/<slug>`` in the audit trail (action ``mcp.refused``), with their reason.

A record says why (``invalid_token: the token has expired``, ``access_denied: …``, ``insufficient_scope:
…``, ``rate_limited: …``, ``not_found: …``, ``forbidden: …``), who asked when the token told (actor and
subject: the person; the client's id and name; the token's scopes), from where (address, user agent),
and of which server (object: type ``server``, id the slug asked for, the server's name).

Refusals are what anyone can cause without a token, so their records are rationed: each kind of refusal
is counted per minute (``RateLimiter``, in the database) per network for callers without a valid token,
and per server, client and person for the others; the 1st, 10th, 100th, 1000th… of a minute are
recorded, each after the first with its count in the reason. However many requests a caller sends, it
writes a handful of records a minute. Callers without a valid token spread over many networks meet a
ceiling too: the record that reaches ``CEILING`` such records in a minute says so, and the rest of the
minute's are not recorded. (Each refused request costs one counter update; a record, one more update and
an insert.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from switchboard.identity.audit import AuditEntry, rationed
from switchboard.platform.core.ratelimit import RateLimiter, client_network
from switchboard.platform.mcp.access import McpCaller, Refusal
from switchboard.platform.mcp.client_names import ClientNames
from switchboard.platform.mcp.models import McpServer

ACTION = "mcp.refused"
CEILING = 600
"""The most records a minute of refusals without a valid token, whatever networks they come from."""
_WINDOW = timedelta(minutes=1)


class AuditTrail(Protocol):
    """Where refusals are recorded (the identity layer's ``AuditLog``)."""

    async def record(self, entry: AuditEntry) -> None: ...


class RefusalLog:
    def __init__(self, *, audit: AuditTrail, names: ClientNames, limiter: RateLimiter | None = None) -> None:
        self._audit = audit
        self._names = names
        self._limiter = limiter or RateLimiter()

    async def refused(
        self,
        refusal: Refusal,
        *,
        slug: str,
        server: McpServer | None,
        ip_address: str,
        user_agent: str,
        caller: McpCaller | None = None,
    ) -> bool:
        """Record ``refusal`` of a request to ``slug`` (``server`` None: there is no such server), unless
        its kind was recorded often enough this minute; whether it was recorded."""
        email = caller.email if caller is not None else refusal.email
        client_id = caller.client_id if caller is not None else refusal.client_id
        scopes = caller.scopes if caller is not None else refusal.scopes
        network = client_network(ip_address) or "an unknown address"
        if client_id:  # a verified token: its holder's own refusals
            server_id = server.id if server is not None else slug
            key = f"mcp-refused:{refusal.error}:{server_id}:{client_id}:{email}"
            source = "of this person and client" if email else "of this client"
        else:
            key = f"mcp-refused:{refusal.error}:{network}"
            source = f"from {network}"
        hits = (await self._limiter.count(key, window=_WINDOW)).hits
        if not rationed(hits):
            return False
        reason = f"{refusal.error}: {refusal.reason}"
        if hits > 1:
            reason += f" (the {hits}th {refusal.error} refusal {source} this minute)"
        if not client_id:
            recorded = (await self._limiter.count("mcp-refused:without-token", window=_WINDOW)).hits
            if recorded > CEILING:
                return False
            if recorded == CEILING:
                reason += (
                    f"; {CEILING} refusals without a valid token were recorded this minute, "
                    "the rest of the minute's are not"
                )
        await self._audit.record(
            AuditEntry(
                action=ACTION,
                outcome="refused",
                actor=email,
                subject=email,
                client_id=client_id,
                client_name=await self._names.name_of(server, client_id) if server is not None else "",
                scope=" ".join(scopes),
                reason=_printable(reason),
                ip_address=ip_address,
                user_agent=_printable(user_agent),
                object_type="server",
                object_id=_printable(slug),
                object_name=server.name if server is not None else "",
            )
        )
        return True


def _printable(text: str) -> str:
    """What a caller sent, without control characters (it is shown and exported as it is)."""
    return "".join(character for character in text if character.isprintable())
