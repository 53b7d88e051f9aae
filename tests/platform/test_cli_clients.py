"""``switchboard clients …`` and ``switchboard keys rotate`` from the command line."""

from __future__ import annotations

import msgspec

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import Client
from switchboard.identity.tables import OAuthClient, SigningKey
from switchboard.platform.core.tokens import token_hash
from tests.platform.conftest import Cli, read_back, stderr_lines


def stored_clients(db_url: str) -> dict[str, Client]:
    async def clients(services: IdentityServices) -> dict[str, Client]:
        return {client.name: client for client in await services.oauth.clients.list_all()}

    return read_back(db_url, clients)


def stored_secret_hash(db_url: str, client_id: str) -> str | None:
    async def secret_hash(_: IdentityServices) -> str | None:
        row = (
            await OAuthClient.select(OAuthClient.secret_hash)
            .where(OAuthClient.client_id == client_id)
            .first()
        )
        return row["secret_hash"] if row else None

    return read_back(db_url, secret_hash)


def test_create_prints_the_secret_once_and_stores_only_its_hash(cli: Cli, db_url: str) -> None:
    result = cli(
        "clients",
        "create",
        "--name",
        "SOAR playbooks",
        "--redirect-uri",
        "https://soar.example.com/cb",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    printed = msgspec.json.decode(result.stdout)
    assert printed["name"] == "SOAR playbooks"
    assert printed["redirect_uris"] == ["https://soar.example.com/cb"]
    assert printed["grant_types"] == ["authorization_code", "refresh_token"]
    assert printed["token_endpoint_auth_method"] == "client_secret_basic"
    secret = printed["client_secret"]
    assert secret.startswith("sbs_")
    assert stored_secret_hash(db_url, printed["client_id"]) == token_hash(secret)
    listed = cli("clients", "list")
    assert printed["client_id"] in listed.stdout
    assert secret not in listed.stdout


def test_create_with_client_credentials_makes_a_service_account(cli: Cli, db_url: str) -> None:
    result = cli("clients", "create", "--name", "Nightly sync", "--grant", "client_credentials")
    assert result.exit_code == 0, result.stderr
    assert "client_secret: sbs_" in result.stdout
    client = stored_clients(db_url)["Nightly sync"]
    assert client.grant_types == ["client_credentials"]
    assert client.service_account_email
    assert f"Service account: {client.service_account_email}" in result.stdout
    # The service account joins groups like a user.
    assert cli("groups", "create", "Automations").exit_code == 0
    assert cli("groups", "add-member", "Automations", client.service_account_email).exit_code == 0


def test_public_client_has_no_secret(cli: Cli, db_url: str) -> None:
    result = cli(
        "clients",
        "create",
        "--name",
        "Cursor",
        "--redirect-uri",
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "--public",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert msgspec.json.decode(result.stdout)["client_secret"] is None
    assert stored_clients(db_url)["Cursor"].token_endpoint_auth_method == "none"


def test_create_refuses_unsafe_redirect_uris_and_bad_combinations(cli: Cli, db_url: str) -> None:
    cases = {
        ("--redirect-uri", "http://evil.example/cb"): "may use http only on a loopback address",
        ("--redirect-uri", "javascript:alert(1)"): "uses the forbidden scheme javascript:",
        ("--redirect-uri", "https://app.example/cb#frag"): "must not contain a fragment",
        (): "Add at least one redirect URI for the authorization code grant.",
        ("--grant", "client_credentials", "--public"): "needs a confidential client",
    }
    for args, message in cases.items():
        result = cli("clients", "create", "--name", "Bad", *args)
        assert result.exit_code == 1
        assert len(stderr_lines(result)) == 1
        assert message in result.stderr
    assert stored_clients(db_url) == {}


def test_delete_removes_the_client_and_unknown_ids_are_refused(cli: Cli, db_url: str) -> None:
    created = msgspec.json.decode(
        cli(
            "clients", "create", "--name", "Old tool", "--redirect-uri", "https://t.example/cb", "--json"
        ).stdout
    )
    result = cli("clients", "delete", created["client_id"])
    assert result.exit_code == 0
    assert result.stdout == "Client Old tool deleted; its tokens are revoked.\n"
    assert stored_clients(db_url) == {}
    again = cli("clients", "delete", created["client_id"])
    assert again.exit_code == 1
    assert stderr_lines(again) == ["error: There is no such client."]


def test_keys_rotate_retires_the_current_key(cli: Cli, db_url: str) -> None:
    first = cli("keys", "rotate")
    second = cli("keys", "rotate")
    assert first.exit_code == second.exit_code == 0
    new_kid = second.stdout.split()[3]

    async def keys(_: IdentityServices) -> list[tuple[str, bool]]:
        rows = await SigningKey.select(SigningKey.kid, SigningKey.retired_at)
        return [(row["kid"], row["retired_at"] is None) for row in rows]

    stored = dict(read_back(db_url, keys))
    assert stored[new_kid] is True
    assert sum(stored.values()) == 1
    assert len(stored) == 2
