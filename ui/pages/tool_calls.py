"""Console → Audit → Tool calls: the log of every MCP tool call, with filters and a CSV download
(``/console/tool-calls.csv``: the same filters, every matching call up to ``CSV_LIMIT``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream, Template

from switchboard.identity.auth.guards import requires_admin
from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.mcp.audit import CSV_LIMIT, OUTCOMES, PAGE_SIZE, ToolCallFilter
from switchboard.platform.mcp.deps import McpServices
from switchboard.recipes.deps import RecipeServices
from switchboard.ui.forms import day_range
from switchboard.ui.rendering import page, redirect

PATH = "/console/tool-calls"

_Text = Annotated[str, QueryParameter(max_length=254)]
_ClientId = Annotated[str, QueryParameter(max_length=600)]


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """The filter form as typed: dates are days (UTC), both ends included."""

    user: str = ""
    client: str = ""
    server: str = ""
    tool: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""

    def to_filter(self) -> ToolCallFilter:
        if self.outcome and self.outcome not in OUTCOMES:
            raise InvalidInput("Choose one of the listed outcomes.", field="outcome")
        since, until = day_range(self.since, self.until)
        return ToolCallFilter(
            user=self.user,
            client=self.client,
            server=self.server,
            tool=self.tool,
            outcome=self.outcome,
            since=since,
            until=until,
        )

    def query(self) -> dict[str, str]:
        return {key: value for key, value in msgspec.structs.asdict(self).items() if value}


def _filters(
    user: _Text = "",
    client: _ClientId = "",
    server: _Text = "",
    tool: _Text = "",
    outcome: _Text = "",
    since: _Text = "",
    until: _Text = "",
) -> Filters:
    """The filters from the query string (the page's form, and the CSV link that repeats it)."""
    return Filters(
        user=user, client=client, server=server, tool=tool, outcome=outcome, since=since, until=until
    )


class ToolCallPages(Controller):
    path = "/console"
    include_in_schema = False
    guards = [requires_admin]
    dependencies = {"filters": Provide(_filters, sync_to_thread=False)}

    @get("/tool-calls")
    async def tool_calls(
        self,
        request: Request[Any, Any, Any],
        mcp: NamedDependency[McpServices],
        filters: NamedDependency[Filters],
        before: FromQuery[datetime | None] = None,
    ) -> Template:
        errors: dict[str, str] = {}
        calls = []
        try:
            # One more than a page tells whether there are older calls.
            calls = await mcp.calls.search(filters.to_filter(), limit=PAGE_SIZE + 1, before=before)
        except InvalidInput as exc:
            errors[exc.field or "form"] = exc.message
        return page(
            request,
            "console/tool_calls.html",
            status_code=422 if errors else 200,
            title="Tool calls",
            calls=calls[:PAGE_SIZE],
            older=calls[PAGE_SIZE - 1].at.isoformat() if len(calls) > PAGE_SIZE else None,
            paged=before is not None,
            filters=filters,
            query=filters.query(),
            outcomes=OUTCOMES,
            servers=await mcp.servers.list_all(),
            csv_limit=CSV_LIMIT,
            errors=errors,
        )

    @get("/tool-calls.csv")
    async def download(self, mcp: NamedDependency[McpServices], filters: NamedDependency[Filters]) -> Stream:
        """Every call matching the filters, newest first, streamed as it is read (see ``export``)."""
        where = filters.to_filter()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return Stream(
            mcp.calls.export(where),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="tool-calls-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @get("/tool-calls/runs/{run_id:uuid}")
    async def open_run(
        self,
        request: Request[Any, Any, Any],
        run_id: FromPath[UUID],
        recipes: NamedDependency[RecipeServices],
    ) -> Response[Any]:
        """The job history entry of a call's run (the log knows the run, the page lives under its recipe)."""
        run = await recipes.runs.get(run_id)
        return redirect(request, f"/console/recipes/{run.recipe_id}/runs/{run.id}")
