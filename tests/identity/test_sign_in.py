"""Signing in and out of the console."""

from __future__ import annotations

import httpx

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from tests.support.web import Browserless


async def test_an_admin_signs_in_and_lands_on_the_console(
    services: IdentityServices, web: Browserless, client: httpx.AsyncClient
) -> None:
    await services.users.create(
        UserCreate(email="Admin@Example.com", password="switchboard-demo", role=Role.OWNER), actor=None
    )
    response = await web.sign_in("ADMIN@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/users"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sb_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com"
