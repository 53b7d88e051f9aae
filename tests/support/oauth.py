"""An OAuth client for the tests: registration, PKCE, the authorization request through the pages
(signed in as a person), the token endpoint. Everything goes over HTTP, as a real client's would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec

from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.oauth.verifier import InvalidToken
from tests.support.web import Browserless, csrf_from

REDIRECT_URI = "http://127.0.0.1:8765/callback"
RESOURCE = "http://testserver.local/mcp/test"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) without checking the signature."""
    header, payload, _ = token.split(".")

    def decoded(part: str) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.json.decode(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return result

    return decoded(header), decoded(payload)


async def verifies(server: AuthorizationServer, token: str, audience: str = RESOURCE) -> bool:
    """Whether a resource server (the MCP layer) would accept the access token for ``audience``."""
    try:
        await server.verifier.verify(token, audience=audience)
    except InvalidToken:
        return False
    return True


class AuthorizationAttempt(msgspec.Struct):
    """The authorization request a client made, and how it ended."""

    params: dict[str, str]
    verifier: str
    response: httpx.Response

    @property
    def location(self) -> str:
        return str(self.response.headers.get("location", ""))

    @property
    def callback(self) -> dict[str, str]:
        return query_of(self.location)

    @property
    def asks_consent(self) -> bool:
        """The person is shown the consent page (with its Allow and Deny buttons)."""
        return self.response.status_code == 200 and 'name="decision"' in self.response.text


class OAuthClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def register(self, **metadata: Any) -> httpx.Response:
        body = {"client_name": "Test client", "redirect_uris": [REDIRECT_URI], **metadata}
        return await self.http.post("/oauth/register", json=body)

    async def registered(self, **metadata: Any) -> dict[str, Any]:
        answer = await self.register(**metadata)
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    @staticmethod
    def authorization_params(client_id: str, **params: str | None) -> tuple[dict[str, str], str]:
        verifier, challenge = pkce_pair()
        defaults: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "state": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": RESOURCE,
        }
        defaults.update(params)
        return {key: value for key, value in defaults.items() if value is not None}, verifier

    async def authorize(
        self, browser: Browserless, client_id: str, *, decision: str | None = "allow", **params: str | None
    ) -> AuthorizationAttempt:
        """Open the authorization URL as the browser's signed-in person and answer the consent page."""
        query, verifier = self.authorization_params(client_id, **params)
        response = await browser.client.get("/oauth/authorize", params=query, follow_redirects=False)
        if response.status_code == 200 and decision is not None and 'name="decision"' in response.text:
            response = await browser.client.post(
                "/oauth/authorize",
                data={
                    "_csrf_token": csrf_from(response.text),
                    "request": _hidden(response.text, "request"),
                    "decision": decision,
                },
                follow_redirects=False,
            )
        return AuthorizationAttempt(params=query, verifier=verifier, response=response)

    async def token(self, data: dict[str, str], *, auth: tuple[str, str] | None = None) -> httpx.Response:
        return await self.http.post("/oauth/token", data=data, auth=auth or httpx.USE_CLIENT_DEFAULT)

    async def exchange(
        self, attempt: AuthorizationAttempt, *, secret: str | None = None, **extra: str
    ) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": attempt.callback["code"],
            "redirect_uri": attempt.params["redirect_uri"],
            "code_verifier": attempt.verifier,
            "client_id": attempt.params["client_id"],
            **extra,
        }
        if secret is not None:
            data["client_secret"] = secret
        return await self.token(data)

    async def tokens(
        self, browser: Browserless, client_id: str, *, secret: str | None = None, **params: str | None
    ) -> dict[str, Any]:
        """Authorize (allowing on the consent page when it is shown) and exchange the code."""
        attempt = await self.authorize(browser, client_id, **params)
        assert "code" in attempt.callback, f"no code: {attempt.response.status_code} {attempt.location}"
        answer = await self.exchange(attempt, secret=secret)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def refresh(
        self, refresh_token: str, client_id: str, *, secret: str | None = None, **extra: str
    ) -> httpx.Response:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            **extra,
        }
        if secret is not None:
            data["client_secret"] = secret
        return await self.token(data)

    async def client_credentials(self, client_id: str, secret: str, **extra: str) -> httpx.Response:
        return await self.token({"grant_type": "client_credentials", **extra}, auth=(client_id, secret))

    async def revoke(self, token: str, client_id: str, *, secret: str | None = None) -> httpx.Response:
        data = {"token": token, "client_id": client_id}
        if secret is not None:
            data["client_secret"] = secret
        return await self.http.post("/oauth/revoke", data=data)

    async def introspect(self, token: str, *, auth: tuple[str, str] | None = None) -> httpx.Response:
        return await self.http.post(
            "/oauth/introspect", data={"token": token}, auth=auth or httpx.USE_CLIENT_DEFAULT
        )


def error_of(response: httpx.Response) -> tuple[int, str]:
    """Status and RFC 6749 error code together, so that one assertion shows both when it fails."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, f"<not JSON: {response.text[:200]}>"
    return response.status_code, str(body.get("error")) if isinstance(body, dict) else repr(body)


def _hidden(page: str, name: str) -> str:
    import html
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"the page has no hidden {name} field"
    return html.unescape(match.group(1))
