"""What every page owes its reader: labelled fields, no caching, and plain words when something fails."""

from __future__ import annotations

import uuid

import httpx

from switchboard.platform.mcp.models import ServerCreate
from switchboard.platform.services import Services
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.conftest import ALICE, Demo
from tests.ui.html import Page

STACK_TRACE_MARKERS = ("Traceback", 'File "', "litestar", "switchboard.", "Exception")


async def every_page(web: Browserless, demo: Demo) -> dict[str, httpx.Response]:
    """Each page an admin and a member can open, plus the forms' error states."""
    alice = await demo.user(ALICE)
    sales = await demo.sales()
    pages = {
        "sign-in": await web.client.get("/login"),
        "sign-in refused": await web.submit("/login", "/login", {"email": ALICE, "password": "wrong-one"}),
    }
    assert (await web.sign_in("admin@example.com")).status_code == 303
    for path in (
        "/console/users",
        f"/console/users/{alice.id}",
        "/console/groups",
        f"/console/groups/{sales.id}",
        "/console/api-tokens",
        "/console/clients",
        "/console/audit",
        "/me",
        "/me/connections",
        "/me/servers",
        "/me/apps",
        "/no/such/page",
    ):
        pages[path] = await web.client.get(path)
    pages["user refused"] = await web.submit(
        "/console/users", "/console/users", {"email": "x", "password": "x", "role": "member"}
    )
    pages["token created"] = await web.submit(
        "/console/api-tokens", "/console/api-tokens", {"name": "nightly export"}
    )
    return pages


async def test_every_field_on_every_page_has_a_label(as_admin: Browserless, demo: Demo) -> None:
    as_admin.client.cookies.clear()
    for name, response in (await every_page(as_admin, demo)).items():
        page = Page(response.text)
        controls = page.fillable_controls()
        assert controls or name in {"/me", "/me/connections", "/me/servers", "/me/apps", "/no/such/page"}, (
            f"{name} has no fields"
        )
        for control in controls:
            label = page.label_for(control)
            assert label, f"{name}: {control} has no <label for>"
        assert page.duplicate_ids() == [], name


async def test_every_page_is_marked_no_store_runs_no_inline_script_and_has_one_heading(
    as_admin: Browserless, demo: Demo
) -> None:
    as_admin.client.cookies.clear()
    for name, response in (await every_page(as_admin, demo)).items():
        assert response.headers["cache-control"] == "no-store", name
        assert response.headers["x-frame-options"] == "DENY", name
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, name
        assert "script-src 'self'" in policy, name
        assert response.headers["content-type"].startswith("text/html"), name
        page = Page(response.text)
        # What the policy would block: no inline script and no inline event handler on any page.
        assert all(script.attrs.get("src", "").startswith("/static/") for script in page.all("script")), name
        handlers = [(e.tag, a) for e in page.elements for a in e.attrs if a.startswith("on")]
        assert handlers == [], (name, handlers)
        headings = [h1.text for h1 in page.all("h1")]
        assert len(headings) == 1, (name, headings)
        assert page.all("title")[0].text.endswith(" · Switchboard"), name
        assert page.all("html")[0].attrs["lang"] == "en"


async def test_the_sign_in_fields_are_named_as_the_public_contract_says(web: Browserless, demo: Demo) -> None:
    page = Page((await web.client.get("/login")).text)
    assert page.label_for(page.field("email")) == "Email"
    assert page.label_for(page.field("password")) == "Password"
    assert page.field("email").attrs["autocomplete"] == "username"
    assert page.field("password").attrs["autocomplete"] == "current-password"
    assert [button.text for button in page.all("button")] == ["Sign in"]


async def test_an_unknown_page_is_a_friendly_404_without_a_stack_trace(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    page = Page(response.text)
    assert page.all("h1")[0].text == "Page not found"
    assert "There is nothing at this address." in page.text
    assert [link.attrs["href"] for link in page.all("a") if link.text == "Go to the start page"] == ["/"]
    assert not any(marker in response.text for marker in STACK_TRACE_MARKERS)


async def test_an_unknown_user_or_group_is_a_friendly_404(as_admin: Browserless) -> None:
    missing = uuid.uuid4()
    for path, message in (
        (f"/console/users/{missing}", "No such user."),
        (f"/console/groups/{missing}", "No such group."),
        ("/console/users/not-a-user-id", "There is nothing at this address."),
    ):
        response = await as_admin.client.get(path)
        assert response.status_code == 404, path
        page = Page(response.text)
        assert page.all("h1")[0].text == "Page not found", path
        assert message in page.text, path
        assert not any(marker in response.text for marker in STACK_TRACE_MARKERS), path


async def test_a_method_a_page_does_not_take_is_refused_with_a_page_not_a_trace(
    as_admin: Browserless,
) -> None:
    response = await as_admin.client.delete("/console/users", headers=as_admin.api_headers())
    assert response.status_code == 405
    page = Page(response.text)
    assert page.all("h1")[0].text == "Not allowed"
    assert not any(marker in response.text for marker in STACK_TRACE_MARKERS)


async def test_a_created_api_token_is_shown_once_and_never_again(as_admin: Browserless) -> None:
    created = await as_admin.submit("/console/api-tokens", "/console/api-tokens", {"name": "nightly export"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    page = Page(created.text)
    token = page.by_id("new-token").attrs["value"]
    assert token.startswith("sbk_")
    assert page.label_for(page.by_id("new-token")) == "Token"
    assert "Copy it now: it is not shown again." in page.text
    listing = await as_admin.client.get("/console/api-tokens")
    assert token not in listing.text
    assert token[:10] in listing.text
    assert "nightly export" in Page(listing.text).text


async def test_no_console_page_carries_inline_script(
    as_admin: Browserless, app_services: Services, demo: Demo
) -> None:
    """Names people type end up in pages; with no inline script or handler anywhere, the page's policy
    (``script-src 'self'``) lets nothing that slipped into the markup run."""
    server = await app_services.mcp.servers.create(ServerCreate(slug="ops", name="Ops"), actor=SETUP)
    for path in (
        "/console/servers",
        f"/console/servers/{server.id}",
        f"/console/servers/{server.id}/access",
        f"/console/servers/{server.id}/tools",
        f"/console/servers/{server.id}/tokens",
        "/console/recipes",
        "/console/connectors",
        "/console/connections",
        "/console/remote-servers",
        "/console/remote-servers/new",
        "/console/tool-calls",
    ):
        response = await as_admin.client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page = Page(response.text)
        handlers = [(e.tag, a) for e in page.elements for a in e.attrs if a.startswith("on")]
        assert handlers == [], (path, handlers)
