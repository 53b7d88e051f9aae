"""``switchboard clients cap``: the scopes a client may get at most, from the command line."""

from __future__ import annotations

import msgspec

from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from tests.platform.conftest import Cli, read_back, stderr_lines
from tests.platform.test_cli_clients import stored_clients


def capping_events(db_url: str) -> list[tuple[str, str, str]]:
    async def events(services: IdentityServices) -> list[AuditRecord]:
        return await services.oauth.audit.recent(action="client.scopes_capped")

    return [(event.client_name, event.scope, event.reason) for event in reversed(read_back(db_url, events))]


def test_cap_limits_a_client_to_the_scopes_given_and_remove_lifts_it(cli: Cli, db_url: str) -> None:
    created = msgspec.json.decode(
        cli("clients", "create", "--name", "Nightly sync", "--grant", "client_credentials", "--json").stdout
    )
    client_id = created["client_id"]

    capped = cli("clients", "cap", client_id, "mcp:tools:export", "mcp:tools:search")
    assert capped.exit_code == 0, capped.stderr
    assert capped.stdout == "Client Nightly sync may now get at most: mcp:tools:export mcp:tools:search.\n"
    assert stored_clients(db_url)["Nightly sync"].scope_cap == ("mcp:tools:export", "mcp:tools:search")

    lifted = cli("clients", "cap", client_id, "--remove")
    assert lifted.exit_code == 0, lifted.stderr
    assert lifted.stdout == "Client Nightly sync may get any scope people allow it.\n"
    assert stored_clients(db_url)["Nightly sync"].scope_cap == ()
    assert capping_events(db_url) == [
        ("Nightly sync", "mcp:tools:export mcp:tools:search", "no cap before"),
        ("Nightly sync", "", "cap removed; was mcp:tools:export mcp:tools:search"),
    ]


def test_cap_refuses_no_scopes_offline_access_and_unknown_clients(cli: Cli, db_url: str) -> None:
    created = msgspec.json.decode(
        cli("clients", "create", "--name", "Bot", "--grant", "client_credentials", "--json").stdout
    )
    neither = cli("clients", "cap", created["client_id"])
    assert neither.exit_code == 2
    assert "Give the scopes to allow, or --remove." in neither.stderr
    offline = cli("clients", "cap", created["client_id"], "offline_access")
    assert offline.exit_code == 1
    assert stderr_lines(offline) == [
        "error: offline_access is not capped: refresh tokens follow the client's grant types."
    ]
    unknown = cli("clients", "cap", "sbc_nobody", "mcp:tools:search")
    assert unknown.exit_code == 1
    assert stderr_lines(unknown) == ["error: There is no such client."]
    assert stored_clients(db_url)["Bot"].scope_cap == ()
    assert capping_events(db_url) == []
