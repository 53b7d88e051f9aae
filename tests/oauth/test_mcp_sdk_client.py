"""The official MCP Python SDK client (``mcp.client.auth.OAuthClientProvider``) against Switchboard.

Nothing is configured in the client beyond the protected server's URL: it reads the 401, the protected
resource metadata and our metadata, registers itself, sends the person (a signed-in browser here) to the
consent page with PKCE, exchanges the code, calls the server, and later refreshes its token. The SDK
speaks ``httpx2``; it calls the app in-process, sharing the test's database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx2
import msgspec
import pytest
from litestar import Litestar
from mcp.client.auth import OAuthClientProvider, OAuthRegistrationError
from mcp.shared.auth import (
    OAuthClientMetadata,
    OAuthToken,
    TokenEndpointAuthMethod,
)
from pydantic import AnyUrl

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import ClientStatus, RegistrationPolicy
from switchboard.identity.oauth.resources import ProtectedResource, StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.actors import SETUP
from tests.support.mcp_client import REDIRECT_URI, ConsentBrowser, ConsentRefused, MemoryStorage
from tests.support.oauth import OAuthClient
from tests.support.oauth_server import (
    METADATA_PREFIX,
    TEST_PATH,
    ASGIApp,
    make_test_resource,
    with_test_endpoint,
)
from tests.support.web import Browserless

BASE = "http://testserver.local"
RESOURCE = make_test_resource(BASE, scopes=("mcp:tools:echo",))
OTHER = ProtectedResource(url=f"{BASE}/mcp/other", name="Another server")
PRM_PATH = METADATA_PREFIX + TEST_PATH
DISCOVERY = [
    ("GET", "/mcp/test", 401),
    ("GET", PRM_PATH, 200),
    ("GET", "/.well-known/oauth-authorization-server", 200),
    ("POST", "/oauth/register", 201),
]


@pytest.fixture
def resources() -> StaticResources:
    return StaticResources([RESOURCE, OTHER])


@pytest.fixture
def protected(app: Litestar) -> ASGIApp:
    """Switchboard with the protected test server at /mcp/test in front."""
    return with_test_endpoint(app, RESOURCE)


class Exchange(msgspec.Struct, frozen=True):
    method: str
    path: str
    status: int
    form: dict[str, list[str]]
    authorization: str


class Recorder:
    """Every request the client sent (its own discovery, registration and token requests included)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        self.exchanges.append(
            Exchange(
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                form=parse_qs(request.content.decode()) if is_form else {},
                authorization=request.headers.get("authorization", ""),
            )
        )

    def steps(self) -> list[tuple[str, str, int]]:
        return [(exchange.method, exchange.path, exchange.status) for exchange in self.exchanges]

    def token_requests(self) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.path == "/oauth/token"]


@dataclass
class Flow:
    """What one client saw: its calls to the protected server and everything it stored."""

    responses: list[httpx2.Response]
    storage: MemoryStorage
    recorder: Recorder
    browser: ConsentBrowser
    tokens: list[OAuthToken | None]


async def sdk_flow(
    protected: ASGIApp, browser: Browserless, auth_method: TokenEndpointAuthMethod | None, *, refresh: bool
) -> Flow:
    """Call the protected server once (the whole authorization), then, with ``refresh``, once more after
    making the access token look expired: the SDK refreshes before sending."""
    storage, recorder, consent = MemoryStorage(), Recorder(), ConsentBrowser(browser)
    provider = OAuthClientProvider(
        server_url=RESOURCE.url,
        client_metadata=OAuthClientMetadata(
            client_name="SDK test client",
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            token_endpoint_auth_method=auth_method,
        ),
        storage=storage,
        redirect_handler=consent.redirect_handler,
        callback_handler=consent.callback_handler,
    )
    transport = httpx2.ASGITransport(app=protected, client=("127.0.0.1", 51002))
    responses: list[httpx2.Response] = []
    tokens: list[OAuthToken | None] = []
    async with httpx2.AsyncClient(
        auth=provider, transport=transport, event_hooks={"response": [recorder.on_response]}, timeout=30
    ) as http:
        responses.append(await http.get(RESOURCE.url))
        tokens.append(storage.tokens)
        if refresh:
            # The SDK keeps the expiry only in memory; this is how an hour passes in a test.
            provider.context.token_expiry_time = time.time() - 1
            responses.append(await http.get(RESOURCE.url))
            tokens.append(storage.tokens)
    return Flow(responses=responses, storage=storage, recorder=recorder, browser=consent, tokens=tokens)


async def _user_id(services: IdentityServices, email: str) -> str:
    user = await services.users.find_by_email(email)
    assert user is not None
    return str(user.id)


