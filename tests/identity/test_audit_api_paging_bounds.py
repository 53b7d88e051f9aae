"""/api/v1/audit-events: a page cursor past any record id is answered as wrong input, never as a crash."""

from __future__ import annotations

import httpx

from switchboard.identity.schemas import UserOut
from tests.identity.conftest import OpenBrowser
from tests.identity.support import signed_in


async def test_a_before_cursor_past_any_integer_is_refused_as_wrong_input(
    admin: UserOut, open_browser: OpenBrowser
) -> None:
    console: httpx.AsyncClient = await signed_in(await open_browser(), admin.email)

    answer = await console.get("/api/v1/audit-events", params={"before": str(2**63)})

    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid_input", "before")


async def test_the_largest_record_id_is_still_a_cursor(admin: UserOut, open_browser: OpenBrowser) -> None:
    console: httpx.AsyncClient = await signed_in(await open_browser(), admin.email)

    answer = await console.get("/api/v1/audit-events", params={"before": str(2**63 - 1)})

    assert answer.status_code == 200, answer.text
