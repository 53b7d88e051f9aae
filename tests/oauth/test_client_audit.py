"""Every MCP client event names its client as the object acted on (type ``client``, its client ID and
name), the admin who acted and where from; the registration policy's changes name the setting. The audit
page's object-type filters find them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import Client, RegistrationPolicy
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from switchboard.identity.tables import OAuthClient as ClientRow
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.oauth import REDIRECT_URI, OAuthClient
from tests.support.web import Browserless, csrf_from

ADMIN = "carol@example.com"
ADMIN_IP = "198.51.100.23"
CONSOLE = "Firefox/140 (console)"
REGISTRAR_IP = "192.0.2.80"


@pytest.fixture
async def carol(app: Litestar, services: IdentityServices) -> AsyncIterator[Browserless]:
    """An admin's browser, from an address and with a user agent of its own."""
    await make_user(services, ADMIN, Role.ADMIN)
    transport = httpx.ASGITransport(app=app, client=(ADMIN_IP, 50500))
    http = httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", headers={"user-agent": CONSOLE}
    )
    browser = Browserless(http)
    await signed_in(browser, ADMIN)
    yield browser
    await http.aclose()


@pytest.fixture
async def registrar(app: Litestar) -> AsyncIterator[OAuthClient]:
    """An MCP client registering itself from another address."""
    transport = httpx.ASGITransport(app=app, client=(REGISTRAR_IP, 50600))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield OAuthClient(http)


async def records(oauth_server: AuthorizationServer, action: str) -> list[AuditRecord]:
    return [record for record in await oauth_server.audit.search(limit=1000) if record.action == action]


def what(record: AuditRecord) -> tuple[str, str, str, str, str, str]:
    """Who did it, to what, how it went, from where."""
    return (
        record.actor,
        record.object_type,
        record.object_id,
        record.object_name,
        record.outcome,
        f"{record.ip_address} {record.user_agent}".strip(),
    )


