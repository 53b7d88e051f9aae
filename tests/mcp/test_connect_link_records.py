"""A connect link is for the person who called the tool alone: the tool result holds it, whole; the
tool-call log and the run history that builders and admins read keep it without its token.

Alice calls ``create_task`` on the demo server through the MCP SDK client without having connected Demo
Tasks; the admin then reads the tool-call log, its CSV export and the run's job history.
"""

from __future__ import annotations

import re

import pytest
from litestar import Litestar

from switchboard.platform.mcp.audit import ToolCallFilter, ToolCallRow
from switchboard.platform.mcp.models import McpServer
from switchboard.platform.services import Services
from switchboard.recipes.tables import RecipeRun
from tests.mcp.test_endpoint import _text, mcp_session, signed_in_client
from tests.support.web import Browserless
from tests.ui.html import Page

pytestmark = pytest.mark.both_engines

LINK = re.compile(r"http://testserver\.local/connect/([A-Za-z0-9_-]+)")
REDACTED = "http://testserver.local/connect/…"
ASKED = (
    "This tool needs your Demo Tasks account. Open http://testserver.local/connect/… to connect it "
    "(the link works once, for 10 minutes), then try again."
)


async def test_the_caller_gets_a_working_link_and_the_records_others_read_keep_it_without_its_token(
    running: Litestar, app_services: Services, web: Browserless, demo: McpServer
) -> None:
    async with signed_in_client(running, web, "alice@example.com") as signed, mcp_session(signed) as session:
        result = await session.call_tool("create_task", {"title": "Call Bob"})

    assert result.is_error
    found = LINK.search(_text(result))
    assert found is not None, _text(result)
    token = found.group(1)
    assert len(token) >= 32

    # What is stored: the tool-call log and the run, each without the token.
    (call,) = await app_services.mcp.calls.search(ToolCallFilter(tool="create_task"))
    assert (call.outcome, call.message) == ("connection_required", ASKED)
    assert call.run_id is not None
    run = await app_services.recipes.runs.get(call.run_id)
    assert (run.outcome.value, run.message) == ("connection_required", ASKED)
    assert run.result is not None
    assert run.result.text == ASKED
    assert [(step.status, step.error) for step in run.steps] == [("connection_required", ASKED)]
    assert token not in str(await ToolCallRow.select())
    assert token not in str(await RecipeRun.select())

    # What the admin reads: the log, its export, the run's job history.
    web.client.cookies.clear()
    assert (await web.sign_in("admin@example.com")).status_code == 303
    shown = [
        await web.client.get("/console/tool-calls"),
        await web.client.get("/console/tool-calls.csv"),
        await web.client.get(f"/console/recipes/{run.recipe_id}/runs"),
        await web.client.get(f"/console/recipes/{run.recipe_id}/runs/{run.id}"),
    ]
    for response in shown:
        assert response.status_code == 200, response.url
        assert token not in response.text, response.url
    assert REDACTED in Page(shown[0].text).text
    assert REDACTED in Page(shown[3].text).text

    # Alice's link still works for her.
    web.client.cookies.clear()
    assert (await web.sign_in("alice@example.com")).status_code == 303
    opened = await web.client.get(f"/connect/{token}")
    assert opened.status_code == 200
    assert Page(opened.text).all("h1")[0].text == "Connect your Demo Tasks account"
