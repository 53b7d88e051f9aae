"""Every change to users, groups and admin API tokens, and every sign-in, is in the audit trail: who acted
(never the owner of what they acted on), on what, how it went, and from where."""

from __future__ import annotations

import httpx
import pytest

from switchboard.identity.audit import AuditRecord
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserOut
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, make_user, signed_in

ADMIN_IP = "203.0.113.7"
SCRIPT = "provisioning-script/2.1"


@pytest.fixture
async def admin_script(open_browser: OpenBrowser, admin: UserOut) -> httpx.AsyncClient:
    """The admin's console session, used by a script from another address, with its own user agent."""
    client = await signed_in(await open_browser(ADMIN_IP), admin.email)
    client.headers["user-agent"] = SCRIPT
    return client


async def trail(services: IdentityServices, area: str) -> list[tuple[str, ...]]:
    """The records of an area, oldest first, as (action, actor, object type, object name, outcome,
    subject, reason)."""
    records = await services.oauth.audit.search(limit=1000)
    return [
        (r.action, r.actor, r.object_type, r.object_name, r.outcome, r.subject, r.reason)
        for r in reversed(records)
        if r.action.startswith(area)
    ]


async def last(services: IdentityServices, action: str) -> AuditRecord:
    records = [r for r in await services.oauth.audit.search(limit=1000) if r.action == action]
    assert records, f"no {action} record"
    return records[0]


async def every_value(services: IdentityServices) -> list[str]:
    """Every value of every record, as text."""
    records = await services.oauth.audit.search(limit=1000)
    return [str(getattr(record, field)) for record in records for field in record.__struct_fields__]


async def test_user_changes_name_the_admin_who_made_them_and_where_from(
    services: IdentityServices, admin: UserOut, admin_script: httpx.AsyncClient
) -> None:
    created = await admin_script.post(
        "/api/v1/users", json={"email": "Carol@Example.com", "password": PASSWORD, "name": "Carol"}
    )
    assert created.status_code == 201
    carol = created.json()["id"]
    for change in (
        {"role": "builder"},
        {"name": "Carol King"},
        {"is_active": False},
        {"is_active": True},
    ):
        assert (await admin_script.patch(f"/api/v1/users/{carol}", json=change)).status_code == 200
    secret = "a-new-secret-password"
    reset = await admin_script.post(f"/api/v1/users/{carol}/password", json={"password": secret})
    assert reset.status_code == 204

    carol_changes = [row for row in await trail(services, "user.") if row[3] == "carol@example.com"]
    assert carol_changes == [
        ("user.created", admin.email, "user", "carol@example.com", "ok", "", "role member"),
        ("user.role_changed", admin.email, "user", "carol@example.com", "ok", "", "member → builder"),
        ("user.renamed", admin.email, "user", "carol@example.com", "ok", "", "Carol → Carol King"),
        ("user.deactivated", admin.email, "user", "carol@example.com", "ok", "", ""),
        ("user.reactivated", admin.email, "user", "carol@example.com", "ok", "", ""),
        ("user.password_reset", admin.email, "user", "carol@example.com", "ok", "", ""),
    ]
    record = await last(services, "user.password_reset")
    assert (record.object_id, record.ip_address, record.user_agent) == (carol, ADMIN_IP, SCRIPT)
    assert not any(secret in text for text in await every_value(services))


async def test_a_refused_role_change_changes_nothing_and_records_nothing(
    services: IdentityServices, owner: UserOut, admin: UserOut, admin_script: httpx.AsyncClient
) -> None:
    response = await admin_script.patch(f"/api/v1/users/{owner.id}", json={"role": "member"})
    assert response.status_code == 403
    assert [row for row in await trail(services, "user.") if row[0] != "user.created"] == []


async def test_group_changes_and_memberships_are_recorded_with_the_member_as_subject(
    services: IdentityServices, admin: UserOut, member: UserOut, admin_script: httpx.AsyncClient
) -> None:
    created = await admin_script.post("/api/v1/groups", json={"name": "Sales"})
    group = created.json()["id"]
    await admin_script.patch(f"/api/v1/groups/{group}", json={"name": "Sales EU"})
    await admin_script.patch(f"/api/v1/groups/{group}", json={"description": "Everyone selling in Europe"})
    await admin_script.post(f"/api/v1/groups/{group}/members", json={"email": member.email})
    await admin_script.delete(f"/api/v1/groups/{group}/members/{member.email}")
    assert (await admin_script.delete(f"/api/v1/groups/{group}")).status_code == 204

    assert await trail(services, "group.") == [
        ("group.created", admin.email, "group", "Sales", "ok", "", ""),
        ("group.renamed", admin.email, "group", "Sales EU", "ok", "", "Sales → Sales EU"),
        ("group.changed", admin.email, "group", "Sales EU", "ok", "", "description changed"),
        ("group.member_added", admin.email, "group", "Sales EU", "ok", member.email, ""),
        ("group.member_removed", admin.email, "group", "Sales EU", "ok", member.email, ""),
        ("group.deleted", admin.email, "group", "Sales EU", "ok", "", ""),
    ]
    deleted = await last(services, "group.deleted")
    assert (deleted.object_id, deleted.ip_address, deleted.user_agent) == (group, ADMIN_IP, SCRIPT)


