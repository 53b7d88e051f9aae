"""``switchboard servers update --client-limit``: an admin gives a client a rate limit of its own on a
server from the shell, and takes it away."""

from __future__ import annotations

from switchboard.identity.deps import IdentityServices
from switchboard.platform.mcp.deps import McpServices
from tests.platform.conftest import Cli, read_back

CLAUDE = "https://claude.ai/oauth/mcp-oauth-client-metadata"


def test_an_admin_gives_clients_limits_of_their_own_and_takes_one_away(cli: Cli, db_url: str) -> None:
    assert cli("demo").exit_code == 0

    given = cli("servers", "update", "demo", "--client-limit", f"{CLAUDE}=600", "--client-limit", "cursor=0")
    taken = cli("servers", "update", "demo", "--rate-limit", "30", "--no-client-limit", "cursor")

    assert given.stdout.splitlines() == [
        "demo\tDemo\tidentity\tSales",
        "client limit\tcursor\t0",
        f"client limit\t{CLAUDE}\t600",
    ], given.stderr
    assert taken.stdout.splitlines() == ["demo\tDemo\tidentity\tSales", f"client limit\t{CLAUDE}\t600"]

    async def limits(_: IdentityServices) -> tuple[int, list[tuple[str, int]]]:
        server = await McpServices.create().servers.get_by_slug("demo")
        return server.rate_limit_per_minute, [
            (limit.client_id, limit.rate_limit_per_minute) for limit in server.client_rate_limits
        ]

    assert read_back(db_url, limits) == (30, [(CLAUDE, 600)])


def test_a_malformed_or_impossible_client_limit_is_refused_with_one_line(cli: Cli) -> None:
    assert cli("demo").exit_code == 0

    no_number = cli("servers", "update", "demo", "--client-limit", "cursor")
    negative = cli("servers", "update", "demo", "--client-limit", "cursor=-1")
    missing = cli("servers", "update", "demo", "--no-client-limit", "nobody")

    assert no_number.exit_code == 2
    assert "CLIENT_ID=REQUESTS_A_MINUTE" in no_number.stderr
    assert (negative.exit_code, negative.stderr) == (
        1,
        "error: Enter a number of requests a minute from 0 (no limit) to 100000.\n",
    )
    assert (missing.exit_code, missing.stderr) == (1, "error: nobody has no limit of its own on demo.\n")
