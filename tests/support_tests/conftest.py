"""One oidc-provider process for the package (it starts in about half a second, but need not start twice)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.oidc_provider import OidcClient, OidcProvider, ProviderFailed, require_oidc_provider

# Never opened: the browserless helper stops at the redirect to it, as a browser hands it to the client.
CALLBACK = "http://client.test/callback"
BASIC_CLIENT = OidcClient(
    client_id="tasks-basic", client_secret="tasks-basic-secret-0123456789", redirect_uris=(CALLBACK,)
)
POST_CLIENT = OidcClient(
    client_id="tasks-post",
    client_secret="tasks-post-secret-0123456789",
    redirect_uris=(CALLBACK,),
    token_endpoint_auth_method="client_secret_post",
)
ACCESS_TOKEN_TTL = 2
TASKS_API = "https://tasks.example/api"
CLIENT_PAGE = b"<!doctype html><title>Client</title><h1>Back at the client</h1>"


class _ClientPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(CLIENT_PAGE)))
        self.end_headers()
        self.wfile.write(CLIENT_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="package")
def browser_callback() -> Iterator[str]:
    """A real page for the browser to land on at the client (Playwright does not route redirects)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClientPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="package")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory, browser_callback: str) -> Iterator[OidcProvider]:
    require_oidc_provider()
    log_dir: Path = tmp_path_factory.mktemp("oidc-provider")
    provider = OidcProvider(
        [
            OidcClient(
                client_id=client.client_id,
                client_secret=client.client_secret,
                redirect_uris=(*client.redirect_uris, browser_callback),
                token_endpoint_auth_method=client.token_endpoint_auth_method,
            )
            for client in (BASIC_CLIENT, POST_CLIENT)
        ],
        resources={TASKS_API: "tasks:read tasks:write"},
        access_token_ttl=ACCESS_TOKEN_TTL,
        log_dir=log_dir,
    )
    try:
        provider.start()
    except ProviderFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    yield provider
    provider.stop()


@pytest.fixture
def provider(oidc_provider: OidcProvider) -> OidcProvider:
    """The shared provider with its counters at zero."""
    oidc_provider.reset_stats()
    return oidc_provider
