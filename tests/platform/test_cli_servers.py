"""``switchboard servers``: an admin sets up MCP servers from the shell, as the docs show."""

from __future__ import annotations

from switchboard.identity.deps import IdentityServices
from switchboard.platform.mcp.deps import McpServices
from tests.platform.conftest import Cli, read_back


def test_an_admin_creates_a_server_gives_it_a_group_and_tools_then_removes_them(
    cli: Cli, db_url: str
) -> None:
    assert cli("demo").exit_code == 0

    created = cli("servers", "create", "sales", "--name", "Sales tools", "--instructions", "For sales.")
    grouped = cli("servers", "add-group", "sales", "Sales")
    attached = cli("servers", "attach", "sales", "list_tasks", "--read-only")
    scoped = cli("servers", "attach", "sales", "create_task", "--scope", "tasks:write", "--destructive")
    tools = cli("servers", "tools", "sales")
    listed = cli("servers", "list")

    assert created.stdout == "Created MCP server sales: http://127.0.0.1:8000/mcp/sales\n", created.stderr
    assert grouped.stdout == "sales\tSales tools\tidentity\tSales\n", grouped.stderr
    assert attached.stdout == "list_tasks\tmcp:tools:list_tasks\tv1\tread-only\n", attached.stderr
    assert scoped.exit_code == 0, scoped.stderr
    assert tools.stdout.splitlines() == [
        "create_task\ttasks:write\tv1\tdestructive",
        "list_tasks\tmcp:tools:list_tasks\tv1\tread-only",
    ]
    assert listed.stdout.splitlines() == [
        "demo\tDemo\tidentity\tSales",
        "sales\tSales tools\tidentity\tSales",
    ]

    assert cli("servers", "detach", "sales", "list_tasks").stdout == "Detached list_tasks from sales.\n"
    assert cli("servers", "remove-group", "sales", "Sales").stdout == "sales\tSales tools\tidentity\t-\n"
    assert cli("servers", "delete", "sales").stdout == "Deleted MCP server sales.\n"

    async def slugs(_: IdentityServices) -> list[str]:
        return [server.slug for server in await McpServices.create().servers.list_all()]

    assert read_back(db_url, slugs) == ["demo"]


def test_mistakes_are_refused_with_one_line(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    bad_slug = cli("servers", "create", "Sales Tools", "--name", "x")
    taken = cli("servers", "create", "demo", "--name", "Again")
    no_group = cli("servers", "add-group", "demo", "Nobody")
    no_recipe = cli("servers", "attach", "demo", "nothing_here")
    twice = cli("servers", "attach", "demo", "whoami")
    unknown = cli("servers", "tools", "nope")

    assert (bad_slug.exit_code, bad_slug.stderr) == (
        1,
        "error: Use lower-case letters, digits and hyphens "
        "(at most 64, not starting or ending with a hyphen).\n",
    )
    assert taken.stderr == "error: There is already an MCP server demo.\n"
    assert (no_group.exit_code, no_group.stderr) == (1, "error: No group named 'Nobody'.\n")
    assert no_recipe.stderr == "error: no recipe named 'nothing_here'\n"
    assert twice.stderr == "error: This recipe is a tool of this server already.\n"
    assert unknown.stderr == "error: There is no MCP server nope.\n"


def test_a_token_is_printed_once_and_only_its_prefix_is_listed(cli: Cli, db_url: str) -> None:
    assert cli("servers", "create", "jobs", "--name", "Jobs", "--access-method", "token").exit_code == 0
    created = cli("servers", "token", "create", "jobs", "--name", "nightly")
    secret = created.stdout.strip()
    listed = cli("servers", "token", "list", "jobs")

    assert secret.startswith("sbt_")
    assert "not shown again" in created.stderr
    assert secret not in listed.stdout
    token_id, name, prefix, _, last_used = listed.stdout.strip().split("\t")
    assert (name, prefix, last_used) == ("nightly", secret[:12] + "…", "never")

    async def verified(_: IdentityServices) -> bool:
        service = McpServices.create().servers
        server = await service.get_by_slug("jobs")
        return await service.verify_token(server.id, secret) is not None

    assert read_back(db_url, verified) is True
    assert cli("servers", "token", "revoke", "jobs", token_id).exit_code == 0
    assert read_back(db_url, verified) is False


def test_an_admin_changes_a_server_and_only_what_was_asked(cli: Cli, db_url: str) -> None:
    assert cli("demo").exit_code == 0

    renamed = cli("servers", "update", "demo", "--name", "Demo tools", "--rate-limit", "0")
    switched = cli("servers", "update", "demo", "--access-method", "token")
    nothing = cli("servers", "update", "demo")
    bad = cli("servers", "update", "demo", "--rate-limit", "-5")
    unknown = cli("servers", "update", "nope", "--name", "x")

    assert renamed.stdout == "demo\tDemo tools\tidentity\tSales\n", renamed.stderr
    assert switched.stdout == "demo\tDemo tools\ttoken\tSales\n", switched.stderr
    assert nothing.exit_code == 2
    assert "say what to change" in nothing.stderr
    assert (bad.exit_code, bad.stderr) == (
        1,
        "error: Enter a number of requests a minute from 0 (no limit) to 100000.\n",
    )
    assert (unknown.exit_code, unknown.stderr) == (1, "error: There is no MCP server nope.\n")

    async def demo(_: IdentityServices) -> tuple[str, str, int, str]:
        server = await McpServices.create().servers.get_by_slug("demo")
        return server.name, server.instructions, server.rate_limit_per_minute, server.access_method.value

    name, instructions, limit, method = read_back(db_url, demo)
    assert (name, limit, method) == ("Demo tools", 0, "token")
    assert instructions.startswith("Use whoami")  # left as it was
