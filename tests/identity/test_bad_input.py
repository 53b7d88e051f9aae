"""Nothing a user sends makes the identity API or the sign-in page fail: every refusal is a clear 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from switchboard.identity.schemas import UserOut
from tests.identity.support import PASSWORD, WRONG_CREDENTIALS, login_error
from tests.support.web import Browserless

NUL = "\x00"
JSON = {"content-type": "application/json"}


async def test_bad_api_input_gets_a_4xx_with_an_error_code(
    member: UserOut, as_admin: httpx.AsyncClient
) -> None:
    group = (await as_admin.post("/api/v1/groups", json={"name": "Sales"})).json()
    user, members = f"/api/v1/users/{member.id}", f"/api/v1/groups/{group['id']}/members"
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "malformed JSON": ("POST", "/api/v1/users", {"content": b"{not json", "headers": JSON}),
        "a form instead of JSON": ("POST", "/api/v1/users", {"data": {"email": "a@example.com"}}),
        "a JSON array": ("POST", "/api/v1/users", {"json": [1, 2]}),
        "a lone surrogate": ("POST", "/api/v1/groups", {"content": b'{"name": "\\ud800"}', "headers": JSON}),
        "a number out of range": ("POST", "/api/v1/groups", {"content": b'{"name": 1e999}', "headers": JSON}),
        "a number for a name": ("POST", "/api/v1/groups", {"json": {"name": 5}}),
        "a huge name": ("PATCH", user, {"json": {"name": "n" * 100_000}}),
        "a huge e-mail": ("POST", "/api/v1/users", {"json": {"email": "e" * 100_000, "password": PASSWORD}}),
        "a body over a megabyte": (
            "POST",
            "/api/v1/groups",
            {"json": {"name": "g", "description": "d" * 2**20}},
        ),
        "NUL in an e-mail": (
            "POST",
            "/api/v1/users",
            {"json": {"email": f"a{NUL}@example.com", "password": PASSWORD}},
        ),
        "NUL in a user name": ("PATCH", user, {"json": {"name": f"Bob{NUL}"}}),
        "NUL in a group name": ("POST", "/api/v1/groups", {"json": {"name": f"Ops{NUL}"}}),
        "NUL in a description": ("PATCH", f"/api/v1/groups/{group['id']}", {"json": {"description": NUL}}),
        "NUL in a token name": ("POST", "/api/v1/api-tokens", {"json": {"name": NUL}}),
        "NUL in a member's e-mail": ("POST", members, {"json": {"email": f"member{NUL}@example.com"}}),
        "NUL in a member's address": ("DELETE", f"{members}/member%00@example.com", {}),
        "a huge member address": ("DELETE", f"{members}/{'m' * 10_000}@example.com", {}),
        "an id that is no UUID": ("GET", "/api/v1/groups/sales", {}),
        "an unknown id": ("DELETE", f"/api/v1/api-tokens/{uuid.uuid4()}", {}),
        "an unknown method": ("PUT", "/api/v1/users", {"json": {}}),
    }

    results = {}
    for name, (method, path, options) in calls.items():
        response = await as_admin.request(method, path, **options)
        results[name] = (response.status_code, response.json()["error"])

    assert results == {
        "malformed JSON": (400, "bad_request"),
        "a form instead of JSON": (400, "bad_request"),
        "a JSON array": (422, "invalid_input"),
        "a lone surrogate": (400, "bad_request"),
        "a number out of range": (400, "bad_request"),
        "a number for a name": (422, "invalid_input"),
        "a huge name": (422, "invalid_input"),
        "a huge e-mail": (422, "invalid_input"),
        "a body over a megabyte": (413, "request_too_large"),
        "NUL in an e-mail": (422, "invalid_input"),
        "NUL in a user name": (422, "invalid_input"),
        "NUL in a group name": (422, "invalid_input"),
        "NUL in a description": (422, "invalid_input"),
        "NUL in a token name": (422, "invalid_input"),
        "NUL in a member's e-mail": (404, "not_found"),
        "NUL in a member's address": (404, "not_found"),
        "a huge member address": (404, "not_found"),
        "an id that is no UUID": (404, "not_found"),
        "an unknown id": (404, "not_found"),
        "an unknown method": (405, "method_not_allowed"),
    }


async def test_deeply_nested_json_is_a_bad_request(as_admin: httpx.AsyncClient) -> None:
    body = b'{"name": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"

    response = await as_admin.post("/api/v1/groups", content=body, headers=JSON)

    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "message": "The request body is nested too deeply."}


@pytest.mark.parametrize(
    "nested",
    [
        pytest.param(b"[" * 1_000 + b"]" * 1_000, id="1,000 arrays"),
        pytest.param(b'{"a": ' * 1_000 + b"1" + b"}" * 1_000, id="1,000 objects"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100,000 arrays"),
        pytest.param(b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, id="100,000 objects"),
        pytest.param(b"[" * 100_000, id="100,000 brackets never closed"),
    ],
)
async def test_json_nested_past_what_a_parser_follows_is_a_bad_request_in_the_apis_format(
    as_admin: httpx.AsyncClient, nested: bytes
) -> None:
    response = await as_admin.post("/api/v1/groups", content=b'{"name": ' + nested + b"}", headers=JSON)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "bad_request", "message": "The request body is nested too deeply."}
    assert (await as_admin.get("/api/v1/groups")).json() == []


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("a" * 5_000 + "@example.com", PASSWORD, id="huge e-mail"),
        pytest.param(f"member{NUL}@example.com", PASSWORD, id="NUL in the e-mail"),
        pytest.param("member@example.com", "p" * 500_000, id="huge password"),
        pytest.param("member@example.com", f"{PASSWORD}{NUL}", id="NUL in the password"),
        pytest.param("<script>alert(1)</script>@example.com", PASSWORD, id="markup in the e-mail"),
    ],
)
async def test_odd_sign_in_input_is_just_wrong_credentials(
    member: UserOut, web: Browserless, email: str, password: str
) -> None:
    response = await web.sign_in(email, password)

    assert (response.status_code, login_error(response.text)) == (401, WRONG_CREDENTIALS)
    assert "<script>" not in response.text


async def test_odd_credentials_in_headers_are_anonymous(client: httpx.AsyncClient) -> None:
    odd_headers: dict[str, Any] = {
        "a non-ASCII session cookie": {"cookie": b"sb_session=\xe9t\xe9.abc"},
        "an empty session cookie": {"cookie": "sb_session="},
        "a non-ASCII bearer token": {"authorization": b"Bearer sbk_\xe9"},
        "a bearer scheme without a token": {"authorization": "Bearer "},
        "another scheme": {"authorization": "Basic YWRtaW46YWRtaW4="},
    }

    results = {}
    for name, headers in odd_headers.items():
        response = await client.get("/api/v1/me", headers=headers)
        results[name] = (response.status_code, response.json()["error"])

    assert results == dict.fromkeys(odd_headers, (401, "not_authenticated"))
