"""What an attacker or a careless client tries against the authorization server, and how it is refused."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.housekeeping import sweep
from switchboard.identity.oauth.metadata_documents import MetadataFetchFailed
from switchboard.identity.oauth.models import ClientWithSecret
from switchboard.identity.oauth.resources import StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.principal import Principal
from switchboard.identity.tables import AuditEvent, OAuthClient, OAuthGrant, Revocation, User
from switchboard.platform.core.errors import InvalidInput
from tests.support.actors import SETUP
from tests.support.oauth import REDIRECT_URI, decode_jwt, error_of, verifies
from tests.support.oauth import OAuthClient as Client
from tests.support.web import Browserless
from tests.ui.html import Page

EVIL_REDIRECT = "https://evil.example/phish"
# The password the sign-in check verifies against when an account has no password hash (public code).
TIMING_EQUALISER = "switchboard-timing-equaliser"


async def _anonymous(app: Litestar, ip: str = "198.51.100.9") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 41000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


@pytest.fixture
async def stranger(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser that is not signed in."""
    async with await _anonymous(app) as http:
        yield http


def _no_redirect(response: httpx.Response) -> None:
    assert response.status_code in (400, 403), (response.status_code, response.headers.get("location"))
    assert "location" not in response.headers
    assert "refresh" not in response.headers


# Service accounts ---------------------------------------------------------------------------------------


async def test_a_service_account_cannot_sign_in_with_a_password(
    app: Litestar, service_client: ClientWithSecret
) -> None:
    email = service_client.client.service_account_email
    assert email
    async with await _anonymous(app) as http:
        browser = Browserless(http)
        for password in (TIMING_EQUALISER, "", "anything-at-all"):
            answer = await browser.sign_in(email, password)
            assert answer.status_code in (400, 401), (password, answer.status_code)
            assert "sb_session" not in http.cookies


async def test_a_service_account_is_given_no_password(
    services: IdentityServices, service_client: ClientWithSecret
) -> None:
    account = await services.users.find_by_email(service_client.client.service_account_email or "")
    assert account is not None
    with pytest.raises(InvalidInput, match="A service account has no password"):
        await services.users.reset_password(account.id, "a-new-password-1", actor=SETUP)


async def test_a_refused_client_approved_again_gets_working_tokens(
    oauth: Client,
    alice: Browserless,
    boss: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
    services: IdentityServices,
) -> None:
    before = await oauth.tokens(alice, public_client["client_id"])
    admin = await services.users.find_by_email("boss@example.com")
    assert admin is not None
    principal = Principal(
        user_id=admin.id, email=admin.email, name=admin.name, role=admin.role, via="session"
    )
    await oauth_server.clients.refuse(public_client["client_id"], actor=principal)
    assert not await verifies(oauth_server, before["access_token"])
    refused = await oauth.refresh(before["refresh_token"], public_client["client_id"])
    assert refused.status_code in (400, 401)
    await oauth_server.clients.approve(public_client["client_id"], actor=principal)
    after = await oauth.tokens(alice, public_client["client_id"])
    assert await verifies(oauth_server, after["access_token"])


# Client metadata rendered in pages ----------------------------------------------------------------------

SCRIPT_URIS = (
    "javascript://app.example/%0aalert(document.domain)",
    "data://app.example/text/html,<script>alert(1)</script>",
    "vbscript://app.example/msgbox",
    "https://trusted.example@evil.example/",
    "https://app.example/\\evil",
)


@pytest.mark.parametrize("field", ["client_uri", "logo_uri", "tos_uri", "policy_uri"])
async def test_client_web_addresses_must_be_web_urls(oauth: Client, open_policy: None, field: str) -> None:
    for uri in SCRIPT_URIS:
        answer = await oauth.register(**{field: uri})
        assert error_of(answer) == (400, "invalid_client_metadata"), (uri, answer.text)
        assert field in answer.json()["error_description"]
    assert (await oauth.register(**{field: "https://app.example/about"})).status_code == 201
    assert (await oauth.register(**{field: "http://localhost:6274/"})).status_code == 201
    assert await OAuthClient.count() == 2


