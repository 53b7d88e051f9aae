"""API errors read ``{"error": code, "message": text, "field": name}``, whatever raised them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.params import JSONBody

from switchboard.platform.core.errors import Conflict, DomainError, Throttled
from switchboard.platform.core.http_errors import domain_error_json, http_error_json, validation_error_json


class Thing(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    size: int = 1


@post("/things", sync_to_thread=False)
def create_thing(data: JSONBody[Thing]) -> Thing:
    return data


@get("/conflict", sync_to_thread=False)
def conflicting() -> None:
    raise Conflict("A thing named 'x' already exists.", field="name")


@get("/throttled", sync_to_thread=False)
def throttled() -> None:
    raise Throttled("Too many attempts; try again in 5 minutes.", retry_after=300)


@get("/private", sync_to_thread=False)
def private() -> None:
    raise NotAuthorizedException("Sign in first.")


@get("/broken", sync_to_thread=False)
def broken() -> None:
    raise HTTPException(status_code=503, detail="pool exhausted at db.internal:5432")


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    """A tiny app whose only error handling is the platform's JSON mapping."""

    def on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
        return validation_error_json(exc)

    def on_domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
        return domain_error_json(exc)

    def on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        return http_error_json(exc)

    app = Litestar(
        [create_thing, conflicting, throttled, private, broken],
        exception_handlers={
            ValidationException: on_validation,
            DomainError: on_domain,
            HTTPException: on_http,
        },
        logging_config=None,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"name": "x", "colour": "red"},
            {
                "error": "invalid_input",
                "message": "Object contains unknown field `colour`",
                "field": "colour",
            },
        ),
        (
            {"name": "x", "size": "big"},
            {"error": "invalid_input", "message": "Expected `int`, got `str`", "field": "size"},
        ),
        (
            {"size": 2},
            {"error": "invalid_input", "message": "Object missing required field `name`", "field": "name"},
        ),
    ],
)
async def test_a_body_that_does_not_fit_is_refused_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], expected: dict[str, str]
) -> None:
    response = await api.post("/things", json=body)
    assert response.status_code == 422
    assert response.json() == expected


async def test_a_domain_error_keeps_its_code_message_and_field(api: httpx.AsyncClient) -> None:
    response = await api.get("/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": "A thing named 'x' already exists.",
        "field": "name",
    }


async def test_a_throttled_request_says_when_to_retry(api: httpx.AsyncClient) -> None:
    response = await api.get("/throttled")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "300"
    assert response.json() == {
        "error": "too_many_attempts",
        "message": "Too many attempts; try again in 5 minutes.",
    }


async def test_an_http_error_gets_a_stable_code(api: httpx.AsyncClient) -> None:
    response = await api.get("/private")
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated", "message": "Sign in first."}


async def test_a_server_error_does_not_leak_its_detail(api: httpx.AsyncClient) -> None:
    response = await api.get("/broken")
    assert response.status_code == 503
    assert response.json() == {"error": "error", "message": "Something went wrong on our side."}


async def test_a_missing_body_is_named_as_the_body_not_as_a_field(api: httpx.AsyncClient) -> None:
    response = await api.post("/things", content=b"", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_input", "message": "Send a JSON object as the request body."}


async def test_a_body_that_is_not_an_object_says_what_it_is(api: httpx.AsyncClient) -> None:
    response = await api.post("/things", content=b"[]", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "message": "The request body is wrong: Expected `object`, got `array`",
    }
