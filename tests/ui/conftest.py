"""Page tests run on the demo data: an owner, two members, the group Sales."""

from __future__ import annotations

import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import GroupOut, UserOut
from switchboard.platform.demo import seed_demo
from tests.support.web import Browserless

ADMIN = "admin@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"


class Demo:
    """The demo users and group, as the services see them."""

    def __init__(self, services: IdentityServices) -> None:
        self.services = services

    async def user(self, email: str) -> UserOut:
        user = await self.services.users.find_by_email(email)
        assert user is not None, f"no user {email}"
        return user

    async def sales(self) -> GroupOut:
        return await self.services.groups.get_by_name("Sales")

    async def emails(self) -> set[str]:
        return {user.email for user in await self.services.users.list_all()}

    async def group_names(self) -> set[str]:
        return {group.name for group in await self.services.groups.list_all()}


@pytest.fixture
async def demo(services: IdentityServices) -> Demo:
    await seed_demo(services)
    return Demo(services)


@pytest.fixture
async def as_admin(web: Browserless, demo: Demo) -> Browserless:
    """The browser of the demo owner, signed in."""
    response = await web.sign_in(ADMIN)
    assert response.status_code == 303, response.text
    return web


@pytest.fixture
async def as_member(web: Browserless, demo: Demo) -> Browserless:
    """The browser of Alice, a member, signed in."""
    response = await web.sign_in(ALICE)
    assert response.status_code == 303, response.text
    return web
