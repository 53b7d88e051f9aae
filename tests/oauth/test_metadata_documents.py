"""Client ID metadata documents: a ``client_id`` that is an https URL names the client's own document.

The document is served over TLS by a local server under the name ``app.example`` (resolved to
127.0.0.1 by the test's resolver), so the SSRF guard sees a loopback address: refused unless an admin
allows private addresses.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.identity.oauth.metadata_documents import MetadataDocumentFetcher
from switchboard.identity.oauth.models import ClientKind, ClientStatus, RegistrationPolicy
from switchboard.identity.oauth.resources import StaticResources
from switchboard.identity.oauth.server import AuthorizationServer
from tests.support.actors import SETUP
from tests.support.document_server import DocumentServer, answer, certificate, resolving
from tests.support.oauth import REDIRECT_URI, OAuthClient, error_of, verifies
from tests.support.web import Browserless


class Served:
    def __init__(self, server: DocumentServer) -> None:
        self.server = server

    @property
    def client_id(self) -> str:
        return self.server.url("/client.json", host="app.example", scheme="https")

    def document(self, **fields: object) -> None:
        body = {
            "client_id": self.client_id,
            "client_name": "Example Agent",
            "client_uri": "https://app.example",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            **fields,
        }
        self.server.routes["/client.json"] = answer(
            200, json.dumps(body).encode(), ("Content-Type", "application/json")
        )


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """The document server's TLS context, and a client context that trusts its certificate."""
    server_context, trusted, _ = certificate("app.example", tmp_path)
    return server_context, trusted


@pytest.fixture
async def served(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> AsyncIterator[Served]:
    server_context, _ = tls
    server = DocumentServer({}, ssl_context=server_context)
    await server.start()
    served = Served(server)
    served.document()
    yield served
    await server.stop()


@pytest.fixture
def build_options(resources: StaticResources, tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> dict[str, Any]:
    _, trusted = tls
    fetcher = MetadataDocumentFetcher(ssl_context=trusted, resolver=resolving({"app.example": ["127.0.0.1"]}))
    return {"resources": resources, "metadata_fetcher": fetcher}


async def _policy(oauth_server: AuthorizationServer, policy: RegistrationPolicy, *, private: bool) -> None:
    await oauth_server.clients.set_policy(policy, allow_private_metadata_hosts=private, actor=SETUP)


async def test_a_document_on_a_private_address_is_refused_unless_an_admin_allows_it(
    oauth: OAuthClient, alice: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    attempt = await oauth.authorize(alice, served.client_id)
    assert attempt.response.status_code == 400
    assert "location" not in attempt.response.headers
    assert "loopback address" in attempt.response.text
    assert served.server.hits["/client.json"] == 0
    assert await oauth_server.clients.find(served.client_id) is None


async def test_an_allowed_document_makes_a_client_that_signs_in_like_a_registered_one(
    oauth: OAuthClient, alice: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.OPEN, private=True)
    attempt = await oauth.authorize(alice, served.client_id)
    assert attempt.response.status_code == 303, attempt.response.text
    client = await oauth_server.clients.get(served.client_id)
    assert (client.kind, client.status, client.name) == (
        ClientKind.METADATA_DOCUMENT,
        ClientStatus.APPROVED,
        "Example Agent",
    )
    tokens = await oauth.exchange(attempt)
    assert tokens.status_code == 200, tokens.text
    # The document is cached: the next authorization does not fetch it again.
    await oauth.authorize(alice, served.client_id)
    assert served.server.hits["/client.json"] == 1


async def test_a_document_client_awaits_approval_under_the_default_policy(
    oauth: OAuthClient,
    alice: Browserless,
    boss: Browserless,
    served: Served,
    oauth_server: AuthorizationServer,
) -> None:
    await _policy(oauth_server, RegistrationPolicy.ADMIN_APPROVAL, private=True)
    refused = await oauth.authorize(alice, served.client_id)
    assert refused.response.status_code == 403
    assert "awaits approval" in refused.response.text
    approved = await oauth.authorize(boss, served.client_id)
    assert approved.response.status_code == 303
    assert "code" in approved.callback
    assert (await oauth_server.clients.get(served.client_id)).status is ClientStatus.APPROVED


async def test_a_document_client_is_refused_when_registration_is_closed(
    oauth: OAuthClient, boss: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.CLOSED, private=True)
    attempt = await oauth.authorize(boss, served.client_id)
    assert attempt.response.status_code == 403
    assert "location" not in attempt.response.headers


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"client_id": "https://elsewhere.example/client.json"}, "not the URL it was fetched from"),
        ({"redirect_uris": ["https://attacker.example/cb"]}, "redirect URI is not registered"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "metadata document is invalid"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "only public clients"),
    ],
)
async def test_a_document_that_does_not_fit_is_refused_on_a_page(
    oauth: OAuthClient,
    alice: Browserless,
    served: Served,
    oauth_server: AuthorizationServer,
    fields: dict[str, object],
    reason: str,
) -> None:
    await _policy(oauth_server, RegistrationPolicy.OPEN, private=True)
    served.document(**fields)
    attempt = await oauth.authorize(alice, served.client_id)
    assert attempt.response.status_code == 400
    assert "location" not in attempt.response.headers
    assert reason in attempt.response.text.replace("&#39;", "'")


