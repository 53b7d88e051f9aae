"""Talking to pages the way a browser does: CSRF tokens from forms, session cookies, redirects."""

from __future__ import annotations

import re
from typing import Any

import httpx

DEMO_PASSWORD = "switchboard-demo"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token input"
    return match.group(1)


class Browserless:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def submit(
        self, page_path: str, action: str, data: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        """Open ``page_path``, take its CSRF token and post ``data`` to ``action`` (no redirects)."""
        page = await self.client.get(page_path)
        return await self.client.post(
            action, data={"_csrf_token": csrf_from(page.text), **data}, follow_redirects=False, **kwargs
        )

    async def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        return await self.submit("/login", "/login", {"email": email, "password": password})

    def api_headers(self) -> dict[str, str]:
        """Headers a script adds to cookie-authenticated API changes: the current session's own token,
        which signing in puts in the CSRF cookie (take them again after signing in or out: a token of
        another session, or of none, is refused)."""
        token = self.client.cookies.get("sb_csrf")
        assert token, "no CSRF cookie yet: open a page or sign in first"
        return {"x-csrftoken": token}
