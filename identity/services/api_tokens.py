"""Admin API tokens: created in the console, shown once, stored as hashes.

A token acts as the admin who created it, and only while that user is active and still an admin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from switchboard.identity.audit import AuditLog
from switchboard.identity.principal import Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import ApiTokenCreated, ApiTokenOut
from switchboard.identity.services.users import validate_text
from switchboard.identity.tables import ApiToken
from switchboard.platform.core.errors import InvalidInput, NotFound
from switchboard.platform.core.tokens import new_token, token_hash

TOKEN_PREFIX = "sbk_"  # noqa: S105 - a public prefix, not a secret
_TOUCH_INTERVAL = timedelta(minutes=1)


class ApiTokenService:
    def __init__(self, audit: AuditLog | None = None) -> None:
        self._audit = audit or AuditLog()

    async def create(self, name: str, *, actor: Principal) -> ApiTokenCreated:
        actor.require_admin()
        name = validate_text(name.strip(), field="name")
        if not name:
            raise InvalidInput("Give the token a name, such as the script that will use it.", field="name")
        if len(name) > 80:
            raise InvalidInput("A token name can have at most 80 characters.", field="name")
        token = new_token(TOKEN_PREFIX)
        row = ApiToken(
            name=name,
            token_hash=token_hash(token),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            user=actor.user_id,
            created_at=datetime.now(UTC),
        )
        await row.save()
        await self._audit.change(
            actor, "api_token.created", object_type="api_token", object_id=row.id, object_name=row.name
        )
        return ApiTokenCreated(id=row.id, name=row.name, token=token)

    async def list_all(self, *, actor: Principal) -> list[ApiTokenOut]:
        actor.require_admin()
        rows = await ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.prefix,
            ApiToken.user.email,
            ApiToken.created_at,
            ApiToken.last_used_at,
        ).order_by(ApiToken.created_at, ascending=False)
        return [
            ApiTokenOut(
                id=row["id"],
                name=row["name"],
                prefix=row["prefix"],
                owner_email=row["user.email"],
                created_at=row["created_at"],
                last_used_at=row["last_used_at"],
            )
            for row in rows
        ]

    async def revoke(self, token_id: UUID, *, actor: Principal) -> None:
        actor.require_admin()
        token = (
            await ApiToken.select(ApiToken.name, ApiToken.user.email).where(ApiToken.id == token_id).first()
        )
        if token is None:
            raise NotFound("No such API token.")
        await ApiToken.delete().where(ApiToken.id == token_id)
        await self._audit.change(
            actor,
            "api_token.revoked",
            object_type="api_token",
            object_id=token_id,
            object_name=token["name"],
            subject=token["user.email"],
        )

    async def authenticate(self, token: str) -> Principal | None:
        """The admin behind a bearer token; None if the token is unknown or its owner no longer qualifies."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        row = (
            await ApiToken.select(ApiToken.id, ApiToken.last_used_at, *ApiToken.user.all_columns())
            .where(ApiToken.token_hash == token_hash(token))
            .first()
        )
        if row is None or not row["user.is_active"]:
            return None
        role = Role(row["user.role"])
        if not role.is_admin:
            return None
        now = datetime.now(UTC)
        if row["last_used_at"] is None or now - row["last_used_at"] > _TOUCH_INTERVAL:
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
        return Principal(
            user_id=row["user.id"], email=row["user.email"], name=row["user.name"], role=role, via="api_token"
        )
