"""The OpenAPI document describes the API's errors as the API answers them, for every operation."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from litestar import Litestar

from switchboard.platform.app import create_app
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.runner import run_async, sqlite_url

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def bare_app() -> Any:
    """The app on a database it never opens: the document and the answers below need none."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            secret_key=TEST_SECRET, database_url=sqlite_url(Path(folder) / "unused.db"), data_dir=folder
        )
        yield create_app(settings)


def _call(app: Litestar, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            return await client.request(method, path, **kwargs)

    return run_async(call())


@pytest.fixture(scope="module")
def document(bare_app: Litestar) -> dict[str, Any]:
    response = _call(bare_app, "GET", "/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_error_shape_is_described_once(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert set(error["properties"]) == {"error", "message", "field"}


def test_every_error_of_every_operation_has_the_error_shape(document: dict[str, Any]) -> None:
    wrong = [
        (method, path, status)
        for method, path, operation in _operations(document)
        for status, response in operation["responses"].items()
        if status.startswith("4")
        and response["content"]["application/json"]["schema"] != {"$ref": "#/components/schemas/Error"}
    ]
    assert wrong == []


def test_every_operation_lists_the_refusals_of_a_stranger_and_of_a_role(document: dict[str, Any]) -> None:
    missing = [
        (method, path)
        for method, path, operation in _operations(document)
        if not {"401", "403"} <= set(operation["responses"])
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/users", "post", {"400", "401", "403", "409", "413", "422"}),
        ("/api/v1/users/{user_id}", "get", {"401", "403", "404", "422"}),
        ("/api/v1/audit-events", "get", {"401", "403", "422"}),
        ("/api/v1/me", "get", {"401", "403"}),
    ],
)
def test_an_operation_lists_what_its_inputs_can_be_refused_for(
    document: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    errors = {status for status in document["paths"][path][method]["responses"] if status >= "400"}
    assert errors == statuses


@pytest.mark.parametrize(
    ("method", "path", "request_args", "status"),
    [
        ("GET", "/api/v1/users", {}, 401),
        (
            "POST",
            "/api/v1/users",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            401,
        ),
    ],
)
def test_an_answer_matches_the_error_schema(
    bare_app: Litestar,
    document: dict[str, Any],
    method: str,
    path: str,
    request_args: dict[str, Any],
    status: int,
) -> None:
    response = _call(bare_app, method, path, **request_args)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    jsonschema.validate(response.json(), document["components"]["schemas"]["Error"])
