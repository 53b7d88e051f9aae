"""The audit trail keeps every record; an operator who must prune it does so by hand, in the database, with
the append-only triggers set aside for that statement alone (as docs/audit.md says)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from piccolo.engine import engine_finder

from switchboard.identity.audit import AuditEntry, AuditLog
from switchboard.identity.tables import AuditEvent
from switchboard.platform.core.database import Database

pytestmark = pytest.mark.both_engines

# What docs/audit.md tells the operator to run, engine by engine, in one transaction.
PRUNE = {
    "postgres": [
        "ALTER TABLE identity_audit_event DISABLE TRIGGER identity_audit_event_append_only",
        "DELETE FROM identity_audit_event WHERE at < '2025-01-01'",
        "ALTER TABLE identity_audit_event ENABLE TRIGGER identity_audit_event_append_only",
    ],
    "sqlite": [
        "DROP TRIGGER identity_audit_event_append_only_delete",
        "DELETE FROM identity_audit_event WHERE at < '2025-01-01'",
        "CREATE TRIGGER identity_audit_event_append_only_delete BEFORE DELETE ON identity_audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    ],
}


async def test_the_operator_prunes_old_records_by_hand_and_the_table_is_append_only_again(
    database: Database,
) -> None:
    await AuditEvent(
        at=datetime(2024, 5, 1, tzinfo=UTC), action="user.created", actor="old@example.com"
    ).save()
    await AuditLog().record(AuditEntry(action="user.created", actor="new@example.com"))
    engine = engine_finder()
    assert engine is not None

    async with engine.transaction():
        for statement in PRUNE[engine.engine_type]:
            await engine.run_ddl(statement)

    assert [record.actor for record in await AuditLog().search()] == ["new@example.com"]
    with pytest.raises(Exception, match="append-only"):
        await engine.run_ddl("DELETE FROM identity_audit_event")
    with pytest.raises(Exception, match="append-only"):
        await engine.run_ddl("UPDATE identity_audit_event SET actor = ''")
    recent = await AuditLog().search()
    assert [(r.actor, r.at > datetime.now(UTC) - timedelta(minutes=5)) for r in recent] == [
        ("new@example.com", True)
    ]
