"""/api/v1/audit-events: `since` and `until` are ISO 8601 date-times, as the API's document says; a number
or other text is answered as wrong input naming the parameter, never read as a Unix time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx

from switchboard.identity.schemas import UserOut
from tests.identity.conftest import OpenBrowser
from tests.identity.support import answer, error, signed_in

API = "/api/v1/audit-events"


async def test_a_time_that_is_not_an_iso_8601_date_time_is_refused_naming_the_parameter(
    admin: UserOut, open_browser: OpenBrowser
) -> None:
    console: httpx.AsyncClient = await signed_in(await open_browser(), admin.email)

    for field in ("since", "until"):
        for value in ("0.5", "1700000000", "-1", "yesterday", "2026-12-08", "2026-13-01T00:00:00Z", ""):
            refused = await console.get(API, params={field: value})
            message = f"{field} is an ISO 8601 date-time, such as 2026-12-08T09:30:00Z."
            assert answer(refused) == error(422, "invalid_input", message, field), (field, value)


async def test_iso_8601_times_with_and_without_an_offset_filter_the_events(
    admin: UserOut, open_browser: OpenBrowser
) -> None:
    console: httpx.AsyncClient = await signed_in(await open_browser(), admin.email)
    assert (await console.post("/api/v1/groups", json={"name": "Sales"})).status_code == 201
    now = datetime.now(UTC)
    east, west = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))

    async def groups(**bounds: str) -> list[str]:
        found = await console.get(API, params={"action": "group.", **bounds})
        assert found.status_code == 200, found.text
        return [event["object_name"] for event in found.json()]

    # An hour ago written at +05:00 and in an hour written at -05:00: the offsets are honoured.
    hour_ago_east = (now - timedelta(hours=1)).astimezone(east).isoformat()
    in_an_hour_west = (now + timedelta(hours=1)).astimezone(west).isoformat()
    assert await groups(since=hour_ago_east, until=in_an_hour_west) == ["Sales"]
    # Without an offset a time is UTC.
    hour_ago = (now - timedelta(hours=1)).replace(tzinfo=None)
    assert await groups(since=hour_ago.isoformat(timespec="seconds")) == ["Sales"]
    assert await groups(until=hour_ago.isoformat(sep=" ", timespec="seconds")) == []
    assert await groups(since=(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == []
