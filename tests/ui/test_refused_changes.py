"""A change someone's role does not allow (a form or an API call refused with 403) is in the audit trail
as ``access.refused``: who tried, what (method and path), why it was refused, and from where. Reading a
page one may not see is not recorded, and a person's flood of refusals leaves a handful of records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar

from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from tests.identity.support import make_user, signed_in
from tests.support.web import Browserless, csrf_from

BUILDER = "bea@example.com"
BUILDER_IP = "203.0.113.61"
BROWSER = "Edge/131 (bea)"
ADMINS_ONLY = "Only owners and admins can open this."


@pytest.fixture
async def bea(app: Litestar, services: IdentityServices) -> AsyncIterator[Browserless]:
    """A builder's browser, from an address and with a user agent of its own."""
    await make_user(services, BUILDER, Role.BUILDER)
    transport = httpx.ASGITransport(app=app, client=(BUILDER_IP, 50800))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", headers={"user-agent": BROWSER}
    ) as http:
        browser = Browserless(http)
        await signed_in(browser, BUILDER)
        yield browser


async def refusals(services: IdentityServices) -> list[AuditRecord]:
    """The ``access.refused`` records, oldest first."""
    records = await services.oauth.audit.search(limit=1000)
    return [record for record in reversed(records) if record.action == "access.refused"]


async def refused_form(browser: Browserless, path: str, data: dict[str, str]) -> httpx.Response:
    """Post a form with the session's own CSRF token (taken from a page the person may open)."""
    token = csrf_from((await browser.client.get("/me")).text)
    return await browser.client.post(path, data={"_csrf_token": token, **data}, follow_redirects=False)


async def test_a_builder_s_refused_post_to_an_admin_form_is_recorded_once_and_a_refused_get_is_not(
    bea: Browserless, services: IdentityServices
) -> None:
    assert (await bea.client.get("/console/users")).status_code == 403
    response = await refused_form(
        bea, "/console/users", {"email": "mole@example.com", "password": "x" * 12, "role": "admin"}
    )
    assert response.status_code == 403
    assert ADMINS_ONLY in response.text
    assert await services.users.find_by_email("mole@example.com") is None

    assert [
        (
            r.actor,
            r.action,
            r.object_type,
            r.object_id,
            r.outcome,
            r.reason,
            r.ip_address,
            r.user_agent,
        )
        for r in await refusals(services)
    ] == [
        (
            BUILDER,
            "access.refused",
            "request",
            "POST /console/users",
            "refused",
            ADMINS_ONLY,
            BUILDER_IP,
            BROWSER,
        )
    ]


async def test_a_refused_api_call_is_recorded_with_its_method_and_path(
    bea: Browserless, services: IdentityServices
) -> None:
    builder = await services.users.find_by_email(BUILDER)
    assert builder is not None
    response = await bea.client.patch(f"/api/v1/users/{builder.id}", json={"role": "owner"})
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    deleted = await bea.client.delete("/api/v1/groups/6f1c2d4e-0000-4000-8000-000000000000")
    assert deleted.status_code == 403
    assert (await services.users.get(builder.id)).role is Role.BUILDER
    assert [(r.actor, r.object_id, r.reason, r.ip_address) for r in await refusals(services)] == [
        (BUILDER, f"PATCH /api/v1/users/{builder.id}", ADMINS_ONLY, BUILDER_IP),
        (BUILDER, "DELETE /api/v1/groups/6f1c2d4e-0000-4000-8000-000000000000", ADMINS_ONLY, BUILDER_IP),
    ]


async def test_a_flood_of_refusals_leaves_a_handful_of_records_that_count_them(
    bea: Browserless, services: IdentityServices
) -> None:
    for _ in range(12):
        response = await refused_form(bea, "/console/groups", {"name": "Shadow", "description": ""})
        assert response.status_code == 403
    # A new id in each path is the same kind of attempt all the same.
    for _ in range(12):
        assert (await bea.client.delete(f"/api/v1/groups/{uuid4()}")).status_code == 403

    recorded = [(r.object_id.split("/")[1:3], r.reason) for r in await refusals(services)]
    assert recorded == [
        (["console", "groups"], ADMINS_ONLY),
        (["console", "groups"], f"{ADMINS_ONLY} (the 10th such refusal of this person this minute)"),
        (["api", "v1"], ADMINS_ONLY),
        (["api", "v1"], f"{ADMINS_ONLY} (the 10th such refusal of this person this minute)"),
    ]


async def test_a_form_refused_for_its_stale_token_or_a_signed_out_post_is_no_refused_change(
    bea: Browserless, web: Browserless, services: IdentityServices
) -> None:
    del bea.client.headers["x-csrftoken"]  # the form's own field is all this post carries
    stale = await bea.client.post(
        "/console/users", data={"_csrf_token": "forged", "email": "x@example.com"}, follow_redirects=False
    )
    assert stale.status_code == 403
    assert "This form has expired" in stale.text
    token = csrf_from((await web.client.get("/login")).text)
    signed_out = await web.client.post(
        "/console/users", data={"_csrf_token": token, "email": "x@example.com"}, follow_redirects=False
    )
    assert signed_out.status_code == 303

    assert await refusals(services) == []
