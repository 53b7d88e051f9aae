"""The sign-in session: a signed cookie naming the account and when the session ends.

Demo Tasks keeps no session table: the cookie ``demo_tasks_session`` holds ``<account id>.<expiry>``
signed with a key derived from the secret key (HMAC-SHA256). It is scoped to the app's own path, HttpOnly
and SameSite=Lax, so it never travels to the app that mounts Demo Tasks.
"""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import UUID

from litestar.datastructures import Cookie

from switchboard.platform.core.tokens import Signer

SESSION_COOKIE = "demo_tasks_session"
SESSION_LIFETIME = timedelta(hours=12)


class SessionCookies:
    def __init__(self, secret_key: str, *, path: str, secure: bool) -> None:
        self._signer = Signer(secret_key, "demo-tasks-session")
        self.path = path
        self.secure = secure

    def issue(self, account_id: UUID) -> Cookie:
        expires = int(time.time() + SESSION_LIFETIME.total_seconds())
        return self._cookie(
            self._signer.sign(f"{account_id}.{expires}"), int(SESSION_LIFETIME.total_seconds())
        )

    def clear(self) -> Cookie:
        return self._cookie("", 0)

    def account_id(self, value: str | None) -> UUID | None:
        """The signed-in account, or None for a missing, altered or expired cookie."""
        payload = self._signer.unsign(value) if value else None
        if payload is None:
            return None
        account, _, expires = payload.partition(".")
        try:
            if int(expires) <= time.time():
                return None
            return UUID(account)
        except ValueError:
            return None

    def _cookie(self, value: str, max_age: int) -> Cookie:
        return Cookie(
            key=SESSION_COOKIE,
            value=value,
            path=self.path,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
