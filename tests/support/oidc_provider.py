"""A real third-party authorization server for the tests: oidc-provider 9.13 (Node), which nobody here wrote.

``OidcProvider`` runs ``oidc_provider/server.mjs`` on a free port of 127.0.0.1 with the clients a test
registers; the issuer is ``http://127.0.0.1:<port>`` and the endpoints come from its discovery document.
Its built-in ("devInteractions") pages stand for the app's sign-in and consent screens:
``sign_in_and_consent`` completes them in Chromium, ``authorize_without_browser`` over plain HTTP.

How oidc-provider 9.13 behaves, as configured here (tests depend on these rules):

- PKCE S256 is required for every client (oidc-provider's default asks it only of public clients);
  ``plain`` is refused, and a code redeemed without the right verifier is ``invalid_grant``.
- ``openid`` is optional: without it the grant is plain OAuth 2.0. But userinfo answers only access
  tokens whose scope holds ``openid`` (else 403 ``insufficient_scope``) and that were not issued for a
  ``resource`` (else 401 ``invalid_token``). ``email`` needs the ``email`` scope, ``name`` ``profile``.
- Only scopes listed in the server's ``scopes`` (or, with ``resource``, that resource's scopes) are
  granted; any other requested scope is dropped without an error. The token response's ``scope`` says
  what was granted.
- Refresh tokens: oidc-provider's default issues one only for ``offline_access`` (a scope it silently
  drops when the request has a ``prompt`` without ``consent``); this server issues one for every code
  grant of a client allowed ``refresh_token``. Every refresh rotates it. Presenting a spent refresh token
  is ``invalid_grant`` *and revokes the whole grant*: every token of that connection stops working, so
  two concurrent refreshes with the same token break the connection.
- ``resource`` (RFC 8707) must name one of the server's ``resources``, else ``invalid_target``; the
  access token is then for that resource only, with that resource's scopes.
- A request whose scopes are all unknown (or that has none) ends in ``access_denied`` right after
  sign-in, without a consent page.
- The authorization response always carries ``iss`` (RFC 9207), also on errors sent to the redirect URI.
- Client authentication: oidc-provider takes ``client_secret_basic`` and ``client_secret_post`` alike,
  whichever the client registered (``token_endpoint_auth_method`` only sets what discovery and the
  registration say); a wrong secret is 401 ``invalid_client``, both methods at once ``invalid_request``.
  Tests of falling back from a refused method need ``tests.support.fault_provider``.
- A code redeemed twice is ``invalid_grant`` and revokes the tokens the first redemption gave.
- Revoking a refresh token (RFC 7009) ends the whole grant, its access tokens included; revoking an
  access token ends only that token. Revoking an unknown or already revoked token answers 200.
- Expiry is exact (``clockTolerance`` 0 here; oidc-provider's default honours tokens 15 s longer) but
  counted in whole seconds: an access token with a TTL of N s dies between N-1 and N s after issue.
- The sign-in page accepts any password. The login name is the account (``sub``); its email is the
  login if it holds an ``@``, else ``<login>@example.com``; its name is the part before the ``@``.
- A browser that signed in once is not asked again (session cookie) and a grant that already covers the
  requested scopes skips the consent page; use a fresh browser context or ``prompt=login`` to see them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import msgspec

from tests.support.runner import run_async

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"
SERVER = Path(__file__).resolve().parent / "oidc_provider" / "server.mjs"
NODE_MAJOR = "v22."
DEFAULT_SCOPES = ("openid", "email", "profile", "offline_access", "tasks:read", "tasks:write")
# The built-in pages' words (oidc-provider 9.13, lib/views/login.js and interaction.js).
SIGN_IN_BUTTON = "Sign-in"
CONSENT_BUTTON = "Continue"
CANCEL_LINK = "[ Cancel ]"
ANY_PASSWORD = "any-password"  # the sign-in page takes any

AuthMethod = Literal["client_secret_basic", "client_secret_post"]


def missing_oidc_provider() -> str | None:
    """Why oidc-provider cannot run here, or None when Node 22 and the package are installed."""
    if not NODE.exists() or not PACKAGE.exists():
        return f"{NODE} or {PACKAGE.parent} is not installed (`make install` runs npm install)"
    result = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=False)
    if not result.stdout.startswith(NODE_MAJOR):
        return f"{NODE} is {result.stdout.strip() or result.stderr.strip()}, oidc-provider needs Node 22"
    return None


def node_available() -> bool:
    return missing_oidc_provider() is None


def require_oidc_provider() -> None:
    """Skip loudly (fail with SWITCHBOARD_REQUIRE_ALL=1) when oidc-provider cannot run."""
    from tests.conftest import require_component

    problem = missing_oidc_provider()
    if problem:
        require_component("Node 22 and oidc-provider", problem)


class OidcClient(msgspec.Struct, frozen=True, kw_only=True):
    """A client registered at the provider: Switchboard's OAuth app for one connector."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"


