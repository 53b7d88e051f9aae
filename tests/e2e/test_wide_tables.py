"""Wide tables scroll inside themselves, not the page."""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.live_server import LiveServer

DESKTOP = {"width": 1280, "height": 800}


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")


async def _add_wide_tool_calls(database_url: str) -> None:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        now = datetime.now(UTC)
        for index in range(3):
            await connection.execute(
                "INSERT INTO mcp_tool_call (id, at, server_slug, tool, user_email, client_id, outcome,"
                " duration_ms, message, client_name, scope, ip_address, user_agent)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                uuid.uuid4(),
                now - timedelta(seconds=index),
                "demo-wide-server-slug",
                "a_rather_long_tool_name_for_layout",
                "someone.with.a.long.address@subdomain.example.com",
                "https://client.example.com/.well-known/oauth-client/" + "x" * 60,
                "failed",
                1234,
                "The upstream service answered 503 Service Unavailable after three attempts",
                "A client with a long descriptive name",
                "mcp:tools mcp:call offline_access openid profile email",
                "2001:db8:85a3:0000:0000:8a2e:0370:7334",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
            )
    finally:
        await connection.close()


@pytest.fixture
def wide_tool_calls(live_server: LiveServer) -> None:
    # Playwright's event loop runs in this thread: the database is written from another one.
    worker = threading.Thread(
        target=asyncio.run, args=(_add_wide_tool_calls(live_server.env["SWITCHBOARD_DATABASE_URL"]),)
    )
    worker.start()
    worker.join()


@pytest.mark.usefixtures("wide_tool_calls")
@pytest.mark.parametrize("path", ["/console/audit", "/console/tool-calls"])
def test_wide_logs_scroll_inside_their_table_not_the_page(admin_page: Page, path: str) -> None:
    page = admin_page
    page.set_viewport_size(DESKTOP)
    page.goto(path)
    expect(page.locator("table tbody tr").first).to_be_visible()
    assert not scrolls_sideways(page), page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert page.locator(".table-wrap table").count() == 1
