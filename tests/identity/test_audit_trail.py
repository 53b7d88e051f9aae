"""The audit trail is append-only in the database itself, whatever issues the statement."""

from __future__ import annotations

import pytest
from piccolo.engine import engine_finder

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.platform.core.database import Database

pytestmark = pytest.mark.both_engines


async def test_records_keep_what_was_acted_on(database: Database) -> None:
    log = AuditLog()
    await log.record(
        AuditEntry(
            action="group.member_added",
            actor="admin@example.com",
            object_type="group",
            object_id="7",
            object_name="Sales",
            user_agent="curl/8.5",
            ip_address="203.0.113.9",
        )
    )
    (record,) = await log.recent()
    assert (record.action, record.actor, record.object_type, record.object_id, record.object_name) == (
        "group.member_added",
        "admin@example.com",
        "group",
        "7",
        "Sales",
    )
    assert (record.user_agent, record.ip_address) == ("curl/8.5", "203.0.113.9")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE identity_audit_event SET actor = 'someone-else@example.com'",
        "DELETE FROM identity_audit_event",
    ],
)
async def test_no_statement_changes_or_removes_a_record(database: Database, statement: str) -> None:
    await AuditLog().record(AuditEntry(action="user.created", actor="admin@example.com"))
    engine = engine_finder()
    assert engine is not None
    with pytest.raises(Exception, match="append-only"):
        await engine.run_ddl(statement)
    (record,) = await AuditLog().recent()
    assert record.actor == "admin@example.com"
