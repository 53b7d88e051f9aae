"""REST API under /api/v1 for users, groups, admin API tokens and the audit trail."""

from __future__ import annotations

from switchboard.identity.controllers.api_tokens import ApiTokenController
from switchboard.identity.controllers.audit import AuditEventController
from switchboard.identity.controllers.groups import GroupController
from switchboard.identity.controllers.users import MeController, UserController

API_CONTROLLERS = [MeController, UserController, GroupController, ApiTokenController, AuditEventController]
