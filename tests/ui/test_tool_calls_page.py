"""Console → Tool calls: the audit log of MCP tool calls, its filters, its CSV export, and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import msgspec
import pytest

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.roles import Role
from switchboard.platform.mcp import audit
from switchboard.platform.mcp.audit import OUTCOMES, ToolCall, ToolCallFilter, ToolCallRow
from switchboard.platform.mcp.deps import McpServices
from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.outcomes import Outcome
from switchboard.recipes.schemas import RecipeCreate
from switchboard.ui.rendering import UI_DIR
from tests.connectors.conftest import principal_of
from tests.identity.support import PASSWORD, make_user
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.conftest import ADMIN, Demo
from tests.ui.html import Page
from tests.ui.test_access import FORBIDDEN_TITLE
from tests.ui.test_recipes_pages import run_report

PATH = "/console/tool-calls"
CSV = "/console/tool-calls.csv"
HEADINGS = ["Time", "User", "Server", "Tool", "Client", "Scopes", "From", "Outcome", "Duration", "Run"]
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
        outcome=outcome,
        duration_ms=12,
        **({"client_id": "https://claude.ai/oauth/mcp-oauth-client-metadata"} | fields),  # type: ignore[arg-type]
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
    """The table's rows as a person reads them: time, user, server, tool (the first four cells)."""
    page = Page(html)
    cells = [element for element in page.elements if element.tag == "td"]
    width = len(HEADINGS)
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
    export = await as_admin.client.get(CSV, params=query)
    assert export.status_code == 422


async def test_the_csv_export_holds_the_filtered_calls_and_cannot_run_formulas(
    as_admin: Browserless, calls: list[ToolCall]
) -> None:
    response = await as_admin.client.get(CSV, params={"user": "alice@example.com", "server": "demo"})
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
        "client_name",
        "scope",
        "ip_address",
        "user_agent",
    ]
    assert [(row[0], row[2], row[5], row[8]) for row in table[1:]] == [
        ("2026-11-20T12:00:00+00:00", "create_task", "failed", '\'=HYPERLINK("x")'),
        ("2026-11-18T12:00:00+00:00", "whoami", "succeeded", ""),
    ]
    page = Page((await as_admin.client.get(PATH, params={"user": "alice@example.com"})).text)
    link = next(a for a in page.all("a") if a.text.strip() == "Download CSV")
    assert link.attrs["href"] == f"{CSV}?user=alice%40example.com"


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
    for path in (PATH, CSV, f"{PATH}/runs/{uuid4()}"):
        response = await web.client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "alice@example.com" not in response.text
    page = await web.client.get(PATH)
    assert Page(page.text).heading == FORBIDDEN_TITLE


CONNECT_LINK = "http://testserver.local/connect/Vq3-x_7Jk2LmN0pQrStUvWxYz0123456789abcdEFGH"
ASKED = f"This tool needs your Files account. Open {CONNECT_LINK} to connect it, then try again."
ASKED_REDACTED = ASKED.replace(CONNECT_LINK, "http://testserver.local/connect/…")


@pytest.mark.both_engines
async def test_a_connect_link_in_a_call_s_message_is_kept_and_shown_without_its_token(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    await mcp.calls.record(
        call(DAY, user="alice@example.com", tool="search_files", outcome="connection_required", message=ASKED)
    )
    # A row that holds the whole link is shown without its token too.
    await ToolCallRow.insert(
        ToolCallRow(
            **msgspec.structs.asdict(
                call(
                    DAY - timedelta(hours=1),
                    user="bob@example.com",
                    tool="search_files",
                    outcome="connection_required",
                    message=ASKED,
                )
            )
        )
    )
    token = CONNECT_LINK.rsplit("/", 1)[1]

    page = await as_admin.client.get(PATH)
    export = await as_admin.client.get(CSV)

    assert [call.message for call in await mcp.calls.search(ToolCallFilter())] == [ASKED_REDACTED] * 2
    assert token not in str(
        await ToolCallRow.select(ToolCallRow.message).where(ToolCallRow.user_email == "alice@example.com")
    )
    assert (page.status_code, export.status_code) == (200, 200)
    assert Page(page.text).text.count(f"Connection required {ASKED_REDACTED}") == 2
    assert [row[8] for row in csv.reader(io.StringIO(export.text))][1:] == [ASKED_REDACTED] * 2
    for response in (page, export):
        assert token not in response.text


def where_from(at: datetime, **fields: object) -> ToolCall:
    """A call of Claude's, from an address and user agent, with a token's scopes (unless ``fields`` say
    otherwise)."""
    defaults: dict[str, object] = {
        "user": "alice@example.com",
        "tool": "whoami",
        "outcome": "succeeded",
        "client_name": "Claude",
        "ip_address": "203.0.113.9",
        "user_agent": "Claude-User/1.0",
        "scope": "mcp:tools:whoami mcp:tools:list_tasks",
    }
    return call(at, **(defaults | fields))  # type: ignore[arg-type]


async def test_a_call_shows_its_client_s_name_where_it_came_from_and_its_scopes(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    await mcp.calls.record(where_from(DAY))
    await mcp.calls.record(call(DAY - timedelta(hours=1), user="bob@example.com", tool="x", outcome="failed"))

    page = Page((await as_admin.client.get(PATH)).text)

    assert [" ".join(th.text.split()) for th in page.all("th")] == HEADINGS
    cells = [" ".join(td.text.split()) for td in page.all("td")]
    claude, unnamed = cells[: len(HEADINGS)], cells[len(HEADINGS) :]
    assert claude[4:7] == [
        "Claude https://claude.ai/oauth/mcp-oauth-client-metadata",
        "mcp:tools:whoami mcp:tools:list_tasks",
        "203.0.113.9 Claude-User/1.0",
    ]
    # A client whose name was not known: its id alone.
    assert unnamed[4:7] == ["https://claude.ai/oauth/mcp-oauth-client-metadata", "—", "—"]


@pytest.mark.both_engines
async def test_the_client_filter_matches_a_client_s_name_or_its_id(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    await mcp.calls.record(where_from(DAY))
    await mcp.calls.record(
        where_from(DAY + timedelta(minutes=1), client_id="cursor-id", client_name="Cursor", tool="list_tasks")
    )
    found = {}
    for value in ("claude", "Cursor", "cursor-id", "Claude Desktop"):
        response = await as_admin.client.get(PATH, params={"client": value})
        assert response.status_code == 200
        found[value] = [row[3] for row in rows(response.text)]
        assert Page(response.text).by_id("filter-client").attrs["value"] == value
    assert found == {
        "claude": ["whoami"],
        "Cursor": ["list_tasks"],
        "cursor-id": ["list_tasks"],
        "Claude Desktop": [],
    }
    export = await as_admin.client.get(CSV, params={"client": "Cursor"})
    assert [row[2] for row in csv.reader(io.StringIO(export.text))][1:] == ["list_tasks"]


async def test_no_cell_of_the_export_can_run_as_a_formula(
    as_admin: Browserless, mcp: McpServices, demo: Demo
) -> None:
    await mcp.calls.record(
        where_from(
            DAY,
            client_id="+cmd|' /C calc'!A0",
            client_name='=HYPERLINK("http://evil.example")',
            user_agent="@SUM(1+1)",
            message="\tlooks empty",
        )
    )
    await mcp.calls.record(where_from(DAY - timedelta(minutes=1), user_agent="-2+3", message="\r=1+1"))

    table = list(csv.reader(io.StringIO((await as_admin.client.get(CSV)).text)))

    header = table[0]
    first, second = (dict(zip(header, row, strict=True)) for row in table[1:])
    assert (first["client"], first["client_name"], first["user_agent"], first["message"]) == (
        "'+cmd|' /C calc'!A0",
        '\'=HYPERLINK("http://evil.example")',
        "'@SUM(1+1)",
        "'\tlooks empty",
    )
    assert (second["user_agent"], second["message"]) == ("'-2+3", "'\r=1+1")


@pytest.mark.both_engines
async def test_an_export_past_its_cap_holds_the_newest_calls_and_says_it_was_cut(
    as_admin: Browserless, mcp: McpServices, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "CSV_LIMIT", 3)
    monkeypatch.setattr(audit, "CSV_BATCH", 2)
    for minute in range(5):
        await mcp.calls.record(
            call(
                DAY + timedelta(minutes=minute),
                user="alice@example.com",
                tool=f"t{minute}",
                outcome="succeeded",
            )
        )

    capped = list(csv.reader(io.StringIO((await as_admin.client.get(CSV)).text)))
    whole = list(csv.reader(io.StringIO((await as_admin.client.get(CSV, params={"tool": "t1"})).text)))

    assert [row[2] for row in capped[1:4]] == ["t4", "t3", "t2"]
    assert capped[4] == ["Only the newest 3 matching calls are in this file: narrow the filters."]
    assert len(capped) == 5
    assert [row[2] for row in whole[1:]] == ["t1"]


async def test_events_and_tool_calls_are_one_audit_section(as_admin: Browserless, demo: Demo) -> None:
    page = Page((await as_admin.client.get(PATH)).text)

    (nav,) = [element for element in page.all("nav") if element.attrs.get("aria-label") == "Audit"]
    assert " ".join(nav.text.split()) == "Events Tool calls"
    after = page.elements[page.elements.index(nav) :]
    events, tool_calls = [element for element in after if element.tag == "a"][:2]
    assert (events.attrs["href"], "aria-current" in events.attrs) == ("/console/audit", False)
    assert (tool_calls.attrs["href"], tool_calls.attrs.get("aria-current")) == (PATH, "page")
    assert (await as_admin.client.get("/console/audit")).status_code == 200


def audit_tabs(html: str) -> list[tuple[str, str | None]]:
    """The Audit section's tabs on a page: each link, and whether it is the page shown."""
    page = Page(html)
    (nav,) = [element for element in page.all("nav") if element.attrs.get("aria-label") == "Audit"]
    links = [element for element in page.elements[page.elements.index(nav) :] if element.tag == "a"][:2]
    return [(link.attrs["href"], link.attrs.get("aria-current")) for link in links]


async def test_both_pages_of_the_audit_section_show_the_section_s_one_set_of_tabs(
    as_admin: Browserless, demo: Demo
) -> None:
    events = await as_admin.client.get("/console/audit")
    calls = await as_admin.client.get(PATH)

    assert audit_tabs(events.text) == [("/console/audit", "page"), (PATH, None)]
    assert audit_tabs(calls.text) == [("/console/audit", None), (PATH, "page")]
    # One partial draws them on both pages, so that a tab added to the section appears on each.
    for template in ("audit.html", "tool_calls.html"):
        source = (UI_DIR / "templates" / "console" / template).read_text()
        assert source.count('{% include "console/_audit_nav.html" %}') == 1, template
        assert 'aria-label="Audit"' not in source, template
