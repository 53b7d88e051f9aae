"""Who a service acts for: a signed-in person's role is checked on every change, at the service itself;
Switchboard acting on its own (the command line, the demo seed) passes every check as an owner and
names no person in what it records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.models import ClientStatus, RegistrationPolicy, StaticClientCreate
from switchboard.identity.principal import COMMAND_LINE, Principal
from switchboard.identity.roles import Role
from switchboard.identity.schemas import GroupCreate, GroupUpdate, UserCreate, UserOut, UserUpdate
from switchboard.identity.tables import OAuthClient
from switchboard.platform.core.errors import PermissionDenied
from tests.identity.support import PASSWORD

ADMINS_ONLY = "Only owners and admins can do this."
APP = {"client_name": "Sales app", "redirect_uris": ["https://app.example.com/cb"]}
REPORTS = StaticClientCreate(name="Reports", grant_types=["client_credentials"])


def acting_as(user: UserOut) -> Principal:
    return Principal(user_id=user.id, email=user.email, name=user.name, role=user.role, via="session")


async def refused_every_time(attempts: list[Callable[[], Awaitable[Any]]]) -> list[str]:
    """Each attempt's refusal, in order (an attempt that went through fails the test)."""
    messages = []
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            await attempt()
        messages.append(refused.value.message)
    return messages


async def test_a_member_is_refused_every_change_to_users_and_groups(
    services: IdentityServices, owner: UserOut, member: UserOut
) -> None:
    group = await services.groups.create(GroupCreate(name="Sales"), actor=COMMAND_LINE)
    await services.groups.add_member(group.id, owner.email, actor=COMMAND_LINE)
    acting = acting_as(member)
    users, groups = services.users, services.groups

    messages = await refused_every_time(
        [
            lambda: users.create(UserCreate(email="new@example.com", password=PASSWORD), actor=acting),
            lambda: users.update(owner.id, UserUpdate(name="Taken over"), actor=acting),
            lambda: users.reset_password(owner.id, "a-new-password-1", actor=acting),
            lambda: groups.create(GroupCreate(name="Mine"), actor=acting),
            lambda: groups.update(group.id, GroupUpdate(name="Ours"), actor=acting),
            lambda: groups.add_member(group.id, member.email, actor=acting),
            lambda: groups.remove_member(group.id, owner.email, actor=acting),
            lambda: groups.delete(group.id, actor=acting),
        ]
    )

    assert messages == [ADMINS_ONLY] * 8
    assert [(user.email, user.name) for user in await users.list_all()] == [
        ("member@example.com", "Member"),
        ("owner@example.com", "Owner"),
    ]
    assert [(g.name, [m.email for m in g.members]) for g in await groups.list_all()] == [
        ("Sales", ["owner@example.com"])
    ]
    signed_in = await services.sessions.sign_in(owner.email, PASSWORD, ip_address="127.0.0.1", user_agent="")
    assert signed_in.principal.user_id == owner.id


async def test_a_member_is_refused_every_change_to_oauth_clients(
    services: IdentityServices, member: UserOut
) -> None:
    clients = services.oauth.clients
    made = await clients.create_static(REPORTS, actor=COMMAND_LINE)
    pending, _, _ = await clients.register(APP)
    acting = acting_as(member)

    messages = await refused_every_time(
        [
            lambda: clients.create_static(msgspec.structs.replace(REPORTS, name="Mine"), actor=acting),
            lambda: clients.regenerate_secret(made.client.client_id, actor=acting),
            lambda: clients.set_policy(RegistrationPolicy.OPEN, actor=acting),
            lambda: clients.approve(pending.client_id, actor=acting),
            lambda: clients.refuse(pending.client_id, actor=acting),
            lambda: clients.delete(made.client.client_id, actor=acting),
        ]
    )

    assert messages == [ADMINS_ONLY] * 6
    assert sorted((client.name, client.status) for client in await clients.list_all()) == [
        ("Reports", ClientStatus.APPROVED),
        ("Sales app", ClientStatus.PENDING),
    ]
    assert await clients.policy() is RegistrationPolicy.ADMIN_APPROVAL


async def test_the_command_line_acts_as_an_owner_who_is_none_of_the_users(services: IdentityServices) -> None:
    first = await services.users.create(
        UserCreate(email="founder@example.com", password=PASSWORD, role=Role.OWNER), actor=COMMAND_LINE
    )
    second = await services.users.create(
        UserCreate(email="partner@example.com", password=PASSWORD, role=Role.OWNER), actor=COMMAND_LINE
    )
    session = await services.sessions.sign_in(second.email, PASSWORD, ip_address="127.0.0.1", user_agent="")

    demoted = await services.users.update(first.id, UserUpdate(role=Role.ADMIN), actor=COMMAND_LINE)
    await services.users.reset_password(second.id, "a-new-password-1", actor=COMMAND_LINE)

    assert (demoted.role, demoted.is_active) == (Role.ADMIN, True)
    # No session is the command line's own, so a reset ends every one of the user's sessions.
    assert await services.sessions.authenticate(session.cookie_value) is None


async def test_what_the_command_line_does_to_clients_names_no_person(services: IdentityServices) -> None:
    clients = services.oauth.clients
    made = await clients.create_static(REPORTS, actor=COMMAND_LINE)
    pending, _, _ = await clients.register(APP)

    approved = await clients.approve(pending.client_id, actor=COMMAND_LINE)
    await clients.set_policy(RegistrationPolicy.OPEN, actor=COMMAND_LINE)
    await clients.regenerate_secret(made.client.client_id, actor=COMMAND_LINE)
    await clients.delete(made.client.client_id, actor=COMMAND_LINE, reason="deleted from the command line")

    assert (approved.status, approved.approved_by) == (ClientStatus.APPROVED, None)
    rows = await OAuthClient.select(OAuthClient.name, OAuthClient.created_by, OAuthClient.approved_by)
    assert rows == [{"name": "Sales app", "created_by": None, "approved_by": None}]
    events = [
        (event.action, event.actor, event.reason)
        for event in reversed(await services.oauth.audit.recent())
        if event.action != "client.registered"
    ]
    assert events == [
        ("client.created", "", ""),
        ("client.approved", "", ""),
        ("policy.changed", "", "registration open"),
        ("client.secret_regenerated", "", ""),
        ("client.deleted", "", "deleted from the command line"),
    ]
