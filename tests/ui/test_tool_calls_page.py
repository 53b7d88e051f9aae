"""Console → Tool calls: the audit log of MCP tool calls, its filters, its CSV export, and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp.audit import OUTCOMES, ToolCall
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.outcomes import Outcome
from switchboard.recipes.schemas import RecipeCreate
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.conftest import ADMIN, Demo
from tests.ui.html import Page
from tests.ui.test_access import FORBIDDEN_TITLE
from tests.ui.test_recipes_pages import run_report

PATH = "/console/tool-calls"
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def mcp(app_services: Services) -> McpServices:
    return app_services.mcp


def call(
    at: datetime, *, user: str, tool: str, outcome: str, server: str = "demo", **fields: object
) -> ToolCall:
    return ToolCall(
        id=uuid4(),
        at=at,
        server_slug=server,
        tool=tool,
        user_email=user,
        client_id="https://claude.ai/oauth/mcp-oauth-client-metadata",
        outcome=outcome,
        duration_ms=12,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
async def calls(mcp: McpServices, demo: Demo) -> list[ToolCall]:
    await mcp.servers.create(ServerCreate(slug="demo", name="Demo"), actor=SETUP)  # "finance" was deleted
    recorded = [
        call(DAY - timedelta(days=2), user="alice@example.com", tool="whoami", outcome="succeeded"),
        call(
            DAY - timedelta(days=1),
            user="bob@example.com",
            tool="list_tasks",
            outcome="connection_required",
            message="Connect Demo Tasks to continue.",
        ),
        call(DAY, user="alice@example.com", tool="create_task", outcome="failed", message='=HYPERLINK("x")'),
        call(
            DAY + timedelta(hours=1),
            user="alice@example.com",
            tool="whoami",
            outcome="rate_limited",
            server="finance",
            message="Too many tool calls.",
        ),
    ]
    for each in recorded:
        await mcp.calls.record(each)
    return recorded


def rows(html: str) -> list[list[str]]:
    """The table's rows as a person reads them: time, user, server, tool, outcome (without details)."""
    page = Page(html)
    cells = [element for element in page.elements if element.tag == "td"]
    width = 8
    return [
        [" ".join(cell.text.split()) for cell in cells[start : start + width]][:4]
        for start in range(0, len(cells), width)
    ]


@pytest.mark.both_engines
async def test_every_call_is_listed_newest_first(as_admin: Browserless, calls: list[ToolCall]) -> None:
    response = await as_admin.client.get(PATH)
    assert response.status_code == 200
    assert rows(response.text) == [
        ["2026-11-20 13:00:00 UTC", "alice@example.com", "finance", "whoami"],
        ["2026-11-20 12:00:00 UTC", "alice@example.com", "demo", "create_task"],
        ["2026-11-19 12:00:00 UTC", "bob@example.com", "demo", "list_tasks"],
        ["2026-11-18 12:00:00 UTC", "alice@example.com", "demo", "whoami"],
    ]
    text = Page(response.text).text
    assert "Connection required Connect Demo Tasks to continue." in text
    assert "Rate limited Too many tool calls." in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"user": "ALICE@example.com"},
            ["whoami", "create_task", "whoami"],
        ),
        ({"server": "finance"}, ["whoami"]),
        ({"tool": "list_tasks"}, ["list_tasks"]),
        ({"outcome": "failed"}, ["create_task"]),
        ({"since": "2026-11-19", "until": "2026-11-19"}, ["list_tasks"]),
        ({"since": "2026-11-20"}, ["whoami", "create_task"]),
        ({"user": "alice@example.com", "server": "demo", "until": "2026-11-19"}, ["whoami"]),
        ({"user": "carol@example.com"}, []),
    ],
)
@pytest.mark.both_engines
async def test_filters_narrow_the_list(
    as_admin: Browserless, calls: list[ToolCall], query: dict[str, str], expected: list[str]
) -> None:
    response = await as_admin.client.get(PATH, params=query)
    assert response.status_code == 200
    assert [row[3] for row in rows(response.text)] == expected
    if not expected:
        assert "No tool calls match these filters." in Page(response.text).text
    page = Page(response.text)
    for name, value in query.items():  # the form shows the filters in use
        control = page.by_id(f"filter-{name}")
        if control.tag == "select":
            chosen = [o.attrs["value"] for o in page.options(f"filter-{name}") if "selected" in o.attrs]
            assert chosen == [value]
        else:
            assert control.attrs["value"] == value


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "20/11/2026"}, "since", "Enter a date as YYYY-MM-DD."),
        ({"since": "2026-11-20", "until": "2026-11-19"}, "until", "The last day comes before the first."),
        ({"outcome": "exploded"}, "outcome", "Choose one of the listed outcomes."),
    ],
)
async def test_a_bad_filter_is_explained_at_its_field(
    as_admin: Browserless, calls: list[ToolCall], query: dict[str, str], field: str, message: str
) -> None:
    response = await as_admin.client.get(PATH, params=query)
    assert response.status_code == 422
    page = Page(response.text)
    control = page.by_id(f"filter-{field}")
    assert control.attrs["aria-invalid"] == "true"
    assert " ".join(page.by_id(control.attrs["aria-describedby"]).text.split()) == message
    assert rows(response.text) == []
    export = await as_admin.client.get(f"{PATH}/export.csv", params=query)
    assert export.status_code == 422