async def post(browser: Browserless, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from((await browser.client.get(page)).text)
    return await browser.client.post(action, data={"_csrf_token": token, **data}, follow_redirects=False)


async def by_name(oauth_server: AuthorizationServer, name: str) -> Client:
    (client,) = [client for client in await oauth_server.clients.list_all() if client.name == name]
    return client


async def test_what_an_admin_does_to_clients_names_the_client_and_where_the_admin_acted_from(
    carol: Browserless, registrar: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    created = await post(
        carol,
        "/console/clients",
        "/console/clients",
        {"name": "Nightly agent", "grant": "client_credentials", "confidential": "1"},
    )
    assert created.status_code == 200
    agent = await by_name(oauth_server, "Nightly agent")
    detail = f"/console/clients/{agent.id}"
    assert (await post(carol, detail, f"{detail}/secret", {})).status_code == 200
    capped = await post(carol, detail, f"{detail}/scopes", {"scope_cap": "mcp:tools:echo"})
    assert capped.status_code == 303
    pending = await registrar.registered(client_name="Inspector", redirect_uris=[REDIRECT_URI])
    inspector = await oauth_server.clients.get(pending["client_id"])
    inspector_page = f"/console/clients/{inspector.id}"
    assert (await post(carol, inspector_page, f"{inspector_page}/refuse", {})).status_code == 303
    assert (await post(carol, inspector_page, f"{inspector_page}/approve", {})).status_code == 303
    deleted = await post(carol, f"{detail}/delete", f"{detail}/delete", {"confirm": "yes"})
    assert deleted.status_code == 303

    admin_acted = (ADMIN_IP + " " + CONSOLE).strip()
    as_agent = (ADMIN, "client", agent.client_id, "Nightly agent", "ok", admin_acted)
    as_inspector = (ADMIN, "client", inspector.client_id, "Inspector", "ok", admin_acted)
    for action, expected in [
        ("client.created", as_agent),
        ("client.secret_regenerated", as_agent),
        ("client.scopes_capped", as_agent),
        ("client.deleted", as_agent),
        ("client.refused", as_inspector),
        ("client.approved", as_inspector),
    ]:
        assert [what(record) for record in await records(oauth_server, action)] == [expected], action
    (registered,) = await records(oauth_server, "client.registered")
    assert what(registered) == ("", "client", inspector.client_id, "Inspector", "ok", REGISTRAR_IP)
    assert (registered.client_id, registered.client_name) == (inspector.client_id, "Inspector")


async def test_a_refused_registration_and_an_unused_client_s_removal_are_client_events(
    registrar: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    await oauth_server.clients.set_policy(RegistrationPolicy.OPEN, actor=SETUP)
    forgotten = await registrar.registered(client_name="Forgotten")
    await oauth_server.clients.set_policy(RegistrationPolicy.CLOSED, actor=SETUP)
    assert (await registrar.register(client_name="Latecomer")).status_code == 403
    # Never used, and older than the configured time: removed on the next registration's sweep.
    await _age(forgotten["client_id"])
    assert await oauth_server.clients.remove_unused() == 1

    refused = [r for r in await records(oauth_server, "client.registered") if r.outcome == "refused"]
    assert [(r.object_type, r.object_id, r.ip_address, r.reason) for r in refused] == [
        ("client", "", REGISTRAR_IP, "registration is closed")
    ]
    (removed,) = await records(oauth_server, "client.deleted")
    assert what(removed) == ("", "client", forgotten["client_id"], "Forgotten", "ok", "")
    assert removed.reason == "never used"


async def _age(client_id: str) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=400)
    await ClientRow.update({ClientRow.created_at: long_ago}).where(ClientRow.client_id == client_id)


async def test_the_registration_policy_s_changes_name_the_setting_and_the_admin(
    carol: Browserless, oauth_server: AuthorizationServer
) -> None:
    saved = await post(
        carol,
        "/console/clients",
        "/console/clients/policy",
        {"policy": "closed", "allow_private_metadata_hosts": "1"},
    )
    assert saved.status_code == 303

    (changed,) = await records(oauth_server, "policy.changed")
    assert what(changed) == (
        ADMIN,
        "settings",
        "registration_policy",
        "Client registration policy",
        "ok",
        ADMIN_IP + " " + CONSOLE,
    )
    assert changed.reason == "registration closed; private metadata hosts allowed"


async def test_consents_given_and_revoked_name_the_client(
    oauth: OAuthClient,
    alice: Browserless,
    public_client: dict[str, Any],
    oauth_server: AuthorizationServer,
) -> None:
    client_id = public_client["client_id"]
    await oauth.tokens(alice, client_id)
    revoked = await alice.submit("/me/apps", "/me/apps/revoke", {"client_id": client_id})
    assert revoked.status_code == 303

    for action in ("consent.granted", "consent.revoked"):
        (record,) = await records(oauth_server, action)
        assert (record.actor, record.subject, record.object_type, record.object_id, record.object_name) == (
            "alice@example.com",
            "alice@example.com",
            "client",
            client_id,
            "Public app",
        ), action


async def test_the_audit_page_finds_client_events_and_settings_changes_by_their_object_type(
    carol: Browserless, registrar: OAuthClient, oauth_server: AuthorizationServer
) -> None:
    await post(carol, "/console/clients", "/console/clients/policy", {"policy": "open"})
    await registrar.registered(client_name="Inspector", redirect_uris=[REDIRECT_URI])
    inspector = await by_name(oauth_server, "Inspector")
    page = f"/console/clients/{inspector.id}"
    await post(carol, page, f"{page}/refuse", {})

    async def actions(**params: str) -> list[str]:
        csv = await carol.client.get("/console/audit.csv", params=params)
        assert csv.status_code == 200, csv.text
        return [line.split(",")[2] for line in csv.text.splitlines()[1:]]

    assert await actions(object_type="client") == ["client.refused", "client.registered"]
    assert await actions(object_type="settings") == ["policy.changed"]
    assert await actions(object_type="client", object="inspector") == ["client.refused", "client.registered"]
