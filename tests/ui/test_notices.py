"""After a change, the next page confirms it once; nobody else can put words there."""

from __future__ import annotations

from base64 import urlsafe_b64encode

from tests.support.web import Browserless
from tests.ui.html import Page


def notices(html: str) -> list[str]:
    return [
        " ".join(element.text.split())
        for element in Page(html).elements
        if element.attrs.get("role") == "status"
    ]


async def test_a_change_is_confirmed_by_a_notice_on_the_next_page_only(as_admin: Browserless) -> None:
    created = await as_admin.submit("/console/groups", "/console/groups", {"name": "Vertrieb Süd & Co"})
    assert created.status_code == 303
    group_page = await as_admin.client.get(created.headers["location"])
    assert notices(group_page.text) == ["Group Vertrieb Süd & Co created."]
    again = await as_admin.client.get(created.headers["location"])
    assert notices(again.text) == []


async def test_a_notice_cookie_not_signed_by_the_server_shows_nothing(as_admin: Browserless) -> None:
    forged = urlsafe_b64encode(b"Your account is locked: call +1 555 0100").decode().rstrip("=")
    as_admin.client.cookies.set("sb_flash", f"{forged}.{'0' * 43}", domain="testserver.local")
    page = await as_admin.client.get("/console/users")
    assert page.status_code == 200
    assert notices(page.text) == []
    assert "call +1 555 0100" not in page.text
