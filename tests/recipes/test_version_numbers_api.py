"""A recipe version number too large for any database is answered as wrong input, never as a crash."""

from __future__ import annotations

import pytest

from switchboard.connectors.connections.models import Project
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from tests.identity.support import make_user, signed_in
from tests.support.web import Browserless

HUGE = 4665109154148246501771402280960


@pytest.mark.parametrize(
    ("method", "tail"), [("GET", f"versions/{HUGE}"), ("POST", f"versions/{HUGE}/restore")]
)
async def test_a_version_number_past_any_integer_is_refused_as_wrong_input(
    services: IdentityServices, web: Browserless, project: Project, method: str, tail: str
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    created = await client.post(
        "/api/v1/recipes", json={"project_id": str(project.id), "name": "create_task"}
    )
    assert created.status_code == 201, created.text

    answer = await client.request(method, f"/api/v1/recipes/{created.json()['id']}/{tail}")

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_input"
    assert answer.json()["field"] == "number"