async def test_a_document_that_is_not_json_is_refused(
    oauth: OAuthClient, alice: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.OPEN, private=True)
    served.server.routes["/client.json"] = answer(200, b"<html>hello</html>", ("Content-Type", "text/html"))
    attempt = await oauth.authorize(alice, served.client_id)
    assert attempt.response.status_code == 400
    assert "JSON" in attempt.response.text


async def test_a_deleted_document_client_met_again_starts_afresh(
    oauth: OAuthClient, alice: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.OPEN, private=True)
    before = (await oauth.exchange(await oauth.authorize(alice, served.client_id))).json()
    await oauth_server.clients.delete(served.client_id, actor=SETUP)
    assert not await verifies(oauth_server, before["access_token"])
    assert error_of(await oauth.refresh(before["refresh_token"], served.client_id))[0] in (400, 401)
    # Its URL is its client ID: met again, it is a new client whose tokens work at once.
    again = await oauth.exchange(await oauth.authorize(alice, served.client_id))
    assert again.status_code == 200, again.text
    assert await verifies(oauth_server, again.json()["access_token"])
    assert not await verifies(oauth_server, before["access_token"])


async def test_a_document_client_met_and_approved_is_recorded_as_that_client(
    oauth: OAuthClient, boss: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.ADMIN_APPROVAL, private=True)
    boss.client.headers["user-agent"] = "Boss's browser"
    approved = await oauth.authorize(boss, served.client_id)
    assert approved.response.status_code == 303

    trail = {
        record.action: record
        for record in await oauth_server.audit.search(limit=1000)
        if record.action.startswith("client.")
    }
    registered, approval = trail["client.registered"], trail["client.approved"]
    assert (registered.object_type, registered.object_id, registered.object_name, registered.reason) == (
        "client",
        served.client_id,
        "Example Agent",
        "client ID metadata document, pending",
    )
    assert (
        approval.actor,
        approval.object_type,
        approval.object_id,
        approval.object_name,
        approval.ip_address,
        approval.user_agent,
    ) == ("boss@example.com", "client", served.client_id, "Example Agent", "127.0.0.1", "Boss's browser")


async def test_a_document_that_changes_what_it_says_is_recorded_as_a_change_of_that_client(
    oauth: OAuthClient, alice: Browserless, served: Served, oauth_server: AuthorizationServer
) -> None:
    await _policy(oauth_server, RegistrationPolicy.OPEN, private=True)

    def document(**fields: object) -> None:
        """The document, fetched afresh each time it is needed."""
        body = {
            "client_id": served.client_id,
            "client_name": "Example Agent",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            **fields,
        }
        served.server.routes["/client.json"] = answer(
            200,
            json.dumps(body).encode(),
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
        )

    document()
    assert (await oauth.authorize(alice, served.client_id)).response.status_code == 303
    document(client_name="Example Agent Pro", redirect_uris=[REDIRECT_URI, "http://127.0.0.1:9/elsewhere"])
    assert (await oauth.authorize(alice, served.client_id)).response.status_code == 303
    assert (await oauth.authorize(alice, served.client_id)).response.status_code == 303

    changes = [r for r in await oauth_server.audit.search(limit=1000) if r.action == "client.changed"]
    assert [(r.actor, r.object_type, r.object_id, r.object_name, r.reason) for r in changes] == [
        (
            "",
            "client",
            served.client_id,
            "Example Agent Pro",
            "client ID metadata document changed: client_name, redirect_uris",
        )
    ]
