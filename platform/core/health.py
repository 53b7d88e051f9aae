"""Liveness (``/healthz``: never touches the database) and readiness (``/readyz``)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from switchboard.platform.core.database import Database, DatabaseUnavailable
from switchboard.platform.core.migrations import pending_migrations


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(database: NamedDependency[Database]) -> Response[dict[str, Any]]:
    try:
        await database.ping()
        pending = await pending_migrations(database)
    except DatabaseUnavailable as exc:
        return Response({"status": "unavailable", "reason": str(exc)}, status_code=503)
    except Exception as exc:  # a half-created schema, for instance
        return Response({"status": "unavailable", "reason": f"database check failed: {exc}"}, status_code=503)
    if pending:
        reason = (
            f"{len(pending)} migration(s) not applied: {', '.join(pending)}; run `switchboard db migrate`"
        )
        return Response(
            {"status": "unavailable", "reason": reason, "pending_migrations": pending}, status_code=503
        )
    return Response({"status": "ready"}, status_code=200)
