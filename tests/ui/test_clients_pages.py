"""Console → MCP clients: what admins do with clients, and that nobody else can."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard.identity.oauth.models import Client, ClientStatus, RegistrationPolicy, StaticClientCreate
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.oauth.verifier import InvalidToken
from switchboard.identity.tables import OAuthClient, User
from switchboard.platform.core.tokens import token_hash
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import Browserless, csrf_from
from tests.ui.conftest import ADMIN, ALICE, Demo
from tests.ui.html import Page
from tests.ui.test_access import FORBIDDEN_TITLE

ISSUER = "http://testserver.local"
REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture
def oauth(app_services: Services) -> AuthorizationServer:
    return app_services.identity.oauth


async def create(as_admin: Browserless, **fields: Any) -> httpx.Response:
    """Submit the create form as an admin fills it in (lists repeat the field, as checkboxes do)."""
    page = await as_admin.client.get("/console/clients")
    data: dict[str, Any] = {"_csrf_token": csrf_from(page.text), "confidential": "1", **fields}
    return await as_admin.client.post("/console/clients", data=data, follow_redirects=False)


async def by_name(oauth: AuthorizationServer, name: str) -> Client:
    matches = [client for client in await oauth.clients.list_all() if client.name == name]
    assert len(matches) == 1, [client.name for client in await oauth.clients.list_all()]
    return matches[0]


async def client_credentials(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return await http.post("/oauth/token", data=data)


async def audited(oauth: AuthorizationServer, action: str) -> list[tuple[str, str]]:
    return [(event.actor, event.client_name) for event in await oauth.audit.recent(action=action)]


async def service_client(oauth: AuthorizationServer, name: str) -> tuple[Client, str]:
    created = await oauth.clients.create_static(
        StaticClientCreate(name=name, grant_types=["client_credentials"]), actor=SETUP
    )
    assert created.client_secret
    return created.client, created.client_secret


async def pending_client(http: httpx.AsyncClient, name: str) -> str:
    answer = await http.post("/oauth/register", json={"client_name": name, "redirect_uris": [REDIRECT]})
    assert answer.status_code == 201, answer.text
    client_id: str = answer.json()["client_id"]
    return client_id


async def test_an_admin_creates_a_client_and_sees_its_secret_once_stored_only_as_a_hash(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    response = await create(
        as_admin,
        name="Claude Desktop",
        redirect_uris=f"{REDIRECT}\n\nhttps://claude.ai/callback\n",
        grant="authorization_code",
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    client = await by_name(oauth, "Claude Desktop")
    secret = page.by_id("new-client-secret").attrs["value"]
    assert secret.startswith("sbs_")
    assert page.by_id("new-client-id").attrs["value"] == client.client_id
    assert page.label_for(page.by_id("new-client-secret")) == "Client secret"
    assert "Copy the secret now: it is not shown again." in page.text
    assert [button.text for button in page.all("button") if button.attrs.get("type") == "button"] == [
        "Copy",
        "Copy",
    ]
    assert client.redirect_uris == [REDIRECT, "https://claude.ai/callback"]
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert (client.kind.label, client.status, client.approved_by) == (
        "created by an admin",
        ClientStatus.APPROVED,
        ADMIN,
    )

    row = await OAuthClient.select().where(OAuthClient.client_id == client.client_id).first()
    assert row is not None
    assert row["secret_hash"] == token_hash(secret)
    assert secret not in repr(row)
    for path in ("/console/clients", f"/console/clients/{client.id}"):
        again = await as_admin.client.get(path)
        assert again.status_code == 200
        assert secret not in again.text, path
        assert "new-client-secret" not in again.text, path
    listing = Page((await as_admin.client.get("/console/clients")).text)
    row_text = [r.text for r in listing.all("tr") if "Claude Desktop" in r.text]
    assert len(row_text) == 1
    assert " ".join(row_text[0].split()) == (
        "Claude Desktop created by an admin Approved admin@example.com never 127.0.0.1:8765, claude.ai"
    )
    assert await audited(oauth, "client.created") == [(ADMIN, "Claude Desktop")]


async def test_a_service_account_client_names_its_account_and_gets_tokens_with_its_secret(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    response = await create(as_admin, name="Nightly agent", grant="client_credentials")
    assert response.status_code == 200
    page = Page(response.text)
    client = await by_name(oauth, "Nightly agent")
    assert client.service_account_email
    assert client.service_account_email in page.by_id("main").text
    assert "Add that account to groups on the Groups page" in page.text
    assert "/console/groups" in [link.attrs.get("href") for link in page.all("a")]
    secret = page.by_id("new-client-secret").attrs["value"]
    token = await client_credentials(as_admin.client, client.client_id, secret)
    assert token.status_code == 200, token.text
    verified = await oauth.verifier.verify(token.json()["access_token"], audience=ISSUER)
    assert verified.client_id == client.client_id


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "No grants"}, None, "Choose at least one way the client gets tokens."),
        (
            {"name": "Bad redirect", "redirect_uris": "javascript:alert(1)", "grant": "authorization_code"},
            "redirect_uris",
            None,
        ),
        ({"name": "", "grant": "client_credentials"}, "name", None),
    ],
    ids=["no grant", "bad redirect", "no name"],
)
async def test_a_refused_client_form_shows_why_keeps_the_input_and_creates_nothing(
    as_admin: Browserless,
    oauth: AuthorizationServer,
    fields: dict[str, str],
    field: str | None,
    message: str | None,
) -> None:
    response = await create(as_admin, **fields)
    assert response.status_code == 422
    page = Page(response.text)
    if field is None:
        assert page.by_id("grant_types-error").text == message
    else:
        assert page.error_next_to(page.field(field)), page.text
    assert page.field("name").attrs["value"] == fields["name"]
    if "redirect_uris" in fields:
        assert page.field("redirect_uris").text == fields["redirect_uris"]
    assert "checked" in page.field("confidential").attrs
    assert await oauth.clients.list_all() == []


async def test_a_public_client_has_no_secret_to_show_or_regenerate(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    response = await create(
        as_admin, name="Desktop app", redirect_uris=REDIRECT, grant="authorization_code", confidential=""
    )
    assert response.status_code == 200
    page = Page(response.text)
    client = await by_name(oauth, "Desktop app")
    assert not client.is_confidential
    assert page.by_id("new-client-id").attrs["value"] == client.client_id
    assert "new-client-secret" not in response.text
    detail = Page((await as_admin.client.get(f"/console/clients/{client.id}")).text)
    assert "Regenerate secret" not in detail.text
    refused = await as_admin.submit(
        f"/console/clients/{client.id}", f"/console/clients/{client.id}/secret", {}
    )
    assert refused.status_code == 422
    assert "This is a public client: it has no secret." in Page(refused.text).text


async def test_regenerating_a_secret_shows_the_new_one_once_and_the_old_one_stops_working(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    client, old_secret = await service_client(oauth, "Exporter")
    earlier = await client_credentials(as_admin.client, client.client_id, old_secret)
    assert earlier.status_code == 200
    detail_path = f"/console/clients/{client.id}"
    detail = Page((await as_admin.client.get(detail_path)).text)
    assert "Tokens already issued stay valid until they expire (within 60 minutes)." in detail.text

    response = await as_admin.submit(detail_path, f"{detail_path}/secret", {})
    assert response.status_code == 200
    page = Page(response.text)
    new_secret = page.by_id("new-client-secret").attrs["value"]
    assert new_secret.startswith("sbs_")
    assert new_secret != old_secret
    assert "The old secret stopped working just now." in page.text
    assert "Copy the secret now: it is not shown again." in page.text
    assert new_secret not in (await as_admin.client.get(detail_path)).text

    refused = await client_credentials(as_admin.client, client.client_id, old_secret)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert (await client_credentials(as_admin.client, client.client_id, new_secret)).status_code == 200
    still = await oauth.verifier.verify(earlier.json()["access_token"], audience=ISSUER)
    assert still.client_id == client.client_id
    assert await audited(oauth, "client.secret_regenerated") == [(ADMIN, "Exporter")]


async def test_deleting_a_client_asks_first_then_revokes_its_tokens_at_once(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    client, secret = await service_client(oauth, "Old agent")
    token = (await client_credentials(as_admin.client, client.client_id, secret)).json()["access_token"]
    detail_path = f"/console/clients/{client.id}"
    detail = Page((await as_admin.client.get(detail_path)).text)
    assert [a.attrs["href"] for a in detail.all("a") if a.text == "Delete client…"] == [
        f"{detail_path}/delete"
    ]

    confirm = await as_admin.client.get(f"{detail_path}/delete")
    assert confirm.status_code == 200
    page = Page(confirm.text)
    assert page.all("h1")[0].text == "Delete Old agent?"
    assert (
        "All its access tokens, refresh tokens and authorization codes are revoked immediately" in page.text
    )
    assert f"Its service account {client.service_account_email} is deleted too." in page.text
    assert [b.text for b in page.all("button") if b.attrs.get("type") == "submit"][-1] == "Delete client"

    # A post without the confirmation form's answer only asks again.
    unconfirmed = await as_admin.submit(detail_path, f"{detail_path}/delete", {})
    assert unconfirmed.status_code == 200
    assert Page(unconfirmed.text).all("h1")[0].text == "Delete Old agent?"
    assert await oauth.clients.find(client.client_id) is not None
    await oauth.verifier.verify(token, audience=ISSUER)

    deleted = await as_admin.submit(f"{detail_path}/delete", f"{detail_path}/delete", {"confirm": "yes"})
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/console/clients")
    listing = Page((await as_admin.client.get("/console/clients")).text)
    assert "Old agent deleted. Its tokens and codes were revoked." in listing.text
    assert "No MCP clients yet." in listing.text
    assert await oauth.clients.find(client.client_id) is None
    with pytest.raises(InvalidToken):
        await oauth.verifier.verify(token, audience=ISSUER)
    refused = await client_credentials(as_admin.client, client.client_id, secret)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert await User.count().where(User.email == client.service_account_email) == 0
    assert await audited(oauth, "client.deleted") == [(ADMIN, "Old agent")]
    gone = await as_admin.client.get(detail_path)
    assert gone.status_code == 404
    assert "There is no such client." in Page(gone.text).text


async def test_an_admin_approves_or_refuses_pending_clients_from_the_list_and_it_is_audited(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    first = await oauth.clients.get(await pending_client(as_admin.client, "Inspector"))
    second = await oauth.clients.get(await pending_client(as_admin.client, "Unknown tool"))
    listing = Page((await as_admin.client.get("/console/clients")).text)
    for name in ("Inspector", "Unknown tool"):
        cells = [" ".join(r.text.split()) for r in listing.all("tr") if r.text.strip().startswith(name)]
        assert cells == [
            f"{name} registered dynamically Pending approval — never 127.0.0.1:8765 Approve Refuse"
        ]

    approved = await as_admin.submit(
        "/console/clients", f"/console/clients/{first.id}/approve", {"from": "list"}
    )
    assert (approved.status_code, approved.headers["location"]) == (303, "/console/clients")
    after = Page((await as_admin.client.get("/console/clients")).text)
    assert "Inspector approved: people can now authorize it." in after.text
    now = await oauth.clients.get(first.client_id)
    assert (now.status, now.approved_by) == (ClientStatus.APPROVED, ADMIN)

    refused = await as_admin.submit(
        f"/console/clients/{second.id}", f"/console/clients/{second.id}/refuse", {}
    )
    assert (refused.status_code, refused.headers["location"]) == (303, f"/console/clients/{second.id}")
    detail = Page((await as_admin.client.get(refused.headers["location"])).text)
    assert "Unknown tool refused: it cannot sign anyone in, and its tokens no longer work." in detail.text
    assert "This client was refused" in detail.text
    assert (await oauth.clients.get(second.client_id)).status is ClientStatus.REFUSED

    assert await audited(oauth, "client.approved") == [(ADMIN, "Inspector")]
    assert await audited(oauth, "client.refused") == [(ADMIN, "Unknown tool")]


async def test_repeated_registrations_of_one_client_are_listed_together(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    for _ in range(3):
        await pending_client(as_admin.client, "Cursor")
    await pending_client(as_admin.client, "Other")
    page = Page((await as_admin.client.get("/console/clients")).text)
    heads = [" ".join(th.text.split()) for th in page.all("th") if th.attrs.get("scope") == "rowgroup"]
    assert heads == ["Cursor · 3 registrations of the same client"]
    groups = [body for body in page.all("tbody")]
    assert [body.attrs.get("class") for body in groups].count("client-group") == 1
    grouped = next(body for body in groups if body.attrs.get("class") == "client-group")
    assert grouped.text.count("Pending approval") == 3
    assert "Other" not in grouped.text


async def test_the_registration_policy_is_saved_shown_and_audited(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    page = Page((await as_admin.client.get("/console/clients")).text)
    assert "checked" in page.by_id("policy-admin_approval").attrs
    assert "checked" not in page.by_id("allow_private_metadata_hosts").attrs
    assert page.label_for(page.by_id("allow_private_metadata_hosts")) == (
        "Allow client metadata documents on private and loopback addresses"
    )

    saved = await as_admin.submit(
        "/console/clients",
        "/console/clients/policy",
        {"policy": "closed", "allow_private_metadata_hosts": "1"},
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/console/clients")
    assert await oauth.clients.policy() is RegistrationPolicy.CLOSED
    assert await oauth.clients.allow_private_metadata_hosts() is True
    page = Page((await as_admin.client.get("/console/clients")).text)
    assert "Registration policy saved." in page.text
    assert "checked" in page.by_id("policy-closed").attrs
    assert "checked" in page.by_id("allow_private_metadata_hosts").attrs
    registration = await as_admin.client.post(
        "/oauth/register", json={"client_name": "Late", "redirect_uris": [REDIRECT]}
    )
    assert registration.status_code == 403

    await as_admin.submit("/console/clients", "/console/clients/policy", {"policy": "open"})
    assert await oauth.clients.policy() is RegistrationPolicy.OPEN
    assert await oauth.clients.allow_private_metadata_hosts() is False
    events = [(e.actor, e.reason) for e in await oauth.audit.recent(action="policy.changed")]
    assert events == [
        (ADMIN, "registration open; private metadata hosts refused"),
        (ADMIN, "registration closed; private metadata hosts allowed"),
    ]

    unknown = await as_admin.submit("/console/clients", "/console/clients/policy", {"policy": "anything"})
    assert unknown.status_code == 422
    assert await oauth.clients.policy() is RegistrationPolicy.OPEN


async def test_an_unknown_client_is_a_friendly_404(as_admin: Browserless) -> None:
    for path in (
        "/console/clients/6f1c2d4e-0000-4000-8000-000000000000",
        "/console/clients/6f1c2d4e-0000-4000-8000-000000000000/delete",
        "/console/clients/sbc_not-a-database-id",
    ):
        response = await as_admin.client.get(path)
        assert response.status_code == 404, path
        assert Page(response.text).all("h1")[0].text == "Page not found", path


async def snapshot(oauth: AuthorizationServer) -> object:
    clients = await OAuthClient.select(
        OAuthClient.client_id, OAuthClient.status, OAuthClient.secret_hash, OAuthClient.name
    ).order_by(OAuthClient.client_id)
    return (
        clients,
        await oauth.clients.policy(),
        await oauth.clients.allow_private_metadata_hosts(),
        # Every record but the refused attempts themselves.
        len([e for e in await oauth.audit.recent(limit=1000) if e.action != "access.refused"]),
    )


async def test_members_are_refused_every_client_and_audit_page_and_action(
    web: Browserless, demo: Demo, oauth: AuthorizationServer
) -> None:
    static, secret = await service_client(oauth, "Agent")
    pending = await oauth.clients.get(await pending_client(web.client, "Waiting"))
    assert (await web.sign_in(ALICE)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    before = await snapshot(oauth)
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/console/clients", {}),
        ("GET", f"/console/clients/{static.id}", {}),
        ("GET", f"/console/clients/{static.id}/delete", {}),
        ("GET", "/console/audit", {}),
        ("GET", "/console/audit?action=token.", {}),
        (
            "POST",
            "/console/clients",
            {"name": "Backdoor", "grant": "client_credentials", "confidential": "1"},
        ),
        ("POST", "/console/clients/policy", {"policy": "open", "allow_private_metadata_hosts": "1"}),
        ("POST", f"/console/clients/{static.id}/secret", {}),
        ("POST", f"/console/clients/{static.id}/delete", {"confirm": "yes"}),
        ("POST", f"/console/clients/{pending.id}/approve", {"from": "list"}),
        ("POST", f"/console/clients/{pending.id}/refuse", {}),
    ]
    for method, path, data in requests:
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 403, f"{method} {path}"
        page = Page(response.text)
        assert page.all("h1")[0].text == FORBIDDEN_TITLE, f"{method} {path}"
        assert "Only owners and admins can open this." in page.text
        assert secret not in response.text
    assert await snapshot(oauth) == before
    refused = [(e.actor, e.object_id) for e in await oauth.audit.recent(action="access.refused")]
    assert sorted(refused) == sorted(
        (ALICE, f"{method} {path}") for method, path, _ in requests if method == "POST"
    )
    assert (await client_credentials(web.client, static.client_id, secret)).status_code == 200
    menu = [a.text for a in Page((await web.client.get("/me")).text).all("a")]
    assert "MCP clients" not in menu
    assert "Audit" not in menu
    assert "My apps" in menu


async def test_client_forms_without_the_forms_token_are_refused_and_change_nothing(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    static, secret = await service_client(oauth, "Agent")
    before = await snapshot(oauth)
    await as_admin.client.get("/console/clients")
    for path, data in (
        ("/console/clients", {"name": "Forged", "grant": "client_credentials", "confidential": "1"}),
        ("/console/clients/policy", {"policy": "open"}),
        (f"/console/clients/{static.id}/secret", {}),
        (f"/console/clients/{static.id}/delete", {"confirm": "yes"}),
    ):
        response = await as_admin.client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, path
        assert Page(response.text).all("h1")[0].text == "This form has expired", path
    assert await snapshot(oauth) == before
    assert (await client_credentials(as_admin.client, static.client_id, secret)).status_code == 200


async def test_the_console_pages_label_every_field_and_are_never_cached(
    as_admin: Browserless, oauth: AuthorizationServer
) -> None:
    created = await create(as_admin, name="Labelled", redirect_uris=REDIRECT, grant="authorization_code")
    client = await by_name(oauth, "Labelled")
    await pending_client(as_admin.client, "Pending one")
    pages = {
        "created": created,
        "refused form": await create(as_admin, name=""),
        "list": await as_admin.client.get("/console/clients"),
        "detail": await as_admin.client.get(f"/console/clients/{client.id}"),
        "confirm delete": await as_admin.client.get(f"/console/clients/{client.id}/delete"),
        "audit": await as_admin.client.get("/console/audit"),
    }
    for name, response in pages.items():
        assert response.headers["cache-control"] == "no-store", name
        page = Page(response.text)
        assert len(page.all("h1")) == 1, name
        for control in page.fillable_controls():
            assert page.label_for(control), f"{name}: {control} has no <label for>"
        assert page.duplicate_ids() == [], name
    nav = Page(pages["list"].text).all("a")
    current = [a.text for a in nav if a.attrs.get("aria-current") == "page"]
    assert current == ["MCP clients"]
