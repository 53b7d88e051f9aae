"""The member's own area: the profile ("My connections" is in ``connect.py``, with the connect flow)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from switchboard.identity.auth.guards import requires_sign_in
from switchboard.identity.principal import Principal
from switchboard.identity.services.users import UserService
from switchboard.ui.rendering import page


class MePages(Controller):
    path = "/me"
    include_in_schema = False
    guards = [requires_sign_in]

    @get()
    async def profile(
        self,
        request: Request[Any, Any, Any],
        users: NamedDependency[UserService],
        principal: NamedDependency[Principal],
    ) -> Template:
        user = await users.get(principal.user_id)
        return page(request, "me/profile.html", title="My profile", user=user)
