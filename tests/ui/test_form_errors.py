"""A refused form comes back with the message next to the field and what was typed still there."""

from __future__ import annotations

from switchboard.identity.schemas import GroupCreate
from tests.support.actors import SETUP
from tests.support.web import Browserless
from tests.ui.conftest import ALICE, Demo
from tests.ui.html import Page


async def test_a_duplicate_email_is_refused_next_to_the_email_field_keeping_the_input(
    as_admin: Browserless, demo: Demo
) -> None:
    before = await demo.emails()
    response = await as_admin.submit(
        "/console/users",
        "/console/users",
        {
            "email": "Alice@Example.com",
            "name": "Second Alice",
            "password": "long-enough-1",
            "role": "builder",
        },
    )
    assert response.status_code == 409
    page = Page(response.text)
    email = page.field("email")
    assert page.error_next_to(email) == "A user with the e-mail alice@example.com already exists."
    assert email.attrs["value"] == "Alice@Example.com"
    assert page.field("name").attrs["value"] == "Second Alice"
    selected = [option.attrs["value"] for option in page.all("option") if "selected" in option.attrs]
    assert selected == ["builder"]
    assert page.field("password").attrs["value"] == "", "a refused password is never sent back"
    assert await demo.emails() == before


async def test_a_short_password_is_refused_next_to_the_password_field(
    as_admin: Browserless, demo: Demo
) -> None:
    response = await as_admin.submit(
        "/console/users",
        "/console/users",
        {"email": "carol@example.com", "name": "Carol", "password": "short", "role": "member"},
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("password")) == "The password needs at least 8 characters."
    assert page.error_next_to(page.field("email")) is None
    assert page.field("email").attrs["value"] == "carol@example.com"
    assert page.field("name").attrs["value"] == "Carol"
    assert "carol@example.com" not in await demo.emails()


async def test_an_invalid_email_is_refused_next_to_the_email_field(as_admin: Browserless, demo: Demo) -> None:
    response = await as_admin.submit(
        "/console/users",
        "/console/users",
        {"email": "carol at example", "name": "", "password": "long-enough-1", "role": "member"},
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("email")) == (
        "Enter a valid e-mail address, such as alice@example.com."
    )
    assert page.field("email").attrs["value"] == "carol at example"


async def test_resetting_a_password_to_a_short_one_is_refused_and_the_old_one_still_works(
    as_admin: Browserless, demo: Demo
) -> None:
    alice = await demo.user(ALICE)
    page_path = f"/console/users/{alice.id}"
    response = await as_admin.submit(page_path, f"{page_path}/password", {"password": "1234567"})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.all("h1")[0].text == ALICE
    assert page.error_next_to(page.field("password")) == "The password needs at least 8 characters."
    session = await demo.services.sessions.sign_in(
        ALICE, "switchboard-demo", ip_address="127.0.0.1", user_agent="test"
    )
    assert session.principal.email == ALICE


async def test_a_group_name_taken_in_another_case_is_refused_next_to_the_name_field(
    as_admin: Browserless, demo: Demo
) -> None:
    response = await as_admin.submit(
        "/console/groups", "/console/groups", {"name": "  sales ", "description": "Second sales team"}
    )
    assert response.status_code == 409
    page = Page(response.text)
    name = page.field("name")
    assert page.error_next_to(name) == "A group named 'sales' already exists."
    assert name.attrs["value"] == "sales"
    assert page.field("description").attrs["value"] == "Second sales team"
    assert await demo.group_names() == {"Sales"}


async def test_renaming_a_group_to_a_taken_name_is_refused_and_keeps_the_typed_name(
    as_admin: Browserless, demo: Demo
) -> None:
    support = await demo.services.groups.create(GroupCreate(name="Support"), actor=SETUP)
    page_path = f"/console/groups/{support.id}"
    response = await as_admin.submit(page_path, page_path, {"name": "SALES", "description": "Renamed"})
    assert response.status_code == 409
    page = Page(response.text)
    name = page.field("name", form_action=page_path)
    assert page.error_next_to(name) == "A group named 'SALES' already exists."
    assert name.attrs["value"] == "SALES"
    assert page.field("description").attrs["value"] == "Renamed"
    assert await demo.group_names() == {"Sales", "Support"}


async def test_adding_someone_already_in_the_group_is_refused_next_to_the_email_field(
    as_admin: Browserless, demo: Demo
) -> None:
    sales = await demo.sales()
    page_path = f"/console/groups/{sales.id}"
    response = await as_admin.submit(page_path, f"{page_path}/members", {"email": "ALICE@example.com"})
    assert response.status_code == 409
    page = Page(response.text)
    email = page.field("email", form_action=f"{page_path}/members")
    assert page.error_next_to(email) == "alice@example.com is already a member of Sales."
    assert email.attrs["value"] == "ALICE@example.com"
    assert [member.email for member in (await demo.sales()).members] == [ALICE]


async def test_an_api_token_without_a_name_is_refused_next_to_the_name_field(as_admin: Browserless) -> None:
    response = await as_admin.submit("/console/api-tokens", "/console/api-tokens", {"name": "   "})
    assert response.status_code == 422
    page = Page(response.text)
    assert page.error_next_to(page.field("name")) == (
        "Give the token a name, such as the script that will use it."
    )
    assert "No API tokens yet." in page.text
    assert "Copy it now" not in page.text


async def test_a_wrong_password_on_the_sign_in_page_says_so_and_keeps_the_email(
    web: Browserless, demo: Demo
) -> None:
    response = await web.submit("/login", "/login", {"email": "bob@example.com", "password": "not-his"})
    assert response.status_code == 401
    page = Page(response.text)
    assert page.by_id("login-error").text == "Wrong e-mail or password."
    assert page.by_id("login-error").attrs["role"] == "alert"
    assert page.field("email").attrs["value"] == "bob@example.com"
    assert page.field("password").attrs.get("value", "") == ""
    assert "sb_session=" not in response.headers.get("set-cookie", "")


async def test_adding_an_unknown_email_is_refused_next_to_the_email_field(
    as_admin: Browserless, demo: Demo
) -> None:
    sales = await demo.sales()
    page_path = f"/console/groups/{sales.id}"
    response = await as_admin.submit(page_path, f"{page_path}/members", {"email": "nobody@example.com"})
    assert response.status_code == 422
    page = Page(response.text)
    email = page.field("email", form_action=f"{page_path}/members")
    assert page.error_next_to(email) == "No user with the e-mail nobody@example.com."
    assert email.attrs["value"] == "nobody@example.com"
    assert [member.email for member in (await demo.sales()).members] == [ALICE]