async def test_the_csv_export_holds_the_filtered_calls_and_cannot_run_formulas(
    as_admin: Browserless, calls: list[ToolCall]
) -> None:
    response = await as_admin.client.get(
        f"{PATH}/export.csv", params={"user": "alice@example.com", "server": "demo"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="tool-calls-')
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == [
        "time",
        "server",
        "tool",
        "user",
        "client",
        "outcome",
        "duration_ms",
        "run_id",
        "message",
    ]
    assert [(row[0], row[2], row[5], row[8]) for row in table[1:]] == [
        ("2026-11-20T12:00:00+00:00", "create_task", "failed", '\'=HYPERLINK("x")'),
        ("2026-11-18T12:00:00+00:00", "whoami", "succeeded", ""),
    ]
    page = Page((await as_admin.client.get(PATH, params={"user": "alice@example.com"})).text)
    link = next(a for a in page.all("a") if a.text.strip() == "Export CSV")
    assert link.attrs["href"] == f"{PATH}/export.csv?user=alice%40example.com"


@pytest.mark.both_engines
async def test_pages_go_on_to_older_calls(as_admin: Browserless, mcp: McpServices, demo: Demo) -> None:
    for minute in range(105):
        await mcp.calls.record(
            call(
                DAY + timedelta(minutes=minute), user="alice@example.com", tool="whoami", outcome="succeeded"
            )
        )
    first = await as_admin.client.get(PATH)
    assert len(rows(first.text)) == 100
    older = next(a for a in Page(first.text).all("a") if a.text.strip() == "Older")
    second = await as_admin.client.get(older.attrs["href"])
    assert [row[0] for row in rows(second.text)] == [
        f"2026-11-20 12:0{minute}:00 UTC" for minute in (4, 3, 2, 1, 0)
    ]
    assert not any(a.text.strip() == "Older" for a in Page(second.text).all("a"))


async def test_a_call_s_run_opens_its_job_history(
    app_services: Services, as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    recipes: RecipeServices = app_services.recipes
    connectors: ConnectorServices = app_services.connectors
    admin = principal_of(await demo.user(ADMIN))
    project = await connectors.projects.ensure("Demo")
    recipe = await recipes.recipes.create(
        RecipeCreate(project_id=project.id, name="hello", title="Hello"), actor=admin
    )
    report = run_report(recipe.id, started_at=DAY, outcome=Outcome.SUCCEEDED)
    await recipes.runs.save(report)
    await mcp.calls.record(
        call(DAY, user="alice@example.com", tool="hello", outcome="succeeded", run_id=report.id)
    )
    page = Page((await as_admin.client.get(PATH)).text)
    link = next(a for a in page.all("a") if a.text.strip() == "Open")
    response = await as_admin.client.get(link.attrs["href"], follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/console/recipes/{recipe.id}/runs/{report.id}",
    )
    missing = await as_admin.client.get(f"{PATH}/runs/{UUID(int=1)}", follow_redirects=False)
    assert missing.status_code == 404


def test_every_run_outcome_has_a_filter() -> None:
    assert {outcome.value for outcome in Outcome} | {"rate_limited"} == set(OUTCOMES)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BUILDER])
async def test_only_admins_read_the_tool_calls(
    web: Browserless, calls: list[ToolCall], demo: Demo, role: Role
) -> None:
    await make_user(demo.services, "someone@example.com", role)
    assert (await web.sign_in("someone@example.com", PASSWORD)).status_code == 303
    for path in (PATH, f"{PATH}/export.csv", f"{PATH}/runs/{uuid4()}"):
        response = await web.client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "alice@example.com" not in response.text
    page = await web.client.get(PATH)
    assert Page(page.text).heading == FORBIDDEN_TITLE
