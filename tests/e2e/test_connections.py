"""Connections in a real browser: end users connect their own Demo Tasks account from My connections and
from a connect link a tool gave them (made here the way the tool layer makes it); a builder describes an
app, fills in the end user's connection form and connects their own account at a real third-party
authorization server (oidc-provider)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.demo import DEMO_TASKS_CONNECTION
from tests.e2e.live_server import SECRET_KEY, LiveServer
from tests.e2e.steps import ADMIN, ALICE, BOB, DEMO_PASSWORD, expect_heading, expect_path, sign_in, unique
from tests.support.oidc_provider import OidcClient, OidcProvider, require_oidc_provider, sign_in_and_consent
from tests.support.runner import run_async


def make_connect_link(server: LiveServer, email: str) -> str:
    """What a tool answers when it needs the caller's Demo Tasks account: a link for that person only."""

    async def work() -> str:
        settings = Settings(
            secret_key=SECRET_KEY,
            base_url=server.url,
            database_url=server.env["SWITCHBOARD_DATABASE_URL"],
            data_dir=str(server.data_dir),
        )
        database = Database(settings.database_url, pool_size=1)
        await database.connect()
        identity = IdentityServices.from_settings(settings)
        connectors = ConnectorServices.from_settings(
            settings,
            audit=identity.oauth.audit,
            sign=identity.oauth.keys.sign_assertion,
            users=identity.users,
        )
        try:
            user = await identity.users.find_by_email(email)
            assert user is not None
            (connection,) = [
                c for c in await connectors.connections.list_all() if c.name == DEMO_TASKS_CONNECTION
            ]
            return await connectors.grants.connect_link(UUID(str(user.id)), connection.id)
        finally:
            await connectors.aclose()
            await database.close()

    return run_async(work())


def sign_in_to_demo_tasks_and_allow(page: Page, email: str) -> None:
    """Demo Tasks is another app: its own sign-in page and its own consent."""
    expect_heading(page, "Sign in to Demo Tasks")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("to use your Demo Tasks account?")
    page.get_by_role("button", name="Allow").click()


def test_a_person_connects_demo_tasks_from_my_connections_then_disconnects(page: Page) -> None:
    sign_in(page, BOB)
    page.goto("/me/connections")
    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    expect(row).to_contain_text("Not connected")

    row.get_by_role("button", name="Connect").click()
    sign_in_to_demo_tasks_and_allow(page, BOB)

    expect_heading(page, "Demo Tasks connected")
    expect(page.get_by_role("status")).to_have_text(
        f"Your Demo Tasks account {BOB} is connected. You can return to your assistant."
    )
    page.get_by_role("link", name="Back to My connections").click()
    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    expect(row).to_contain_text("Connected")
    expect(row).to_contain_text(BOB)
    expect(row).to_contain_text("tasks:write")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)).to_contain_text("Not connected")


def test_a_connect_link_works_once_and_only_for_the_person_it_was_made_for(
    live_server: LiveServer, page: Page, another_browser: Callable[[], Page]
) -> None:
    link = make_connect_link(live_server, ALICE)
    assert link.startswith(f"{live_server.url}/connect/")
    bobs_page = another_browser()
    sign_in(bobs_page, BOB)

    bobs_page.goto(link)
    expect(bobs_page.get_by_role("alert")).to_have_text(
        "This connect link was made for another account. Sign in as the person who asked for it."
    )

    # Alice opens it not yet signed in: she signs in to Switchboard first, then comes back to it.
    page.goto(link)
    expect_path(page, r"^/login")
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "Connect your Demo Tasks account")
    expect(page.get_by_text("tasks:write")).to_be_visible()
    page.get_by_role("button", name="Continue to Demo Tasks").click()
    sign_in_to_demo_tasks_and_allow(page, ALICE)
    expect_heading(page, "Demo Tasks connected")

    page.goto(link)
    expect(page.get_by_role("alert")).to_have_text(
        "This connect link was already used. Ask your assistant for a new one."
    )
    disconnect_demo_tasks(page)  # as other tests expect to find Alice: not connected