class TokenRequest(msgspec.Struct, frozen=True):
    """One request to the token endpoint, as the provider saw it."""

    grant_type: str
    status: int
    client_auth: Literal["client_secret_basic", "client_secret_post", "none"]
    resource: str | None
    error: str | None


class Stats(msgspec.Struct, frozen=True):
    """Requests since start or the last ``reset_stats``; ``token`` counts failed requests too."""

    token: dict[str, int]
    token_errors: dict[str, int]
    revocations: int
    revocation_errors: int
    userinfo: int
    token_requests: list[TokenRequest]


class ProviderFailed(AssertionError):
    pass


class OidcProvider:
    """One oidc-provider process; a context manager that always ends it.

    Its state (sessions, grants, tokens) lives in memory: a new process forgets everything.
    """

    def __init__(
        self,
        clients: Sequence[OidcClient],
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        resources: Mapping[str, str] | None = None,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 24 * 60 * 60,
        log_dir: Path | None = None,
        registration: bool = False,
        jwt_access_tokens: bool = False,
    ) -> None:
        self.config = {
            "registration": registration,
            "jwt_access_tokens": jwt_access_tokens,
            "port": 0,
            "clients": [msgspec.to_builtins(client) for client in clients],
            "scopes": list(scopes),
            "resources": dict(resources or {}),
            "access_token_ttl": access_token_ttl,
            "refresh_token_ttl": refresh_token_ttl,
        }
        self._log_dir = log_dir
        self.log_path: Path | None = None
        self.issuer = ""
        self.metadata: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def authorize_url(self) -> str:
        return str(self.metadata["authorization_endpoint"])

    @property
    def token_url(self) -> str:
        return str(self.metadata["token_endpoint"])

    @property
    def revocation_url(self) -> str:
        return str(self.metadata["revocation_endpoint"])

    @property
    def userinfo_url(self) -> str:
        return str(self.metadata["userinfo_endpoint"])

    def start(self, timeout: float = 20.0) -> None:
        log_dir = self._log_dir or Path(tempfile.mkdtemp(prefix="oidc-provider-"))
        self.log_path = log_dir / "oidc-provider.log"
        env = {**os.environ, "OIDC_PROVIDER_CONFIG": json.dumps(self.config), "NO_COLOR": "1"}
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [str(NODE), str(SERVER)], stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT
            )
        self.issuer = self._wait_until_ready(timeout)
        self.metadata = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()

    def _wait_until_ready(self, timeout: float) -> str:
        """The issuer from the ``ready <issuer>`` line (anything else on stdout is only shown on failure)."""
        assert self._process is not None
        assert self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = self._process.stdout

        def pump() -> None:
            for line in stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is not None and line.startswith("ready "):
                return line.removeprefix("ready ").strip()
            if line is None:
                self.stop()
                output = "\n".join(seen)
                raise ProviderFailed(f"oidc-provider did not start:\n{output}\n{self.log()}")
            seen.append(line)

    def log(self) -> str:
        """What the server wrote on stderr."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)  # it reads stdout to its end, which came with the process's
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = self._pump = None

    def stats(self) -> Stats:
        response = httpx.get(f"{self.issuer}/__stats", timeout=5)
        response.raise_for_status()
        return msgspec.json.decode(response.content, type=Stats)

    def reset_stats(self) -> None:
        httpx.post(f"{self.issuer}/__stats/reset", timeout=5).raise_for_status()

    def revoke_all_grants(self) -> int:
        """Withdraw every grant, as a person removing the app's access in the provider's settings.

        Their access and refresh tokens stop working (refresh answers ``invalid_grant``).
        """
        response = httpx.post(f"{self.issuer}/__grants/revoke", timeout=5)
        response.raise_for_status()
        return int(response.json()["revoked"])

    def authorization_request(
        self,
        client: OidcClient,
        *,
        scope: str = "openid email",
        state: str | None = None,
        **extra: str,
    ) -> tuple[str, str]:
        """An authorization URL with PKCE S256, and its code verifier: for testing the provider itself.

        ``extra`` adds or replaces parameters (``redirect_uri`` defaults to the client's first).
        """
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0],
            "scope": scope,
            "state": state or secrets.token_urlsafe(16),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{self.authorize_url}?{urlencode(params)}", verifier


# --- the built-in sign-in and consent pages -----------------------------------------------------------
#
# GET /auth?...            303 to /interaction/<uid> (sets the _interaction cookies)
# /interaction/<uid>       "Sign-in" page: a form posting prompt=login, login, password; button "Sign-in"
#                          303 back to /auth/<uid>, which sends on to the next interaction or the client
# /interaction/<uid2>      "Authorize" page: a form posting prompt=consent; button "Continue" (and a
#                          "[ Cancel ]" link to /interaction/<uid>/abort that ends in access_denied)
# then                     303 to the redirect URI with code, state and iss


def sign_in_and_consent(page: Page, login: str, password: str = ANY_PASSWORD) -> None:
    """In a browser on its way to (or showing) the provider's sign-in or consent page: sign in, approve.

    Returns once the browser has left the provider for the client (Chromium follows the redirects by
    itself). The consent page does not come when the grant already covers the requested scopes. A
    person already signed in who has already consented is sent straight back: do not call this then.
    """
    page.locator("form input[name=prompt]").wait_for(state="attached")
    origin = _origin(page.url)
    if _showing(page, "login"):
        page.locator("input[name=login]").fill(login)
        page.locator("input[name=password]").fill(password)
        _leave(page, lambda: page.get_by_role("button", name=SIGN_IN_BUTTON).click())
    if _origin(page.url) == origin and _showing(page, "consent"):
        _leave(page, lambda: page.get_by_role("button", name=CONSENT_BUTTON).click())
    page.wait_for_url(lambda url: _origin(url) != origin)


def cancel_at_provider(page: Page) -> None:
    """Press the provider page's "[ Cancel ]": the client gets ``error=access_denied``."""
    cancel = page.get_by_role("link", name=CANCEL_LINK)
    cancel.wait_for()
    origin = _origin(page.url)
    cancel.click()
    page.wait_for_url(lambda url: _origin(url) != origin)


def _showing(page: Page, prompt: Literal["login", "consent"]) -> bool:
    return page.locator(f"form input[name=prompt][value={prompt}]").count() > 0


def _leave(page: Page, action: Callable[[], None]) -> None:
    """Do ``action`` and wait until the browser has loaded the page it leads to."""
    before = page.url
    action()
    page.wait_for_url(lambda url: url != before)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _Page(msgspec.Struct):
    """What the helper needs of a provider page: its POST form and its "[ Cancel ]" link."""

    action: str = ""
    fields: dict[str, str] = {}
    abort_href: str = ""


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = _Page()
        self.form_found = False
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and not self.form_found and values.get("method", "").lower() == "post":
            self.page.action = values.get("action", "")
            self.form_found = self._inside = True
        elif tag == "input" and self._inside and values.get("name"):
            self.page.fields[values["name"]] = values.get("value", "")
        elif tag == "a" and values.get("href", "").endswith("/abort"):
            self.page.abort_href = values["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class AuthorizationFailed(AssertionError):
    pass


async def authorize_without_browser_async(
    authorize_url: str,
    login: str,
    password: str = ANY_PASSWORD,
    *,
    approve: bool = True,
    max_steps: int = 12,
) -> str:
    """Follow ``authorize_url`` through the sign-in and consent pages as a browser would; the URL the
    provider finally sends the browser to at the client's redirect URI (``code``, ``state`` and ``iss``,
    or ``error``). With ``approve=False`` the person signs in, then cancels on the consent page.

    Cookies are kept within this call only, so each call signs in afresh.
    """
    redirect_uri = dict(httpx.URL(authorize_url).params).get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizationFailed("the authorization URL has no redirect_uri")
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        response = await http.get(authorize_url)
        for _ in range(max_steps):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if _same_endpoint(location, redirect_uri):
                    return location
                response = await http.get(location)
                continue
            page = _provider_page(response)
            data = dict(page.fields)
            if data.get("prompt") == "login":
                data.update(login=login, password=password)
            elif data.get("prompt") != "consent":
                raise AuthorizationFailed(f"unexpected form at {response.url}: {sorted(data)}")
            elif not approve:
                response = await http.get(urljoin(str(response.url), page.abort_href))
                continue
            response = await http.post(urljoin(str(response.url), page.action), data=data)
    raise AuthorizationFailed(f"no redirect to {redirect_uri} after {max_steps} steps")


def authorize_without_browser(
    authorize_url: str, login: str, password: str = ANY_PASSWORD, *, approve: bool = True
) -> str:
    """``authorize_without_browser_async`` for synchronous code (runs in a thread of its own)."""
    return run_async(authorize_without_browser_async(authorize_url, login, password, approve=approve))


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    here, there = urlsplit(url), urlsplit(redirect_uri)
    return (here.scheme, here.netloc, here.path) == (there.scheme, there.netloc, there.path)


def _provider_page(response: httpx.Response) -> _Page:
    parser = _PageParser()
    parser.feed(response.text)
    if response.status_code != 200 or not parser.form_found:
        raise AuthorizationFailed(
            f"the provider answered {response.status_code} at {response.url} without a form:\n"
            f"{_visible_text(response.text)}"
        )
    return parser.page


def _visible_text(html: str) -> str:
    """The error page's words (oidc-provider shows ``error`` and ``error_description`` there)."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self._skip = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self._skip = tag in ("style", "script")

        def handle_endtag(self, tag: str) -> None:
            self._skip = False

        def handle_data(self, data: str) -> None:
            if not self._skip and data.strip():
                self.parts.append(data.strip())

    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts)[:2000]
