"""Remote MCP sessions kept open between calls made with the same credentials."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from switchboard.connectors.remote.credentials import Credentials
from switchboard.connectors.remote.network import Network, NetworkPolicy
from switchboard.connectors.remote.session import (
    CALL_TIMEOUT_SECONDS,
    RemoteSession,
    end_session,
    new_session,
)


class SessionPool:
    """Sessions kept open between calls, so a call costs one request rather than four (initialize,
    initialized, the call, the end of the session).

    A session is reused only for the same endpoint, network policy, timeout and credentials (headers and
    bearer token, compared by digest): a session a server bound to one person's token never carries
    another's. A session that failed is ended, not kept; one idle longer than ``idle_seconds`` is ended
    on the next use of the pool or by housekeeping (``end_idle``); at most ``per_key`` idle sessions are
    kept for the same credentials. A session the server forgot (404) is initialized again by the session
    itself.
    """

    def __init__(self, network: Network, *, idle_seconds: float = 300.0, per_key: int = 4) -> None:
        self._network = network
        self._idle_seconds = idle_seconds
        self._per_key = per_key
        self._idle: dict[tuple[Any, ...], list[tuple[float, RemoteSession]]] = {}
        # Idle sessions are looked for at most this often, not on every call.
        self._sweep_seconds = min(idle_seconds, 30.0)
        self._swept = time.monotonic()

    @contextlib.asynccontextmanager
    async def session(
        self,
        policy: NetworkPolicy,
        endpoint: str,
        credentials: Credentials,
        *,
        name: str,
        headers: dict[str, str] | None = None,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> AsyncIterator[RemoteSession]:
        if time.monotonic() - self._swept >= self._sweep_seconds:
            await self.end_idle()
        key = (endpoint, policy, call_timeout, await _digest(headers, credentials))
        waiting = self._idle.get(key)
        if waiting:
            session = waiting.pop()[1]
            session.use(credentials, headers)
        else:
            session = new_session(self._network, policy, endpoint, credentials, name, headers, call_timeout)
        try:
            yield session
        except BaseException:
            await end_session(session)
            raise
        # Kept under the credentials it holds now (a refreshed token is another key).
        key = (endpoint, policy, call_timeout, await _digest(headers, credentials))
        waiting = self._idle.setdefault(key, [])
        if len(waiting) < self._per_key:
            waiting.append((time.monotonic(), session))
        else:
            await end_session(session)

    async def aclose(self) -> None:
        """End every idle session (on shutdown)."""
        idle, self._idle = self._idle, {}
        for waiting in idle.values():
            for _, session in waiting:
                await end_session(session)

    async def end_idle(self) -> int:
        """End the sessions idle for longer than ``idle_seconds``; returns how many."""
        self._swept = time.monotonic()
        cutoff = self._swept - self._idle_seconds
        ended = 0
        for key, waiting in list(self._idle.items()):
            stale = [session for since, session in waiting if since < cutoff]
            self._idle[key] = [(since, session) for since, session in waiting if since >= cutoff]
            if not self._idle[key]:
                del self._idle[key]
            for session in stale:
                await end_session(session)
                ended += 1
        return ended


async def _digest(headers: dict[str, str] | None, credentials: Credentials) -> str:
    """Which credentials a session carries, without keeping them as a key."""
    material = json.dumps([sorted((headers or {}).items()), await credentials.token()])
    return hashlib.sha256(material.encode()).hexdigest()