async def test_the_consent_page_links_only_to_a_web_client_uri(
    oauth: Client, alice: Browserless, public_client: dict[str, Any]
) -> None:
    """A client stored before the rule (or changed in the database) still cannot put a script link."""
    await OAuthClient.update({OAuthClient.client_uri: SCRIPT_URIS[0]}).where(
        OAuthClient.client_id == public_client["client_id"]
    )
    attempt = await oauth.authorize(alice, public_client["client_id"], decision=None)
    assert attempt.asks_consent
    assert "javascript:" not in attempt.response.text
    assert 'href="javascript' not in attempt.response.text


async def test_client_names_cannot_hide_characters(oauth: Client, open_policy: None) -> None:
    for name in ("Claude\u202e", "Cur\u200bsor", "Claude\u2028Desktop"):
        answer = await oauth.register(client_name=name)
        assert error_of(answer) == (400, "invalid_client_metadata"), name
    assert (await oauth.register(client_name="Café agent")).status_code == 201


# Redirect URIs -------------------------------------------------------------------------------------------

DECEPTIVE_REDIRECTS = (
    "https://trusted.example@evil.example/callback",  # the host is evil.example
    "https://user:pass@evil.example/callback",
    "https://\u0430pple.com/callback",  # a Cyrillic a: shows as apple.com, goes to xn--pple-43d.com
    "https://app.example/caf\u00e9",
)


async def test_deceptive_redirect_uris_are_refused(oauth: Client, open_policy: None) -> None:
    for uri in DECEPTIVE_REDIRECTS:
        answer = await oauth.register(redirect_uris=[uri])
        assert error_of(answer) == (400, "invalid_redirect_uri"), (uri, answer.text)
    assert await OAuthClient.count() == 0


async def test_a_loopback_redirect_with_a_user_name_is_not_a_registered_one(
    alice: Browserless, public_client: dict[str, Any]
) -> None:
    """Loopback ports may vary, but a user name before the host (which reads as a host) may not."""
    query, _ = Client.authorization_params(
        public_client["client_id"], redirect_uri="http://claude.ai@127.0.0.1:9999/callback"
    )
    answer = await alice.client.get("/oauth/authorize", params=query, follow_redirects=False)
    _no_redirect(answer)
    assert "not registered" in Page(answer.text).text


