"""/api/v1/tool-calls: `since`, `until` and `before` are ISO 8601 date-times, as the API's document says; a
number or other text is answered as wrong input naming the parameter, never read as a Unix time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import httpx
import pytest

from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.platform.mcp.audit import ToolCall
from switchboard.platform.services import Services
from tests.identity.support import answer, error, make_user
from tests.support.web import Browserless

API = "/api/v1/tool-calls"
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def _script(services: Services) -> dict[str, str]:
    """The headers of a script holding an admin API token."""
    owner = await make_user(services.identity, "it@example.com", Role.ADMIN)
    acting = Principal(user_id=owner.id, email=owner.email, name="", role=Role.ADMIN, via="api_token")
    token = await services.identity.api_tokens.create("reports", actor=acting)
    return {"authorization": f"Bearer {token.token}"}


async def test_a_time_that_is_not_an_iso_8601_date_time_is_refused_naming_the_parameter(
    app_services: Services, web: Browserless
) -> None:
    script = await _script(app_services)
    client: httpx.AsyncClient = web.client

    for field in ("since", "until", "before"):
        for value in ("0.5", "1700000000", "yesterday", "2026-11-20T25:00:00"):
            refused = await client.get(API, params={field: value}, headers=script)
            message = f"{field} is an ISO 8601 date-time, such as 2026-12-08T09:30:00Z."
            assert answer(refused) == error(422, "invalid_input", message, field), (field, value)


@pytest.mark.both_engines
async def test_iso_8601_times_with_and_without_an_offset_filter_the_calls(
    app_services: Services, web: Browserless
) -> None:
    script = await _script(app_services)
    for minutes, tool in ((0, "first"), (10, "second")):
        await app_services.mcp.calls.record(
            ToolCall(
                id=uuid4(),
                at=AT + timedelta(minutes=minutes),
                server_slug="demo",
                tool=tool,
                user_email="alice@example.com",
                client_id="c",
                outcome="succeeded",
                duration_ms=3,
            )
        )

    async def tools(**bounds: str) -> list[str]:
        found = await web.client.get(API, params=bounds, headers=script)
        assert found.status_code == 200, found.text
        return [call["tool"] for call in found.json()]

    east, west = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))
    five_past = AT + timedelta(minutes=5)
    assert await tools(since=five_past.astimezone(east).isoformat()) == ["second"]
    assert await tools(until=five_past.astimezone(west).isoformat()) == ["first"]
    assert await tools(since="2026-11-20T12:05:00", until="2026-11-20 12:30:00") == ["second"]
    assert await tools(before="2026-11-20T12:10:00Z") == ["first"]
    assert await tools(since="2026-11-20T12:00:00+00:00", until="2026-11-20T12:10:00Z") == ["first"]
