"""A notice belongs to the browser session it was written for, and only for a minute."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.support.web import Browserless
from tests.ui.conftest import ALICE, Demo
from tests.ui.test_notices import notices


@pytest.fixture
async def alice(app: Litestar, demo: Demo) -> AsyncIterator[Browserless]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        browser = Browserless(client)
        assert (await browser.sign_in(ALICE)).status_code == 303
        yield browser


async def group_created(as_admin: Browserless, name: str) -> str:
    """The notice cookie the admin's browser receives after creating a group."""
    created = await as_admin.submit("/console/groups", "/console/groups", {"name": name})
    assert created.status_code == 303
    return created.cookies["sb_flash"]


async def test_a_notice_written_for_one_session_shows_nothing_in_another(
    as_admin: Browserless, alice: Browserless
) -> None:
    flash = await group_created(as_admin, "Your password expired - call +1 555 0100")

    alice.client.cookies.set("sb_flash", flash, domain="testserver.local")
    page = await alice.client.get("/me")

    assert page.status_code == 200
    assert notices(page.text) == []
    assert "call +1 555 0100" not in page.text
    assert "sb_flash" not in alice.client.cookies  # the page drops the cookie it will not show


async def test_a_notice_does_not_outlive_its_minute(
    as_admin: Browserless, monkeypatch: pytest.MonkeyPatch
) -> None:
    flash = await group_created(as_admin, "Vertrieb")
    as_admin.client.cookies.set("sb_flash", flash, domain="testserver.local")
    written = time.time()

    monkeypatch.setattr(time, "time", lambda: written + 61)
    page = await as_admin.client.get("/console/groups")

    assert page.status_code == 200
    assert notices(page.text) == []


async def test_a_notice_is_still_shown_within_its_minute(
    as_admin: Browserless, monkeypatch: pytest.MonkeyPatch
) -> None:
    flash = await group_created(as_admin, "Vertrieb")
    as_admin.client.cookies.set("sb_flash", flash, domain="testserver.local")
    written = time.time()

    monkeypatch.setattr(time, "time", lambda: written + 50)
    page = await as_admin.client.get("/console/groups")

    assert notices(page.text) == ["Group Vertrieb created."]
