"""An unexpected error is logged once, with its traceback and a request id that the person who met it
sees too (on the error page, in the API's answer, in ``X-Request-Id``), and nothing secret of the request
reaches the log: not its Authorization header, cookies or form fields, nor a connect link's token."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import httpx
import pytest
from litestar.exceptions import ServiceUnavailableException

from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.deps import IdentityServices
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from tests.identity.support import PASSWORD, make_user
from tests.support.web import Browserless, csrf_from
from tests.ui.html import Page

FAULT = "the database went away mid-query"
EMAIL = "ada@example.com"
REQUEST_ID = re.compile(r"[0-9a-f]{16}")


class Fault(RuntimeError):
    """What a service raises that nothing handles."""


async def failing(*_: Any, **__: Any) -> Any:
    raise Fault(FAULT)


def unhandled(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "switchboard.errors"]


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every line the log got, tracebacks included, as an operator reads them."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="switchboard")
    return caplog


async def test_an_unexpected_error_on_a_page_is_logged_with_its_traceback_and_the_id_the_page_shows(
    web: Browserless,
    services: IdentityServices,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_user(services, EMAIL)
    monkeypatch.setattr(services.sessions, "sign_in", failing)

    response = await web.sign_in(EMAIL, PASSWORD)

    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert REQUEST_ID.fullmatch(request_id)
    page = Page(response.text)
    assert page.heading == "Something went wrong"
    assert page.by_id("request-id").text == request_id
    assert "Traceback" not in response.text
    assert FAULT not in response.text
    [record] = unhandled(log)
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"unhandled error on POST /login (request id {request_id})"
    text = logged_text(log)
    assert "Traceback (most recent call last)" in text
    assert f"Fault: {FAULT}" in text
    assert PASSWORD not in text


async def test_an_unexpected_error_in_the_api_answers_with_the_request_id_it_was_logged_with(
    client: httpx.AsyncClient,
    services: IdentityServices,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await make_user(services, EMAIL, Role.ADMIN)
    acting = Principal(user_id=admin.id, email=admin.email, name="", role=Role.ADMIN, via="session")
    token = (await services.api_tokens.create("deploy script", actor=acting)).token
    monkeypatch.setattr(services.users, "list_all", failing)

    response = await client.get(
        "/api/v1/users", headers={"Authorization": f"Bearer {token}", "Cookie": "sb_session=cookie-secret"}
    )

    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert REQUEST_ID.fullmatch(request_id)
    assert response.json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side; the error has been logged.",
        "request_id": request_id,
    }
    [record] = unhandled(log)
    assert record.getMessage() == f"unhandled error on GET /api/v1/users (request id {request_id})"
    text = logged_text(log)
    assert f"Fault: {FAULT}" in text
    assert token not in text
    assert "cookie-secret" not in text


async def test_a_server_error_raised_on_purpose_is_logged_with_its_detail_and_answered_with_an_id(
    client: httpx.AsyncClient,
    services: IdentityServices,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await make_user(services, EMAIL, Role.ADMIN)
    acting = Principal(user_id=admin.id, email=admin.email, name="", role=Role.ADMIN, via="session")
    token = (await services.api_tokens.create("deploy script", actor=acting)).token

    async def unavailable(*_: Any, **__: Any) -> Any:
        raise ServiceUnavailableException(detail="pool exhausted at db.internal:5432")

    monkeypatch.setattr(services.users, "list_all", unavailable)

    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 503
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "error": "error",
        "message": "Something went wrong on our side.",
        "request_id": request_id,
    }
    [record] = unhandled(log)
    assert record.getMessage() == (
        f"HTTP 503 on GET /api/v1/users (request id {request_id}): pool exhausted at db.internal:5432"
    )
    assert token not in logged_text(log)


async def test_each_unexpected_error_gets_its_own_request_id(
    web: Browserless,
    services: IdentityServices,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_user(services, EMAIL)
    monkeypatch.setattr(services.sessions, "sign_in", failing)

    ids = [(await web.sign_in(EMAIL, PASSWORD)).headers["x-request-id"] for _ in range(3)]

    assert len(set(ids)) == 3
    assert [record.getMessage() for record in unhandled(log)] == [
        f"unhandled error on POST /login (request id {request_id})" for request_id in ids
    ]


async def test_a_connect_links_token_never_reaches_the_log(
    web: Browserless,
    services: IdentityServices,
    connectors: ConnectorServices,
    log: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_user(services, EMAIL)
    assert (await web.sign_in(EMAIL, PASSWORD)).status_code == 303
    token = secrets.token_urlsafe(32)
    monkeypatch.setattr(connectors.connect, "describe_link", failing)
    monkeypatch.setattr(connectors.connect, "open_link", failing)

    shown = await web.client.get(f"/connect/{token}")
    opened = await web.client.post(
        f"/connect/{token}", data={"_csrf_token": csrf_from((await web.client.get("/me")).text)}
    )

    assert (shown.status_code, opened.status_code) == (500, 500)
    assert token not in logged_text(log)
    assert [record.getMessage() for record in unhandled(log)] == [
        f"unhandled error on GET /connect/… (request id {shown.headers['x-request-id']})",
        f"unhandled error on POST /connect/… (request id {opened.headers['x-request-id']})",
    ]
