"""What Demo Tasks keeps: hashes of codes and tokens, encrypted client secrets, and the client registry."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from piccolo.table import Table

from switchboard.platform.core.crypto import SecretBox
from switchboard.platform.core.database import Database
from switchboard.platform.core.errors import Conflict, InvalidInput
from switchboard.platform.demo_tasks.clients import ClientRegistry, DemoClient
from switchboard.platform.demo_tasks.tables import AuthorizationCode, Client, Token
from tests.conftest import TEST_SECRET
from tests.demo_tasks.support import REDIRECT_URI, DemoTasksBrowser

pytestmark = pytest.mark.both_engines


async def _raw_rows(table: type[Table]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await table.raw(f"SELECT * FROM {table._meta.tablename}")  # noqa: S608
    return rows


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def test_codes_and_tokens_are_stored_only_as_hashes(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")
    authorized = await browser.authorized(oauth_client)
    first = (await browser.exchange(oauth_client, authorized)).json()
    second = (await browser.refresh(oauth_client, first["refresh_token"])).json()
    secrets = [
        authorized.code,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    ]

    codes = await _raw_rows(AuthorizationCode)
    tokens = await _raw_rows(Token)

    stored = " ".join(str(value) for row in (*codes, *tokens) for value in row.values())
    assert not [secret for secret in secrets if secret in stored]
    assert [row["code_hash"] for row in codes] == [_sha256(authorized.code)]
    assert {row["token_hash"] for row in tokens} == {_sha256(secret) for secret in secrets[1:]}


async def test_a_client_secret_is_stored_encrypted_for_the_demo_seed_to_read_back(
    registry: ClientRegistry, oauth_client: DemoClient
) -> None:
    (row,) = await _raw_rows(Client)

    assert oauth_client.client_secret not in " ".join(str(value) for value in row.values())
    assert (
        SecretBox(TEST_SECRET, "demo-tasks-client").decrypt(row["secret_encrypted"])
        == oauth_client.client_secret
    )


async def test_ensuring_a_client_again_gives_the_same_credentials_and_the_new_redirect_uris(
    registry: ClientRegistry, oauth_client: DemoClient
) -> None:
    moved = "http://127.0.0.1:8123/connections/callback"

    again = await registry.ensure_client("Switchboard", [moved])

    assert again == oauth_client
    assert await Client.count() == 1
    found = await registry.find(oauth_client.client_id)
    assert found is not None
    assert found.redirect_uris == (moved,)


async def test_a_client_made_under_another_secret_key_gets_a_new_secret_when_ensured(
    oauth_client: DemoClient, database: Database
) -> None:
    rotated = ClientRegistry("another-secret-key-that-is-long-enough-0123")

    again = await rotated.ensure_client("Switchboard", [REDIRECT_URI])

    assert again.client_id == oauth_client.client_id
    assert again.client_secret != oauth_client.client_secret
    assert (
        await rotated.authenticate(again.client_id, again.client_secret, basic=False)
    ).name == "Switchboard"


async def test_after_a_secret_key_change_the_previous_key_opens_the_secrets_until_reencrypted(
    oauth_client: DemoClient, database: Database
) -> None:
    new_key = "the-next-secret-key-that-is-long-enough-4567"
    registry = ClientRegistry(new_key, [TEST_SECRET])

    still = await registry.authenticate(oauth_client.client_id, oauth_client.client_secret, basic=False)
    changed = await registry.reencrypt()

    assert still.name == "Switchboard"
    assert changed == 1
    assert await registry.reencrypt() == 0
    assert await ClientRegistry(new_key).ensure_client("Switchboard", [REDIRECT_URI]) == oauth_client


async def test_creating_a_client_with_a_taken_name_is_a_conflict(
    registry: ClientRegistry, oauth_client: DemoClient
) -> None:
    with pytest.raises(Conflict) as taken:
        await registry.create_client("Switchboard", [REDIRECT_URI])

    assert taken.value.message == "A client named 'Switchboard' exists already."
    assert await Client.count() == 1


BAD_CLIENTS = [
    ("", [REDIRECT_URI], "The client name must be 1 to 200 characters."),
    ("App", [], "Give at least one redirect URI."),
    (
        "App",
        ["/relative/callback"],
        "The redirect URI '/relative/callback' must be an absolute http(s) URL without a fragment.",
    ),
    (
        "App",
        ["https://app.example/cb#fragment"],
        "The redirect URI 'https://app.example/cb#fragment' must be an absolute http(s) URL without a "
        "fragment.",
    ),
    (
        "App",
        ["javascript:alert(1)"],
        "The redirect URI 'javascript:alert(1)' must be an absolute http(s) URL without a fragment.",
    ),
]


async def test_a_client_needs_a_name_and_absolute_redirect_uris(
    registry: ClientRegistry, database: Database
) -> None:
    for name, uris, message in BAD_CLIENTS:
        with pytest.raises(InvalidInput) as refused:
            await registry.create_client(name, uris)

        assert refused.value.message == message
    assert await Client.count() == 0
