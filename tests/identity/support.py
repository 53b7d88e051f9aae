"""Helpers for the identity tests: users made through the services, signed-in API clients, answers."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.identity.schemas import UserCreate, UserOut
from tests.support.actors import SETUP
from tests.support.web import Browserless

PASSWORD = "correct-horse-battery"
WRONG_CREDENTIALS = "Wrong e-mail or password."
SIGN_IN_REQUIRED = {"error": "not_authenticated", "message": "Sign in to continue."}
ADMINS_ONLY = {"error": "permission_denied", "message": "Only owners and admins can open this."}

_LOGIN_ERROR = re.compile(r'<p role="alert" class="form-error" id="login-error">(.*?)</p>', re.S)
_EMAIL_INPUT = re.compile(r'<input id="email" name="email"[^>]*? value="([^"]*)"')


async def make_user(
    services: IdentityServices, email: str, role: Role = Role.MEMBER, *, password: str = PASSWORD
) -> UserOut:
    """A user created by the operator, as the CLI does."""
    name = email.split("@")[0].title()
    return await services.users.create(
        UserCreate(email=email, password=password, role=role, name=name), actor=SETUP
    )


async def signed_in(browser: Browserless, email: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """Sign ``browser`` in; its client then sends the CSRF header on API changes, as console scripts do."""
    response = await browser.sign_in(email, password)
    assert response.status_code == 303, f"sign-in as {email} failed: {response.status_code}"
    browser.client.headers.update(browser.api_headers())
    return browser.client


def answer(response: httpx.Response) -> tuple[int, Any]:
    """Status and JSON body together, so that one assertion shows both when it fails."""
    return response.status_code, response.json()


def error(status: int, code: str, message: str, field: str | None = None) -> tuple[int, dict[str, str]]:
    """The answer an API error should be."""
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return status, body


def login_error(page: str) -> str | None:
    """The error shown on the sign-in page, as a person reads it."""
    match = _LOGIN_ERROR.search(page)
    return html.unescape(match.group(1)) if match else None


def email_field_value(page: str) -> str:
    match = _EMAIL_INPUT.search(page)
    assert match, "the sign-in page has no e-mail input"
    return html.unescape(match.group(1))
