"""The REST API answers what its OpenAPI document says, checked by schemathesis against the app in-process.

Schemathesis generates requests from the document (valid ones and wrong ones) for every operation, sends
them with an admin API token and checks each answer: no server error, a documented status, the
documented content type and body schema. ``make test`` sends a few per operation; ``make api-fuzz`` sets
``SWITCHBOARD_API_FUZZ_EXAMPLES`` to send several hundred. Both are derandomised: a run is reproducible.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.serialization import encode_json
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate
from switchboard.platform.app import create_app
from switchboard.platform.core.database import Database
from switchboard.platform.core.settings import Settings
from switchboard.platform.services import Services
from tests.conftest import TEST_SECRET
from tests.support.actors import SETUP
from tests.support.runner import sqlite_url

T = TypeVar("T")

BASE_URL = "http://testserver.local"
EXAMPLES = int(os.environ.get("SWITCHBOARD_API_FUZZ_EXAMPLES", "0")) or 5
FULL = "SWITCHBOARD_API_FUZZ_EXAMPLES" in os.environ

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class InProcessApi:
    """The app on its own migrated SQLite database, served on an event loop of its own (a thread), called
    through httpx's ASGI transport as the tests' ``client`` fixture calls it, with an admin API token."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.token = self._run(self._start())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _start(self) -> str:
        self.database = Database(self.settings.database_url)
        await self.database.connect()
        services = Services.build(self.settings, database=self.database)
        app = create_app(self.settings, services=services)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        admin = await services.identity.users.create(
            UserCreate(email="admin@example.com", password="long enough password", role=Role.ADMIN, name="A"),
            actor=SETUP,
        )
        principal = Principal(
            user_id=admin.id, email=admin.email, name=admin.name, role=admin.role, via="api_token"
        )
        return (await services.identity.api_tokens.create("conformance", actor=principal)).token

    def send(self, case: Case) -> httpx.Response:
        """Send the case as schemathesis would (its requests-style arguments, said in httpx's words)."""
        # The token goes on every request but those generated to go without one (to see them refused).
        negated = case.operation.schema.is_security_param_negated(case)
        token = {} if negated else {"authorization": f"Bearer {self.token}"}
        sent = case.as_transport_kwargs(BASE_URL, headers=token)
        headers = dict(sent.get("headers") or {})
        if sent.get("cookies"):
            headers["cookie"] = "; ".join(f"{name}={value}" for name, value in sent["cookies"].items())
        request = self.client.build_request(
            sent["method"], sent["url"], params=sent.get("params"), headers=headers, content=sent.get("data")
        )
        return self._run(self.client.send(request))

    def close(self) -> None:
        self._run(self.client.aclose())
        self._run(self.database.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[InProcessApi]:
    folder = tmp_path_factory.mktemp("api-conformance")
    shutil.copyfile(sqlite_template, folder / "switchboard.db")
    settings = Settings(
        secret_key=TEST_SECRET,
        database_url=sqlite_url(folder / "switchboard.db"),
        data_dir=str(folder),
        base_url=BASE_URL,
    )
    api = InProcessApi(settings)
    yield api
    api.close()


def _document() -> dict[str, Any]:
    """The document, built from the routes alone (by an app on a database it never opens)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            secret_key=TEST_SECRET, database_url=sqlite_url(Path(folder) / "unused.db"), data_dir=folder
        )
        document: dict[str, Any] = json.loads(encode_json(create_app(settings).openapi_schema.to_schema()))
    return document


schema = schemathesis.openapi.from_dict(_document())


# The coverage phase (every boundary and wrong type of every input) takes minutes: the fuller run's.
schema.config.phases.coverage.enabled = FULL


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_what_the_document_says(case: Case, api: InProcessApi) -> None:
    case.validate_response(api.send(case), checks=CHECKS)
