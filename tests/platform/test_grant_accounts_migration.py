"""The migration that lets a person keep several accounts in one connection, forwards and backwards on
both engines: an existing grant is named after its app account and stays its person's default; going
back keeps each person's default account only."""

from __future__ import annotations

import contextlib
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

from switchboard.connectors.tables import Connection, Project, UserGrant
from switchboard.identity.tables import User
from switchboard.platform.core.database import Database, is_unique_violation
from switchboard.platform.core.migrations import migrate
from tests.platform.conftest import on_database

pytestmark = pytest.mark.both_engines

FIRST = "2026-12-08T03:03:14:926748"  # the columns; the next one names the accounts and swaps the index
INSERT = (
    'INSERT INTO connectors_user_grant (id, connection, "user", status, reason, account, scopes, '
    "scopes_version, tokens, issuer, connected_at) "
    "VALUES ({}, {}, {}, 'connected', '', {}, '', 1, 'x', '', {})"
)


async def _quietly(step: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        result = await step
    assert result.success, result.message


async def _grant(connection: uuid.UUID, user: uuid.UUID, account: str, label: str = "") -> None:
    """A grant row as the earlier schema stores it; with ``label``, as the new one does (not default)."""
    if not label:
        await UserGrant.raw(INSERT, uuid.uuid4(), connection, user, account, datetime.now(UTC))
        return
    await UserGrant.raw(
        INSERT.replace("connected_at)", "connected_at, label, label_key, is_default)").replace(
            "{})", "{}, {}, {}, false)"
        ),
        *(uuid.uuid4(), connection, user, account, datetime.now(UTC), label, label.casefold()),
    )


async def _labels() -> list[tuple[str, str, bool]]:
    rows = await UserGrant.raw(
        "SELECT label, label_key, is_default FROM connectors_user_grant ORDER BY label"
    )
    return [(row["label"], row["label_key"], bool(row["is_default"])) for row in rows]


async def _person(email: str, now: datetime) -> uuid.UUID:
    user = User(email=email, name=email, password_hash="x", role="member", created_at=now)
    await user.save()
    return user.id


def test_existing_grants_are_named_after_their_account_and_going_back_keeps_the_default(
    empty_db_url: str,
) -> None:
    async def work(database: Database) -> None:
        await migrate(database)
        await _quietly(run_backwards(app_name="connectors", migration_id=FIRST, auto_agree=True))
        now = datetime.now(UTC)
        alice, bob = await _person("alice@example.com", now), await _person("bob@example.com", now)
        project = Project(name="P", name_key="p", created_at=now)
        await project.save()
        connection = Connection(
            project=project.id,
            name="C",
            name_key="c",
            connector="x",
            mode="end_user",
            auth_type="api_key",
            settings={},
            created_at=now,
            updated_at=now,
        )
        await connection.save()
        await _grant(connection.id, alice, "Alice@Example.com")
        await _grant(connection.id, bob, "")

        await _quietly(run_forwards(app_name="connectors"))
        assert await _labels() == [
            ("Alice@Example.com", "alice@example.com", True),
            ("default", "default", True),
        ]

        # Alice may now keep a second account, but not under a name she already uses (case-blind).
        await _grant(connection.id, alice, "second", label="Work")
        with pytest.raises(Exception) as clash:  # noqa: PT011 - the driver's own class differs by engine
            await _grant(connection.id, alice, "third", label="ALICE@example.com")
        assert is_unique_violation(clash.value)

        await _quietly(run_backwards(app_name="connectors", migration_id=FIRST, auto_agree=True))
        left = await UserGrant.raw("SELECT account FROM connectors_user_grant ORDER BY account")
        assert [row["account"] for row in left] == ["", "Alice@Example.com"]
        await _quietly(run_forwards(app_name="connectors"))

    on_database(empty_db_url, work)
