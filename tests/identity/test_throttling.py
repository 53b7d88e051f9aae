"""Sign-in throttling: repeated failures lock the account, or the address, for a while."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from switchboard.identity.deps import IdentityServices
from switchboard.identity.schemas import UserOut
from switchboard.identity.tables import LoginSession, SignInThrottle
from switchboard.platform.core.errors import NotAuthenticated, Throttled
from switchboard.platform.core.settings import Settings
from tests.identity.conftest import OpenBrowser
from tests.identity.support import PASSWORD, WRONG_CREDENTIALS, email_field_value, login_error
from tests.support.web import Browserless

pytestmark = pytest.mark.both_engines

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 5
LOCKED_FOR_TWO_MINUTES = "Too many failed sign-in attempts. Try again in 2 minutes."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        login_max_failures_per_account=ACCOUNT_LIMIT,
        login_max_failures_per_ip=ADDRESS_LIMIT,
        login_lockout_minutes=2,
    )


async def fail(browser: Browserless, email: str, times: int) -> None:
    for _ in range(times):
        response = await browser.sign_in(email, "not-the-password")
        assert (response.status_code, login_error(response.text)) == (401, WRONG_CREDENTIALS)


async def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(
    member: UserOut, web: Browserless
) -> None:
    await fail(web, member.email, ACCOUNT_LIMIT)

    response = await web.sign_in(member.email, PASSWORD)

    assert response.status_code == 429
    assert login_error(response.text) == LOCKED_FOR_TWO_MINUTES
    assert email_field_value(response.text) == member.email
    assert 60 < int(response.headers["retry-after"]) <= 120
    assert await LoginSession.count() == 0


async def test_the_account_lock_holds_from_every_address_and_whatever_the_e_mail_case(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    await fail(await open_browser("10.0.0.1"), "Member@Example.com", 1)
    await fail(await open_browser("10.0.0.2"), "MEMBER@EXAMPLE.COM", ACCOUNT_LIMIT - 1)

    response = await (await open_browser("10.0.0.3")).sign_in(member.email, PASSWORD)

    assert (response.status_code, login_error(response.text)) == (429, LOCKED_FOR_TWO_MINUTES)


async def test_a_locked_account_does_not_lock_out_other_people_at_the_same_address(
    member: UserOut, admin: UserOut, web: Browserless
) -> None:
    await fail(web, member.email, ACCOUNT_LIMIT)
    for _ in range(ADDRESS_LIMIT):  # refused attempts check no password, so they are no failures
        assert (await web.sign_in(member.email, PASSWORD)).status_code == 429

    response = await web.sign_in(admin.email, PASSWORD)

    assert response.status_code == 303


async def test_too_many_failures_from_one_address_lock_it_for_every_account(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    attacker = await open_browser("10.0.0.66")
    for number in range(ADDRESS_LIMIT):
        await fail(attacker, f"guess{number}@example.com", 1)

    refused = await attacker.sign_in(member.email, PASSWORD)
    elsewhere = await (await open_browser("10.0.0.67")).sign_in(member.email, PASSWORD)

    assert (refused.status_code, login_error(refused.text)) == (429, LOCKED_FOR_TWO_MINUTES)
    assert elsewhere.status_code == 303


async def test_a_successful_sign_in_clears_the_accounts_failures(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    first, second = await open_browser(), await open_browser()
    await fail(first, member.email, ACCOUNT_LIMIT - 1)
    assert (await first.sign_in(member.email, PASSWORD)).status_code == 303
    await fail(second, member.email, ACCOUNT_LIMIT - 1)

    response = await second.sign_in(member.email, PASSWORD)

    assert response.status_code == 303


async def test_once_the_lockout_has_passed_the_right_password_works_again(
    member: UserOut, web: Browserless
) -> None:
    await fail(web, member.email, ACCOUNT_LIMIT)
    now = datetime.now(UTC)
    await SignInThrottle.update(
        {
            SignInThrottle.window_started_at: now - timedelta(minutes=3),
            SignInThrottle.locked_until: now - timedelta(seconds=1),
        },
        force=True,
    )

    response = await web.sign_in(member.email, PASSWORD)

    assert response.status_code == 303


async def test_with_less_than_a_minute_left_the_wait_reads_one_minute(
    member: UserOut, web: Browserless
) -> None:
    await fail(web, member.email, ACCOUNT_LIMIT)
    await SignInThrottle.update(
        {SignInThrottle.locked_until: datetime.now(UTC) + timedelta(seconds=30)}
    ).where(SignInThrottle.key == f"account:{member.email}")

    response = await web.sign_in(member.email, PASSWORD)

    assert response.status_code == 429
    assert login_error(response.text) == "Too many failed sign-in attempts. Try again in 1 minute."
    assert 0 < int(response.headers["retry-after"]) <= 30


async def guesses_in_parallel(services: IdentityServices, attempts: list[tuple[str, str]]) -> list[str]:
    """Wrong passwords for (e-mail, address) pairs, all at once, as a script would send them."""

    async def guess(email: str, ip_address: str) -> str:
        try:
            await services.sessions.sign_in(email, "a-guess", ip_address=ip_address, user_agent="script")
        except (NotAuthenticated, Throttled) as exc:
            return "checked" if isinstance(exc, NotAuthenticated) else "throttled"
        return "signed in"

    return sorted(await asyncio.gather(*(guess(email, ip_address) for email, ip_address in attempts)))


async def test_parallel_guesses_at_one_account_get_no_more_tries_than_the_limit(
    services: IdentityServices, member: UserOut
) -> None:
    attempts = [(member.email, f"10.0.1.{number}") for number in range(10)]

    outcomes = await guesses_in_parallel(services, attempts)

    assert outcomes == ["checked"] * ACCOUNT_LIMIT + ["throttled"] * (10 - ACCOUNT_LIMIT)
    with pytest.raises(Throttled):
        await services.sessions.sign_in(member.email, PASSWORD, ip_address="10.0.2.1", user_agent="")


async def test_parallel_guesses_from_one_address_get_no_more_tries_than_the_limit(
    services: IdentityServices,
) -> None:
    attempts = [(f"guess{number}@example.com", "10.0.1.1") for number in range(10)]

    outcomes = await guesses_in_parallel(services, attempts)

    assert outcomes == ["checked"] * ADDRESS_LIMIT + ["throttled"] * (10 - ADDRESS_LIMIT)


async def test_successful_sign_ins_do_not_use_up_the_addresses_attempts(
    member: UserOut, open_browser: OpenBrowser
) -> None:
    for _ in range(ADDRESS_LIMIT + 1):
        response = await (await open_browser("10.0.0.5")).sign_in(member.email, PASSWORD)
        assert response.status_code == 303
    for number in range(ADDRESS_LIMIT - 1):
        await fail(await open_browser("10.0.0.5"), f"guess{number}@example.com", 1)

    response = await (await open_browser("10.0.0.5")).sign_in(member.email, PASSWORD)

    assert response.status_code == 303
