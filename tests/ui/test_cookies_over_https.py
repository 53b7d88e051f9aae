"""Behind an https base URL every cookie Switchboard sets is Secure, HttpOnly and SameSite=Lax."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar import Litestar

from switchboard.platform.core.settings import Settings
from tests.support.web import Browserless
from tests.ui.conftest import ADMIN, Demo


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, base_url="https://testserver.local")


@pytest.fixture
async def https_browser(app: Litestar, demo: Demo) -> AsyncIterator[Browserless]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 51003))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as client:
        yield Browserless(client)


def attributes(set_cookie: str) -> tuple[str, set[str]]:
    name, *rest = (part.strip() for part in set_cookie.split(";"))
    return name.split("=")[0], {part.lower() for part in rest}


async def test_every_cookie_of_a_visit_is_secure_http_only_and_same_site(https_browser: Browserless) -> None:
    responses = [
        await https_browser.client.get("/login"),
        await https_browser.sign_in(ADMIN),
        await https_browser.client.get("/console/groups"),
        await https_browser.submit("/console/groups", "/console/groups", {"name": "Sales East"}),
        await https_browser.client.get("/console/groups"),
        await https_browser.submit("/me", "/logout", {}),
    ]
    set_cookies = [attributes(header) for r in responses for header in r.headers.get_list("set-cookie")]

    assert {name for name, _ in set_cookies} == {"sb_csrf", "sb_session", "sb_flash"}
    for name, flags in set_cookies:
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags, (name, flags)