def _check_full_flow(flow: Flow, auth_method: TokenEndpointAuthMethod | None, user_id: str) -> None:
    first, second = flow.responses
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    info = flow.storage.client_info
    assert info is not None
    assert info.client_id
    assert (
        first.json()
        == second.json()
        == {
            "subject": user_id,
            "client_id": info.client_id,
            "scopes": ["mcp:tools:echo", "offline_access"],
        }
    )
    # Discovery from the 401, registration, consent once, code exchange, the call; then refresh, the call.
    assert flow.recorder.steps() == [
        *DISCOVERY,
        ("POST", "/oauth/token", 200),
        ("GET", "/mcp/test", 200),
        ("POST", "/oauth/token", 200),
        ("GET", "/mcp/test", 200),
    ]
    assert len(flow.browser.authorization_urls) == 1
    authorization = parse_qs(urlsplit(flow.browser.authorization_urls[0]).query)
    assert authorization["code_challenge_method"] == ["S256"]
    assert authorization["resource"] == [RESOURCE.url]
    assert parse_qs(urlsplit(flow.browser.callbacks[0]).query)["iss"] == [BASE]

    code, refresh = flow.recorder.token_requests()
    assert code.form["grant_type"] == ["authorization_code"]
    assert code.form["code_verifier"]
    assert refresh.form["grant_type"] == ["refresh_token"]
    before, after = flow.tokens
    assert before is not None
    assert after is not None
    assert refresh.form["refresh_token"] == [before.refresh_token]
    assert refresh.form["resource"] == [RESOURCE.url]
    assert after.access_token != before.access_token
    assert after.refresh_token
    assert after.refresh_token != before.refresh_token  # rotated on use

    # The client authenticates as it registered: HTTP Basic or the form with its secret, or only its
    # client_id when public.
    method = auth_method or "client_secret_basic"
    assert info.token_endpoint_auth_method == method
    assert (info.client_secret is not None) == (method != "none")
    for request in (code, refresh):
        assert request.form["client_id"] == [info.client_id]
        assert request.authorization.startswith("Basic ") == (method == "client_secret_basic")
        assert request.form.get("client_secret") == (
            [info.client_secret] if method == "client_secret_post" else None
        )


@pytest.mark.parametrize("auth_method", ["client_secret_basic", None, "client_secret_post", "none"])
async def test_an_admin_authorizing_a_new_client_approves_it(
    protected: ASGIApp,
    boss: Browserless,
    services: IdentityServices,
    oauth_server: AuthorizationServer,
    auth_method: TokenEndpointAuthMethod | None,
) -> None:
    """The default policy: the registration waits for approval, and an admin completing the first
    authorization approves it (each client authentication, and a client that names none: Basic)."""
    assert await oauth_server.clients.policy() is RegistrationPolicy.ADMIN_APPROVAL
    flow = await sdk_flow(protected, boss, auth_method, refresh=True)
    _check_full_flow(flow, auth_method, await _user_id(services, "boss@example.com"))
    assert flow.storage.client_info is not None
    client = await oauth_server.clients.get(flow.storage.client_info.client_id)
    assert (client.status, client.approved_by) == (ClientStatus.APPROVED, "boss@example.com")
    assert client.name == "SDK test client"


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post", "none"])
async def test_a_member_authorizes_a_client_under_the_open_policy(
    protected: ASGIApp,
    alice: Browserless,
    services: IdentityServices,
    open_policy: None,
    auth_method: TokenEndpointAuthMethod,
) -> None:
    flow = await sdk_flow(protected, alice, auth_method, refresh=True)
    _check_full_flow(flow, auth_method, await _user_id(services, "alice@example.com"))


async def test_a_member_cannot_authorize_a_client_awaiting_approval(
    protected: ASGIApp, alice: Browserless, oauth_server: AuthorizationServer
) -> None:
    with pytest.raises(ConsentRefused) as refused:
        await sdk_flow(protected, alice, "none", refresh=False)
    assert refused.value.response.status_code == 403
    assert "This app awaits approval" in refused.value.response.text
    clients = await oauth_server.clients.list_all()
    assert [(client.name, client.status) for client in clients] == [("SDK test client", ClientStatus.PENDING)]


async def test_a_client_cannot_register_when_registration_is_closed(
    protected: ASGIApp, boss: Browserless, oauth_server: AuthorizationServer
) -> None:
    await oauth_server.clients.set_policy(RegistrationPolicy.CLOSED, actor=SETUP)
    with pytest.raises(OAuthRegistrationError, match="closed"):
        await sdk_flow(protected, boss, "none", refresh=False)
    assert await oauth_server.clients.list_all() == []


async def test_the_protected_server_takes_only_tokens_issued_for_it(
    protected: ASGIApp, alice: Browserless, oauth: OAuthClient, open_policy: None
) -> None:
    """The audience is the resource a token was asked for: a token for another server, or a tampered
    or missing one, gets a 401 that points the client at the metadata."""
    client = await oauth.registered(token_endpoint_auth_method="none")
    tokens = {}
    for resource in (RESOURCE.url, OTHER.url):
        attempt = await oauth.authorize(alice, client["client_id"], resource=resource)
        answer = await oauth.exchange(attempt)
        assert answer.status_code == 200, answer.text
        tokens[resource] = answer.json()["access_token"]
    transport = httpx2.ASGITransport(app=protected, client=("127.0.0.1", 51002))
    async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:

        async def call(token: str | None) -> httpx2.Response:
            return await http.get("/mcp/test", headers={"authorization": f"Bearer {token}"} if token else {})

        accepted = await call(tokens[RESOURCE.url])
        foreign, tampered, missing = (
            await call(tokens[OTHER.url]),
            await call(tokens[RESOURCE.url] + "x"),
            await call(None),
        )
    assert accepted.status_code == 200
    assert accepted.json()["client_id"] == client["client_id"]
    challenge = f'resource_metadata="{BASE}{PRM_PATH}"'
    assert [(r.status_code, r.headers["www-authenticate"]) for r in (foreign, tampered, missing)] == [
        (401, f'Bearer error="invalid_token", {challenge}'),
        (401, f'Bearer error="invalid_token", {challenge}'),
        (401, f"Bearer {challenge}"),
    ]
