"""An MCP client's side of OAuth for tests: where it keeps tokens, and the person who consents.

The official SDK's ``OAuthClientProvider`` hands the authorization URL to a ``redirect_handler`` and
waits for the code from a ``callback_handler``; ``ConsentBrowser`` plays the signed-in person in between
(a browserless session: the consent page's form is posted as a browser would).
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthToken

from tests.support.web import Browserless, csrf_from

REDIRECT_URI = "http://127.0.0.1:33418/callback"  # never served: the browser only reads the Location


class MemoryStorage:
    """The SDK's ``TokenStorage``: where a real client keeps its registration and tokens."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class ConsentRefused(Exception):
    """The authorization request ended on a page instead of going back to the client."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}: {response.text[:300]}")
        self.response = response


def _hidden_request(page: str) -> str:
    """The consent form's copy of the authorization request, as the browser posts it back."""
    match = re.search(r'<input type="hidden" name="request" value="([^"]*)"', page)
    assert match, "the consent page has no request field"
    return html.unescape(match.group(1))


class ConsentBrowser:
    """The person: opens the authorization URL the client hands over, allows it, and the client
    reads ``code``, ``state`` and ``iss`` from where the browser was sent (its redirect URI)."""

    def __init__(self, browser: Browserless, redirect_uri: str = REDIRECT_URI) -> None:
        self.http = browser.client
        self.redirect_uri = redirect_uri
        self.authorization_urls: list[str] = []
        self.callbacks: list[str] = []

    async def redirect_handler(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        response = await self.http.get(authorization_url)
        if response.status_code == 200 and 'value="allow"' in response.text:
            response = await self.http.post(
                "/oauth/authorize",
                data={
                    "_csrf_token": csrf_from(response.text),
                    "request": _hidden_request(response.text),
                    "decision": "allow",
                },
            )
        location = response.headers.get("location", "")
        if response.status_code != 303 or not location.startswith(self.redirect_uri + "?"):
            raise ConsentRefused(response)
        self.callbacks.append(location)

    async def callback_handler(self) -> AuthorizationCodeResult:
        query = {key: values[0] for key, values in parse_qs(urlsplit(self.callbacks[-1]).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))