async def test_the_consent_page_names_the_redirect_host(
    oauth: Client, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(
        alice, public_client["client_id"], decision=None, redirect_uri="http://127.0.0.1:9999/callback"
    )
    assert attempt.asks_consent
    page = Page(attempt.response.text)
    shown = [code.text for code in page.all("code") if "redirect-host" in code.attrs.get("class", "")]
    assert shown == ["127.0.0.1:9999"]


async def test_registrations_are_bounded(oauth: Client, open_policy: None) -> None:
    many = [f"https://app.example/callback/{number}" for number in range(21)]
    assert error_of(await oauth.register(redirect_uris=many)) == (400, "invalid_redirect_uri")
    assert (await oauth.register(redirect_uris=many[:20])).status_code == 201
    huge = await oauth.register(contacts=["someone@example.com"] * 5000)
    assert error_of(huge) == (400, "invalid_client_metadata")
    assert await OAuthClient.count() == 1


# Pending clients: not trusted with redirects -------------------------------------------------------------


@pytest.fixture
async def pending_client(oauth: Client) -> dict[str, Any]:
    """A client anyone registered and no admin approved (the default policy), redirecting anywhere."""
    return await oauth.registered(redirect_uris=[EVIL_REDIRECT], token_endpoint_auth_method="none")


async def test_a_pending_client_is_no_open_redirector(
    stranger: httpx.AsyncClient, alice: Browserless, pending_client: dict[str, Any]
) -> None:
    query, _ = Client.authorization_params(pending_client["client_id"], redirect_uri=EVIL_REDIRECT)
    mistakes: list[dict[str, str | None]] = [
        {"response_type": "token"},
        {"response_type": None},
        {"code_challenge": None},
        {"scope": "not-a-scope!"},
        {"resource": "https://unknown.example/mcp"},
        {"prompt": "none"},
    ]
    for browser in (stranger, alice.client):
        for mistake in mistakes:
            params = {key: value for key, value in {**query, **mistake}.items() if value is not None}
            answer = await browser.get("/oauth/authorize", params=params, follow_redirects=False)
            _no_redirect(answer)
            assert "evil.example" not in answer.headers.get("location", "")


async def test_an_approved_client_still_gets_its_errors_redirected(
    stranger: httpx.AsyncClient, public_client: dict[str, Any]
) -> None:
    query, _ = Client.authorization_params(public_client["client_id"], response_type="token")
    answer = await stranger.get("/oauth/authorize", params=query, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(REDIRECT_URI + "?error=unsupported_response_type")


# Metadata documents: fetched for anyone, so limited ------------------------------------------------------


class CountingFetcher:
    """Serves a valid document for any URL under https://docs.example/ and counts the fetches."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def fetch(self, url: str, *, allow_private: bool) -> Any:
        self.fetched.append(url)
        if not url.startswith("https://docs.example/"):
            raise MetadataFetchFailed("the server answered with status 404")
        return {
            "client_id": url,
            "client_name": "Doc client",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        }


@pytest.fixture
def fetcher() -> CountingFetcher:
    return CountingFetcher()


@pytest.fixture
def build_options(resources: StaticResources, fetcher: CountingFetcher) -> dict[str, Any]:
    return {"resources": resources, "metadata_fetcher": fetcher}


@pytest.mark.parametrize("settings", [{"registrations_per_hour_per_ip": 2}], indirect=True, ids=["2/h"])
async def test_metadata_document_clients_count_as_registrations(
    app: Litestar, stranger: httpx.AsyncClient, fetcher: CountingFetcher
) -> None:
    async def authorize(client_id: str, browser: httpx.AsyncClient = stranger) -> httpx.Response:
        query, _ = Client.authorization_params(client_id)
        return await browser.get("/oauth/authorize", params=query, follow_redirects=False)

    for number in range(2):
        assert (await authorize(f"https://docs.example/{number}.json")).status_code == 303
    limited = await authorize("https://docs.example/2.json")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 3000
    assert "Too many" in Page(limited.text).text
    failing = await authorize("https://other.example/missing.json")
    assert failing.status_code == 429
    assert fetcher.fetched == ["https://docs.example/0.json", "https://docs.example/1.json"]
    assert await OAuthClient.count() == 2
    # A client already known is not a new registration; another address has its own count.
    assert (await authorize("https://docs.example/0.json")).status_code == 303
    async with await _anonymous(app, "203.0.113.5") as elsewhere:
        assert (await authorize("https://docs.example/2.json", elsewhere)).status_code == 303


@pytest.mark.parametrize("settings", [{"token_requests_per_minute_per_ip": 3}], indirect=True, ids=["3/min"])
async def test_refused_authorization_requests_cannot_flood_the_audit_trail(
    stranger: httpx.AsyncClient, public_client: dict[str, Any]
) -> None:
    query, _ = Client.authorization_params(public_client["client_id"], redirect_uri=EVIL_REDIRECT)
    before = await AuditEvent.count()
    answers = [await stranger.get("/oauth/authorize", params=query, follow_redirects=False) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429, 429, 429]
    assert all("location" not in answer.headers for answer in answers)
    assert await AuditEvent.count() == before + 3


# Revocations ---------------------------------------------------------------------------------------------


async def test_replaying_a_spent_code_does_not_pile_up_revocations(
    oauth: Client, alice: Browserless, public_client: dict[str, Any]
) -> None:
    attempt = await oauth.authorize(alice, public_client["client_id"])
    assert (await oauth.exchange(attempt)).status_code == 200
    for _ in range(5):
        assert error_of(await oauth.exchange(attempt)) == (400, "invalid_grant")
    assert await Revocation.count() == 1


# Housekeeping --------------------------------------------------------------------------------------------


async def test_grants_nothing_can_come_from_are_swept(
    oauth: Client,
    oauth_server: AuthorizationServer,
    alice: Browserless,
    public_client: dict[str, Any],
    service_client: ClientWithSecret,
) -> None:
    """A service that asks for a token per call makes a grant each time: they must not pile up."""
    secret = service_client.client_secret
    assert secret
    for _ in range(3):
        assert (await oauth.client_credentials(service_client.client.client_id, secret)).status_code == 200
    kept = await oauth.tokens(alice, public_client["client_id"])  # a person's live grant, refresh token
    await oauth.tokens(alice, public_client["client_id"], scope="mcp:tools:*")  # without one
    revoked = await oauth.tokens(alice, public_client["client_id"])
    assert (await oauth.revoke(revoked["refresh_token"], public_client["client_id"])).status_code == 200
    assert await OAuthGrant.count() == 6
    await OAuthGrant.update({OAuthGrant.last_used_at: datetime.now(UTC) - timedelta(hours=2)}).where(
        OAuthGrant.id.is_not_null()
    )

    assert (await sweep(oauth_server)).grants == 4  # three service grants and the revoked one
    assert await OAuthGrant.count() == 2
    refreshed = await oauth.refresh(kept["refresh_token"], public_client["client_id"])
    assert refreshed.status_code == 200
    alice_id = await User.select(User.id).where(User.email == "alice@example.com").first()
    assert alice_id
    apps = await oauth_server.consents.apps(alice_id["id"])
    assert [app.last_used_at is not None for app in apps] == [True]


# Rate limits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{"registrations_per_hour_per_ip": 2}], indirect=True, ids=["2/h"])
async def test_an_ipv6_host_cannot_escape_the_limits_by_changing_address(
    app: Litestar, open_policy: None
) -> None:
    """One host holds a whole /64: its addresses share one allowance; another /64 has its own."""
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2::ab:1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"]
    statuses = []
    for address in addresses:
        async with await _anonymous(app, address) as http:
            statuses.append((await Client(http).register(token_endpoint_auth_method="none")).status_code)
    assert statuses == [201, 201, 429, 201]


# Token confusion -----------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    encoded = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{encoded}.{_b64(signature)}"


async def test_forged_and_confused_tokens_are_refused(
    oauth: Client, oauth_server: AuthorizationServer, alice: Browserless, public_client: dict[str, Any]
) -> None:
    tokens = await oauth.tokens(alice, public_client["client_id"])
    header, claims = decode_jwt(tokens["access_token"])
    kid = header["kid"]
    public = next(key for key in (await oauth_server.keys.jwks())["keys"] if key["kid"] == kid)
    hs256 = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt", "kid": kid},
        claims,
        OctKey.import_key(json.dumps(public).encode()),
        algorithms=["HS256"],
    )
    stranger_key = ECKey.generate_key("P-256", parameters={"kid": kid})
    forged = {
        "alg none": _unsigned({"alg": "none", "typ": "at+jwt", "kid": kid}, claims),
        "HS256 keyed with the public key": hs256,
        "another key under our kid": jwt.encode(
            {"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, stranger_key, algorithms=["ES256"]
        ),
        "another issuer": await oauth_server.keys.sign({**claims, "iss": "https://elsewhere.example"}),
        "an ID-token-like JWT": jwt.encode(
            {"alg": "ES256", "typ": "JWT", "kid": kid},
            claims,
            (await oauth_server.keys._current())[1],
            algorithms=["ES256"],
        ),
        "expired beyond the leeway": await oauth_server.keys.sign(
            {**claims, "exp": int(time.time()) - 120, "jti": "expired"}
        ),
        "an unknown kid": _unsigned({"alg": "ES256", "typ": "at+jwt", "kid": "../../etc"}, claims, b"x"),
        "the refresh token": tokens["refresh_token"],
    }
    for case, token in forged.items():
        assert not await verifies(oauth_server, token), case
        assert (await oauth.introspect(token)).status_code == 401  # a public client may not introspect
    assert await verifies(oauth_server, tokens["access_token"])
    # An access token is no refresh token, nor a code.
    assert error_of(await oauth.refresh(tokens["access_token"], public_client["client_id"])) == (
        400,
        "invalid_grant",
    )
    code_attempt = await oauth.token(
        {
            "grant_type": "authorization_code",
            "code": tokens["refresh_token"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "x" * 43,
            "client_id": public_client["client_id"],
        }
    )
    assert error_of(code_attempt) == (400, "invalid_grant")
    assert await verifies(oauth_server, tokens["access_token"])
