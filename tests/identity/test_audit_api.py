"""/api/v1/audit-events: owners' and admins' scripts read the audit trail, filtered and paged; nobody
changes it through the API."""

from __future__ import annotations

import httpx

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import UserOut
from tests.identity.conftest import OpenBrowser
from tests.identity.support import ADMINS_ONLY, answer, error, signed_in

API = "/api/v1/audit-events"


async def test_a_script_with_an_admin_api_token_reads_the_changes_filtered_and_paged(
    services: IdentityServices,
    admin: UserOut,
    member: UserOut,
    open_browser: OpenBrowser,
    client: httpx.AsyncClient,
) -> None:
    console = await signed_in(await open_browser("198.51.100.4"), admin.email)
    token = (await console.post("/api/v1/api-tokens", json={"name": "SIEM export"})).json()["token"]
    for name in ("Sales", "Support", "Finance"):
        assert (await console.post("/api/v1/groups", json={"name": name})).status_code == 201
    script = {"authorization": f"Bearer {token}"}

    first = await client.get(
        API, params={"action": "group.", "actor": "ADMIN@", "limit": "2"}, headers=script
    )
    assert first.status_code == 200
    events = first.json()
    assert [(e["action"], e["object_type"], e["object_name"], e["actor"]) for e in events] == [
        ("group.created", "group", "Finance", admin.email),
        ("group.created", "group", "Support", admin.email),
    ]
    assert events[0]["ip_address"] == "198.51.100.4"
    assert events[0]["at"].endswith("Z")

    rest = await client.get(
        API, params={"action": "group.", "limit": "2", "before": str(events[-1]["id"])}, headers=script
    )
    assert [e["object_name"] for e in rest.json()] == ["Sales"]

    one = await client.get(API, params={"object": "SUPP", "object_type": "group"}, headers=script)
    assert [e["object_name"] for e in one.json()] == ["Support"]
    in_the_future = await client.get(API, params={"since": "2999-01-01T00:00:00"}, headers=script)
    assert answer(in_the_future) == (200, [])
    created = await client.get(API, params={"action": "user.created", "object": member.email}, headers=script)
    assert [(e["actor"], e["object_name"]) for e in created.json()] == [("", member.email)]

    wrong = await client.get(API, params={"outcome": "maybe"}, headers=script)
    assert answer(wrong) == error(422, "invalid_input", "outcome is one of ok, refused.", "outcome")
    assert (await client.delete(API, headers=script)).status_code == 405


async def test_a_member_cannot_read_the_audit_trail(as_member: httpx.AsyncClient) -> None:
    assert answer(await as_member.get(API)) == (403, ADMINS_ONLY)
