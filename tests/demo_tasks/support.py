"""Talking to Demo Tasks the way a browser and an OAuth client (Switchboard) do."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from switchboard.platform.demo_tasks.clients import DemoClient

HOST = "http://testserver.local"
ISSUER = f"{HOST}/demo-tasks"
REDIRECT_URI = "https://switchboard.example.com/connections/callback"
DEMO_PASSWORD = "switchboard-demo"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token input"
    return match.group(1)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def basic(client: DemoClient) -> httpx.BasicAuth:
    return httpx.BasicAuth(client.client_id, client.client_secret)


@dataclass
class Authorized:
    """What a finished authorization request gave the client."""

    code: str
    verifier: str
    location: str


class DemoTasksBrowser:
    """A person's browser on Demo Tasks (paths relative to the app's root) and the client's calls."""

    def __init__(self, http: httpx.AsyncClient, issuer: str = ISSUER) -> None:
        self.http = http
        self.issuer = issuer

    def url(self, path: str) -> str:
        return self.issuer + path

    async def submit(self, page: str, action: str, data: dict[str, str]) -> httpx.Response:
        opened = await self.http.get(self.url(page))
        return await self.http.post(
            self.url(action), data={"_csrf_token": csrf_from(opened.text), **data}, follow_redirects=False
        )

    async def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        return await self.submit("/login", "/login", {"email": email, "password": password})

    def authorize_params(self, client: DemoClient, challenge: str, **changes: str) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "tasks:read tasks:write",
            "state": "state-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(changes)
        return {key: value for key, value in params.items() if value != ""}

    async def authorize(self, params: dict[str, str]) -> httpx.Response:
        return await self.http.get(self.url("/authorize"), params=params, follow_redirects=False)

    async def decide(self, consent_page: httpx.Response, decision: str) -> httpx.Response:
        request = re.search(r'name="request" value="([^"]*)"', consent_page.text)
        assert request, "the consent page carries no request"
        import html

        return await self.http.post(
            self.url("/authorize"),
            data={
                "_csrf_token": csrf_from(consent_page.text),
                "request": html.unescape(request.group(1)),
                "decision": decision,
            },
            follow_redirects=False,
        )

    async def authorized(self, client: DemoClient, *, scope: str = "tasks:read tasks:write") -> Authorized:
        """Sign-in done already: ask, allow, and return the code from the redirect."""
        verifier, challenge = pkce_pair()
        consent = await self.authorize(self.authorize_params(client, challenge, scope=scope))
        assert consent.status_code == 200, consent.text
        answer = await self.decide(consent, "allow")
        assert answer.status_code == 303, answer.text
        return Authorized(query_of(answer.headers["location"])["code"], verifier, answer.headers["location"])

    async def token(self, data: dict[str, str], *, auth: httpx.Auth | None = None) -> httpx.Response:
        return await self.http.post(self.url("/token"), data=data, auth=auth)

    async def exchange(self, client: DemoClient, authorized: Authorized) -> httpx.Response:
        return await self.token(
            {
                "grant_type": "authorization_code",
                "code": authorized.code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": authorized.verifier,
            },
            auth=basic(client),
        )

    async def tokens_for(
        self, client: DemoClient, email: str, *, scope: str = "tasks:read tasks:write"
    ) -> dict[str, str]:
        """Sign in as ``email`` (in a fresh cookie jar), allow, exchange: the token response."""
        self.http.cookies.clear()
        signed = await self.sign_in(email)
        assert signed.status_code == 303, signed.text
        answer = await self.exchange(client, await self.authorized(client, scope=scope))
        assert answer.status_code == 200, answer.text
        tokens: dict[str, str] = answer.json()
        self.http.cookies.clear()
        return tokens

    async def refresh(self, client: DemoClient, refresh_token: str, **extra: str) -> httpx.Response:
        return await self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}, auth=basic(client)
        )

    async def revoke(self, client: DemoClient, token: str) -> httpx.Response:
        return await self.http.post(self.url("/revoke"), data={"token": token}, auth=basic(client))

    async def tasks(self, access_token: str) -> httpx.Response:
        return await self.http.get(
            self.url("/api/tasks"), headers={"Authorization": f"Bearer {access_token}"}
        )

    async def add_task(self, access_token: str, body: object) -> httpx.Response:
        return await self.http.post(
            self.url("/api/tasks"), json=body, headers={"Authorization": f"Bearer {access_token}"}
        )
