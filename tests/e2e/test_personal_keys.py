"""A person enters their own API key for an app without OAuth under My connections, in a real browser:
the key is saved, never shown again, and the page says it is set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from playwright.sync_api import Page, expect

from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.models import Connection
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from tests.connectors.conftest import principal_of
from tests.connectors.personal_support import personal_connection
from tests.e2e.live_server import SECRET_KEY, LiveServer
from tests.e2e.steps import ADMIN, ALICE, expect_notice, sign_in, unique
from tests.support.runner import run_async

T = TypeVar("T")


def on_server(server: LiveServer, work: Callable[[ConnectorServices, IdentityServices], Awaitable[T]]) -> T:
    """Run ``work(connectors, identity)`` against the live server's database."""

    async def run() -> T:
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
            return await work(connectors, identity)
        finally:
            await connectors.aclose()
            await database.close()

    return run_async(run())


def test_a_person_enters_their_api_key_under_my_connections(page: Page, live_server: LiveServer) -> None:
    key = unique("keyed")
    secret = unique("secret-key")

    async def create(connectors: ConnectorServices, identity: IdentityServices) -> Connection:
        admin = await identity.users.find_by_email(ADMIN)
        assert admin is not None
        project = await connectors.projects.ensure(unique("Keys"))
        return await personal_connection(
            connectors, project, principal_of(admin), "https://keyed.example", key=key
        )

    connection = on_server(live_server, create)

    sign_in(page, ALICE)
    page.goto("/me/connections")
    row = (
        page.get_by_role("row")
        .filter(has_text=unique.__name__ and "Keyed App")
        .filter(has=page.locator(f'form[action="/me/connections/{connection.id}/credential"]'))
    )
    row.get_by_text("Enter your API key").click()
    row.get_by_label("Your API key for Keyed App").fill(secret)
    row.get_by_role("button", name="Save").click()
    expect_notice(page, "Saved. Tools now use it when you call them.")
    row = page.get_by_role("row").filter(
        has=page.locator(f'form[action="/me/connections/{connection.id}/credential"]')
    )
    expect(row).to_contain_text("Your API key is set (since")
    expect(row.get_by_text("Replace your API key")).to_be_visible()
    assert secret not in page.content()

    async def used(connectors: ConnectorServices, identity: IdentityServices) -> dict[str, str]:
        alice = await identity.users.find_by_email(ALICE)
        assert alice is not None
        auth = await connectors.credentials.request_auth(connection.id, Caller(alice.id))
        return auth.headers

    assert on_server(live_server, used) == {"X-API-Key": secret}
