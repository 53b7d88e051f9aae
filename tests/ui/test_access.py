"""Who may open which page: the console is for owners and admins, everything else needs a sign-in."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from tests.support.actors import SETUP
from tests.support.web import DEMO_PASSWORD, Browserless, csrf_from
from tests.ui.conftest import ADMIN, ALICE, BOB, Demo
from tests.ui.html import Page

FORBIDDEN_TITLE = "You don't have access to this page"


async def console_requests(demo: Demo) -> list[tuple[str, str, dict[str, str]]]:
    """Every console page and form, with data that would change something if it were accepted."""
    bob = await demo.user(BOB)
    sales = await demo.sales()
    user, group = f"/console/users/{bob.id}", f"/console/groups/{sales.id}"
    return [
        ("GET", "/console/users", {}),
        ("GET", user, {}),
        ("GET", "/console/groups", {}),
        ("GET", group, {}),
        ("GET", "/console/api-tokens", {}),
        (
            "POST",
            "/console/users",
            {"email": "eve@example.com", "password": "long-enough-1", "role": "owner"},
        ),
        ("POST", user, {"name": "Hijacked", "role": "owner"}),
        ("POST", f"{user}/active", {"active": "0"}),
        ("POST", f"{user}/password", {"password": "taken-over-99"}),
        ("POST", "/console/groups", {"name": "Shadow"}),
        ("POST", group, {"name": "Renamed"}),
        ("POST", f"{group}/members", {"email": BOB}),
        ("POST", f"{group}/members/remove", {"email": ALICE}),
        ("POST", f"{group}/delete", {}),
        ("POST", "/console/api-tokens", {"name": "backdoor"}),
    ]


async def snapshot(demo: Demo) -> object:
    """Users, groups and members as they stand, to compare before and after."""
    users = [(u.email, u.name, u.role, u.is_active) for u in await demo.services.users.list_all()]
    groups = [
        (g.name, g.description, [m.email for m in g.members]) for g in await demo.services.groups.list_all()
    ]
    return users, groups


async def assert_bob_signs_in_with_his_password(demo: Demo) -> None:
    session = await demo.services.sessions.sign_in(BOB, DEMO_PASSWORD, ip_address="127.0.0.1", user_agent="")
    assert session.principal.email == BOB


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BUILDER])
async def test_members_and_builders_get_the_403_page_on_every_console_page_and_form(
    web: Browserless, demo: Demo, role: Role
) -> None:
    email = f"{role.value}@example.com"
    await demo.services.users.create(UserCreate(email=email, password=DEMO_PASSWORD, role=role), actor=SETUP)
    assert (await web.sign_in(email)).status_code == 303
    token = csrf_from((await web.client.get("/me")).text)
    before = await snapshot(demo)
    for method, path, data in await console_requests(demo):
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 403, f"{method} {path}"
        page = Page(response.text)
        assert page.all("h1")[0].text == FORBIDDEN_TITLE, f"{method} {path}"
        assert "Only owners and admins can open this." in page.text
        assert response.headers["cache-control"] == "no-store"
    assert await snapshot(demo) == before
    await assert_bob_signs_in_with_his_password(demo)
    web.client.cookies.clear()
    assert (await web.sign_in(ADMIN)).status_code == 303
    assert "No API tokens yet." in Page((await web.client.get("/console/api-tokens")).text).text


async def test_a_member_sees_only_their_own_pages_in_the_menu(as_member: Browserless) -> None:
    response = await as_member.client.get("/me")
    assert response.status_code == 200
    page = Page(response.text)
    menu = [link.text for link in page.all("a") if link.attrs.get("href", "").startswith(("/me", "/console"))]
    assert menu == ["My profile", "My connections", "My servers", "My apps", "Open My connections"]
    assert "Signed in as alice@example.com (Member)" in page.text
    assert "Sales" in page.by_id("main").text
    connections = await as_member.client.get("/me/connections")
    assert connections.status_code == 200
    assert Page(connections.text).all("h1")[0].text == "My connections"


async def test_the_start_page_sends_each_role_to_its_own_home(web: Browserless, demo: Demo) -> None:
    anonymous = await web.client.get("/", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")
    member = await web.sign_in(ALICE)
    assert (member.status_code, member.headers["location"]) == (303, "/me")
    home = await web.client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/me"


async def test_the_consoles_own_address_leads_to_its_first_page(web: Browserless, demo: Demo) -> None:
    anonymous = await web.client.get("/console", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")
    await web.sign_in("admin@example.com")
    admin = await web.client.get("/console", follow_redirects=False)
    assert (admin.status_code, admin.headers["location"]) == (303, "/console/users")


async def test_the_browsers_icon_request_finds_the_icon(web: Browserless) -> None:
    asked = await web.client.get("/favicon.ico", follow_redirects=False)
    assert (asked.status_code, asked.headers["location"]) == (301, "/static/favicon.svg")
    icon = await web.client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


async def test_an_anonymous_visitor_is_sent_to_sign_in_and_then_lands_on_the_page_they_asked_for(
    web: Browserless, demo: Demo
) -> None:
    response = await web.client.get("/console/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fconsole%2Fusers"

    login_page = await web.client.get(response.headers["location"])
    assert login_page.status_code == 200
    assert 'name="next" value="/console/users"' in login_page.text
    signed_in = await web.client.post(
        "/login",
        data={
            "_csrf_token": csrf_from(login_page.text),
            "email": ADMIN,
            "password": DEMO_PASSWORD,
            "next": "/console/users",
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console/users"
    users = await web.client.get("/console/users")
    assert users.status_code == 200
    assert Page(users.text).all("h1")[0].text == "Users"


async def test_the_requested_page_keeps_its_query_through_sign_in(web: Browserless, demo: Demo) -> None:
    sales = await demo.sales()
    response = await web.client.get(f"/console/groups/{sales.id}?tab=members", follow_redirects=False)
    assert response.headers["location"] == f"/login?next=%2Fconsole%2Fgroups%2F{sales.id}%3Ftab%3Dmembers"


async def test_anonymous_posts_to_the_console_change_nothing_and_ask_to_sign_in(
    web: Browserless, demo: Demo
) -> None:
    token = csrf_from((await web.client.get("/login")).text)
    before = await snapshot(demo)
    for method, path, data in await console_requests(demo):
        if method == "GET":
            response = await web.client.get(path, follow_redirects=False)
        else:
            response = await web.client.post(
                path, data={"_csrf_token": token, **data}, follow_redirects=False
            )
        assert response.status_code == 303, f"{method} {path}"
        assert response.headers["location"].startswith("/login?next=%2Fconsole%2F")
    me = await web.client.get("/me", follow_redirects=False)
    assert me.headers["location"] == "/login?next=%2Fme"
    assert await snapshot(demo) == before
    await assert_bob_signs_in_with_his_password(demo)


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "https://evil.example/console/users",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "javascript:alert(1)",
]


def lands_on_site(location: str) -> bool:
    """Whether a browser following ``location`` from the sign-in page stays on Switchboard."""
    # Browsers drop tabs and newlines from URLs and read backslashes as slashes.
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    target = urlsplit(urljoin("http://testserver.local/login", cleaned))
    return target.scheme == "http" and target.netloc == "testserver.local"


async def test_next_cannot_send_anyone_off_site(web: Browserless, demo: Demo) -> None:
    for target in OFF_SITE:
        login_page = await web.client.get("/login", params={"next": target})
        assert login_page.status_code == 200
        hidden = [field for field in Page(login_page.text).all("input") if field.attrs.get("name") == "next"]
        assert [field.attrs["value"] for field in hidden] == [""], target

    for target in OFF_SITE:
        web.client.cookies.clear()
        data = {"email": ADMIN, "password": DEMO_PASSWORD, "next": target}
        response = await web.submit("/login", "/login", data)
        assert response.status_code == 303
        assert lands_on_site(response.headers["location"]), (target, response.headers["location"])

        again = await web.client.get("/login", params={"next": target}, follow_redirects=False)
        assert again.status_code == 303
        assert lands_on_site(again.headers["location"]), (target, again.headers["location"])
