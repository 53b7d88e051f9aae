"""The REST API's OpenAPI document at /schema/openapi.json: the API only, with bearer auth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from switchboard.platform.app import create_app
from switchboard.platform.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.runner import run_async, sqlite_url


@pytest.fixture(scope="module")
def unused_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("openapi") / "unused.db"


@pytest.fixture(scope="module")
def bare_app(unused_database: Path) -> Litestar:
    """The app on a database it never opens: the document is built from the routes alone."""
    settings = Settings(
        secret_key=TEST_SECRET, database_url=sqlite_url(unused_database), data_dir=str(unused_database.parent)
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def document(bare_app: Litestar, unused_database: Path) -> dict[str, Any]:
    """The document, fetched once for the module (it depends on the routes alone)."""

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=bare_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            return await client.get("/schema/openapi.json")

    response = run_async(fetch())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert not unused_database.exists()
    body: dict[str, Any] = response.json()
    return body


def test_the_document_names_the_api_and_its_version(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Switchboard API"
    assert document["info"]["version"] == "0.1.0"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/users", {"get", "post"}),
        ("/api/v1/groups", {"get", "post"}),
        ("/api/v1/api-tokens", {"get", "post"}),
    ],
)
def test_the_document_describes_the_management_api(
    document: dict[str, Any], path: str, methods: set[str]
) -> None:
    assert methods <= set(document["paths"][path])


def test_every_api_route_of_the_app_is_documented(bare_app: Litestar, document: dict[str, Any]) -> None:
    api_routes = {
        re.sub(r"\{(\w+):[^}]+\}", r"{\1}", r.path) for r in bare_app.routes if r.path.startswith("/api/")
    }
    assert api_routes == set(document["paths"])


def test_every_documented_path_is_under_api_v1(document: dict[str, Any]) -> None:
    assert document["paths"]
    outside = [path for path in document["paths"] if not path.startswith("/api/v1/")]
    assert outside == []


@pytest.mark.parametrize("page", ["/login", "/logout", "/console", "/me", "/static", "/healthz", "/readyz"])
def test_pages_and_probes_are_not_in_the_document(document: dict[str, Any], page: str) -> None:
    assert [path for path in document["paths"] if path == page or path.startswith(page + "/")] == []


def test_the_api_is_secured_by_a_bearer_token_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"apiToken": {"type": "http", "scheme": "bearer", "description": "Admin API token"}}
    assert document["security"] == [{"apiToken": []}]


def test_every_operation_has_an_id_and_a_response(document: dict[str, Any]) -> None:
    operations = [op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations
    assert all(op.get("operationId") and op.get("responses") for op in operations)