async def test_an_api_token_revoked_by_another_admin_names_that_admin_as_actor_and_its_owner_as_subject(
    services: IdentityServices,
    owner: UserOut,
    admin: UserOut,
    open_browser: OpenBrowser,
    admin_script: httpx.AsyncClient,
) -> None:
    as_owner = await signed_in(await open_browser(), owner.email)
    created = await as_owner.post("/api/v1/api-tokens", json={"name": "Nightly export"})
    token_id = created.json()["id"]
    assert (await admin_script.delete(f"/api/v1/api-tokens/{token_id}")).status_code == 204

    assert await trail(services, "api_token.") == [
        ("api_token.created", owner.email, "api_token", "Nightly export", "ok", "", ""),
        ("api_token.revoked", admin.email, "api_token", "Nightly export", "ok", owner.email, ""),
    ]
    revoked = await last(services, "api_token.revoked")
    assert (revoked.object_id, revoked.ip_address) == (token_id, ADMIN_IP)
    assert not any(created.json()["token"] in text for text in await every_value(services))


async def test_sign_ins_and_sign_outs_are_recorded_from_the_browser_that_made_them(
    services: IdentityServices, member: UserOut, open_browser: OpenBrowser
) -> None:
    browser = await open_browser("198.51.100.23")
    browser.client.headers["user-agent"] = "Firefox/140"
    assert (await browser.sign_in(member.email, PASSWORD)).status_code == 303
    signed_out = await browser.submit("/me", "/logout", {})
    assert signed_out.status_code == 303

    assert await trail(services, "auth.") == [
        ("auth.signed_in", member.email, "user", member.email, "ok", member.email, ""),
        ("auth.signed_out", member.email, "user", member.email, "ok", "", ""),
    ]
    for action in ("auth.signed_in", "auth.signed_out"):
        record = await last(services, action)
        assert (record.ip_address, record.user_agent, record.object_id) == (
            "198.51.100.23",
            "Firefox/140",
            str(member.id),
        )


async def test_a_failed_sign_in_is_recorded_with_the_e_mail_tried_and_why_but_never_the_password(
    services: IdentityServices, member: UserOut, open_browser: OpenBrowser
) -> None:
    await make_user(services, "gone@example.com", Role.MEMBER)
    gone = await services.users.find_by_email("gone@example.com")
    assert gone is not None
    browser = await open_browser("192.0.2.44")
    browser.client.headers["user-agent"] = "curl/8.5"
    tries = [
        (member.email, "Wrong-Password-123"),
        ("Nobody@Example.com", "Guessed-Password-456"),
    ]
    for email, password in tries:
        assert (await browser.sign_in(email, password)).status_code == 401

    assert await trail(services, "auth.") == [
        ("auth.sign_in_refused", "", "user", member.email, "refused", member.email, "wrong password"),
        ("auth.sign_in_refused", "", "", "", "refused", "nobody@example.com", "no user has this e-mail"),
    ]
    records = await services.oauth.audit.search()
    assert {(r.ip_address, r.user_agent) for r in records if r.action == "auth.sign_in_refused"} == {
        ("192.0.2.44", "curl/8.5")
    }
    stored = await every_value(services)
    for _, password in tries:
        assert not any(password in text for text in stored)


async def test_a_sign_in_refused_for_a_deactivated_account_or_too_many_failures_says_so(
    services: IdentityServices, admin: UserOut, member: UserOut, open_browser: OpenBrowser
) -> None:
    as_admin = await signed_in(await open_browser(), admin.email)
    await as_admin.patch(f"/api/v1/users/{member.id}", json={"is_active": False})
    browser = await open_browser("192.0.2.45")
    assert (await browser.sign_in(member.email, PASSWORD)).status_code == 401
    refused = await last(services, "auth.sign_in_refused")
    assert (refused.subject, refused.reason) == (member.email, "the account is deactivated")

    attacker = await open_browser("192.0.2.46")
    statuses = [(await attacker.sign_in(admin.email, f"guess-{n}-password")).status_code for n in range(12)]
    assert statuses[-1] == 429
    throttled = await last(services, "auth.sign_in_refused")
    assert (throttled.subject, throttled.outcome, throttled.reason, throttled.ip_address) == (
        admin.email,
        "refused",
        "too many failed sign-ins from this account or address",
        "192.0.2.46",
    )