def disconnect_demo_tasks(page: Page) -> None:
    """The signed-in person disconnects Demo Tasks under My connections."""
    page.goto("/me/connections")
    row = page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("row").filter(has_text=DEMO_TASKS_CONNECTION)).to_contain_text("Not connected")


@pytest.fixture
def oidc(live_server: LiveServer) -> Iterator[OidcProvider]:
    """A real third-party authorization server with an OAuth app registered for this Switchboard."""
    require_oidc_provider()
    client = OidcClient(
        client_id="switchboard-e2e",
        client_secret="e2e-secret-at-the-provider",
        redirect_uris=(f"{live_server.url}/connections/callback",),
    )
    with OidcProvider([client]) as provider:
        yield provider


def test_a_builder_sets_up_an_end_users_connection_at_a_real_provider_and_a_member_connects_to_it(
    admin_page: Page, oidc: OidcProvider, another_browser: Callable[[], Page]
) -> None:
    page = admin_page
    key = unique("oidc-app")
    definition = f"""
key: {key}
name: Identity App {key[-8:]}
icon: "🪪"
base_url: "{oidc.issuer}"
auth:
  type: oauth2_authorization_code
  provider:
    authorize_url: "{oidc.authorize_url}"
    token_url: "{oidc.token_url}"
    revocation_url: "{oidc.revocation_url}"
    userinfo_url: "{oidc.userinfo_url}"
    issuer: "{oidc.issuer}"
    scopes:
      - {{name: openid, description: Know who you are}}
      - {{name: email, description: Your e-mail address}}
      - {{name: "tasks:read", description: Read your tasks}}
"""
    page.goto("/console/connectors")
    page.get_by_label("Definition (YAML or JSON)").fill(definition)
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Identity App {key[-8:]}")

    page.goto("/console/connections")
    page.get_by_label("Connector").select_option(key)
    page.get_by_role("button", name="New connection").click()
    expect_path(page, r"^/console/connections/new")
    name = unique("Identity")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Location").select_option(label="Demo")
    expect(page.get_by_label("End user's connection")).to_be_checked()
    expect(page.get_by_role("textbox", name="Redirect URI")).to_have_value(
        re.compile(r"/connections/callback$")
    )
    page.get_by_label("Client ID").fill("switchboard-e2e")
    page.get_by_label("Client secret").fill("e2e-secret-at-the-provider")
    page.get_by_label("Scopes", exact=True).select_option(["openid", "email"])
    page.get_by_label("Other scopes").fill("tasks:read")
    # The provider runs on this machine: as an admin, allow the connection onto private addresses.
    page.get_by_label("Allow private network addresses").check()
    page.get_by_role("button", name="Connect").click()

    sign_in_and_consent(page, "builder.account@example.org")

    expect_heading(page, f"Identity App {key[-8:]} connected")
    expect(page.get_by_role("status")).to_contain_text("builder.account@example.org")
    page.get_by_role("link", name=f"Back to {name}").click()
    who = page.get_by_role("region", name="Who has connected")
    expect(who).to_contain_text(ADMIN)
    expect(who).to_contain_text("builder.account@example.org")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("connected as builder.account@example.org")).to_be_visible()

    # A member finds the new connection under My connections and connects their own account there.
    alice = another_browser()
    sign_in(alice, ALICE)
    alice.goto("/me/connections")
    row = alice.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Not connected")
    row.get_by_role("button", name="Connect").click()
    sign_in_and_consent(alice, "alice.identity@example.org")
    expect_heading(alice, f"Identity App {key[-8:]} connected")
    alice.get_by_role("link", name="Back to My connections").click()
    row = alice.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Connected")
    expect(row).to_contain_text("alice.identity@example.org")
    assert oidc.stats().token == {"authorization_code": 2}
