"""While the app runs, each process counts MCP requests in memory and writes the counts to the database
every flush interval (``BufferedCounts``): one process counts exactly; several processes on one database
share the limit, passing it by at most what the others accept in two flush intervals; stopping writes
what is pending.

A second ``Services``, served by an app of its own and with its own counts and flusher, stands for a
second server process on the same database (as in ``tests/oauth/test_revocation_between_processes.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.ratelimit import RateLimitWindow
from switchboard.platform.core.settings import Settings
from switchboard.platform.mcp.models import AccessMethod, McpServer, ServerCreate
from switchboard.platform.services import Services, services_of
from tests.mcp.test_refusal_records import BASE, HEADERS, PING, bearer
from tests.support.actors import SETUP

RATE_LIMITED = -32019
LIMIT = 20
WRITES = 0.05
"""Slack for the time two writes take, beside the two flush intervals of the bound."""


@pytest.fixture
async def automation(app_services: Services, demo: McpServer) -> tuple[McpServer, str]:
    """A Token server limited to ``LIMIT`` requests a minute, and a token for it."""
    mcp = app_services.mcp
    server = await mcp.servers.create(
        ServerCreate(
            slug="automation",
            name="Automation",
            access_method=AccessMethod.TOKEN,
            rate_limit_per_minute=LIMIT,
        ),
        actor=SETUP,
    )
    return server, (await mcp.tokens.create(server.id, "nightly job", actor=SETUP)).secret


@pytest.fixture
async def counting(app_services: Services) -> AsyncIterator[Services]:
    """This process's services with their flusher running, as the app's start-up runs it."""
    await app_services.request_counts.start()
    yield app_services
    await app_services.request_counts.stop()


async def _ping(app: Litestar, secret: str, n: int) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40500))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=HEADERS) as http:
        return await http.post("/mcp/automation", json=PING | {"id": n}, headers=bearer(secret))


async def _counted_in_database(server: McpServer) -> int:
    rows = await RateLimitWindow.select(RateLimitWindow.hits).where(
        RateLimitWindow.key.like(f"mcp-requests:{server.id}:%")
    )
    return sum(int(row["hits"]) for row in rows)


@pytest.mark.both_engines
async def test_one_process_accepts_exactly_the_limit_and_refuses_the_rest_with_429_and_retry_after(
    running: Litestar, counting: Services, automation: tuple[McpServer, str]
) -> None:
    server, secret = automation
    answers = []
    for n in range(LIMIT + 3):
        answers.append(await _ping(running, secret, n))
        if n == LIMIT // 2:  # counts written and read back in between
            await counting.request_counts.flush()

    assert [answer.status_code for answer in answers] == [200] * LIMIT + [429] * 3, answers[LIMIT].text
    refused = answers[LIMIT]
    seconds = int(refused.headers["retry-after"])
    assert 1 <= seconds <= 60
    assert refused.json() == {
        "jsonrpc": "2.0",
        "id": LIMIT,
        "error": {
            "code": RATE_LIMITED,
            "message": f"Rate limit of {LIMIT} requests per minute for this server reached; "
            f"retry in {seconds} seconds.",
            "data": {"limit": LIMIT, "window_seconds": 60, "retry_after": seconds},
        },
    }
    await counting.request_counts.stop()  # as the app's shut-down stops it: every request is written
    assert await _counted_in_database(server) == LIMIT + 3


@pytest.mark.both_engines
async def test_two_processes_share_the_limit_passing_it_by_at_most_what_the_other_accepts_in_two_flushes(
    running: Litestar,
    counting: Services,
    settings: Settings,
    database: Database,
    automation: tuple[McpServer, str],
) -> None:
    server, secret = automation
    other = Services.build(settings, database=database)
    other_app = create_app(settings, services=other)
    flush_every = counting.request_counts.flush_every
    accepted: dict[int, list[float]] = {0: [], 1: []}
    statuses = []
    try:
        async with other.endpoint.running():
            await other.request_counts.start()
            try:
                for n in range(3 * LIMIT):
                    process = n % 2
                    answer = await _ping((running, other_app)[process], secret, n)
                    statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        accepted[process].append(time.monotonic())
                    await asyncio.sleep(flush_every / 5)  # a steady load, as clients send it
            finally:
                await other.request_counts.stop()
    finally:
        await other.connectors.aclose()
    await counting.request_counts.stop()

    assert set(statuses) == {200, 429}
    total = len(accepted[0]) + len(accepted[1])
    # The bound: what one process accepted within any span of two flush intervals (and two writes).
    span = 2 * flush_every + WRITES
    bound = max(
        sum(1 for other_time in times if at - span <= other_time <= at)
        for times in accepted.values()
        for at in times
    )
    print(f"accepted {total} of {3 * LIMIT} with a limit of {LIMIT}; bound {bound}")
    assert LIMIT <= total <= LIMIT + bound, (total, bound)
    assert bound < LIMIT  # else the bound would say nothing
    # Both processes' counts reached the database, the refused requests' too.
    assert await _counted_in_database(server) == 3 * LIMIT


@pytest.mark.both_engines
async def test_a_process_that_was_quiet_reads_the_total_again_before_accepting(
    running: Litestar,
    counting: Services,
    settings: Settings,
    database: Database,
    automation: tuple[McpServer, str],
) -> None:
    _, secret = automation
    other = Services.build(settings, database=database)
    other_app = create_app(settings, services=other)
    try:
        async with other.endpoint.running():
            await other.request_counts.start()
            try:
                first_there = await _ping(other_app, secret, 0)
                here = [(await _ping(running, secret, n)).status_code for n in range(1, LIMIT)]
                await asyncio.sleep(
                    3 * counting.request_counts.flush_every
                )  # written, and the other's read old
                again_there = await _ping(other_app, secret, LIMIT)
            finally:
                await other.request_counts.stop()
    finally:
        await other.connectors.aclose()

    assert first_there.status_code == 200
    assert here == [200] * (LIMIT - 1)
    assert again_there.status_code == 429, again_there.text


async def test_the_app_s_start_up_starts_writing_the_counts_and_its_shut_down_writes_what_is_pending(
    settings: Settings,
) -> None:
    app = create_app(settings)
    services = services_of(app.state)
    # Served in a loop of its own, as ``tests/platform/test_app.py`` serves it (on SQLite).
    async with AsyncTestClient(app, base_url=settings.base_url) as client:  # the ASGI lifespan, as served
        assert services.request_counts.running
        mcp = services.mcp
        server = await mcp.servers.create(
            ServerCreate(
                slug="ping", name="Ping", access_method=AccessMethod.TOKEN, rate_limit_per_minute=100
            ),
            actor=SETUP,
        )
        secret = (await mcp.tokens.create(server.id, "lifespan test", actor=SETUP)).secret
        answers = [
            await client.post("/mcp/ping", json=PING | {"id": n}, headers=HEADERS | bearer(secret))
            for n in range(10)
        ]
    assert [answer.status_code for answer in answers] == [200] * 10
    assert not services.request_counts.running
    await services.database.connect()
    try:
        assert await _counted_in_database(server) == 10
    finally:
        await services.database.close()
