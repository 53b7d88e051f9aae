"""Demo Tasks accounts: the demo e-mails, argon2id passwords, checking a sign-in, and the accounts of the
people of the Switchboard that mounts it.

Demo Tasks keeps its own hasher (it imports nothing from Switchboard's identity layer). Hashing takes a
deliberate fraction of a second of CPU, so it runs in a worker thread.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from switchboard.platform.core.database import is_unique_violation
from switchboard.platform.demo_tasks.tables import Account

DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - the documented demo password
DEMO_ACCOUNTS = (
    ("admin@example.com", "Ada Admin"),
    ("alice@example.com", "Alice Anders"),
    ("bob@example.com", "Bob Berg"),
)

_hasher = PasswordHasher()
# Checked when the e-mail is unknown, so that a refusal takes as long either way.
_DUMMY_HASH = _hasher.hash("demo-tasks-timing-equaliser")


class AccountInfo(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(email: str, password: str) -> AccountInfo | None:
    """The account for this e-mail and password, or None (the same answer for an unknown e-mail)."""
    row = await Account.select().where(Account.email == email.strip().lower()).first()
    stored = row["password_hash"] if row else None
    if not await to_thread.run_sync(_verify, stored, password) or row is None:
        return None
    return AccountInfo(id=row["id"], email=row["email"], name=row["name"])


async def find(account_id: UUID) -> AccountInfo | None:
    row = (
        await Account.select(Account.id, Account.email, Account.name).where(Account.id == account_id).first()
    )
    return AccountInfo(id=row["id"], email=row["email"], name=row["name"]) if row else None


async def create_account(email: str, password: str, name: str = "") -> AccountInfo:
    password_hash = await to_thread.run_sync(_hasher.hash, password)
    account = Account(email=email.strip().lower(), name=name, password_hash=password_hash)
    await account.save()
    return AccountInfo(id=account.id, email=account.email, name=account.name)


async def provision(*, email: str, name: str, password_hash: str) -> None:
    """Give ``email`` an account opened by the password behind ``password_hash`` (argon2id, as Switchboard
    stores it): a new account, or the existing one's password replaced.

    Mounted in Switchboard, Demo Tasks keeps an account for every person there, with their own password,
    as a company's apps get an account for each employee from the company's directory. The hash is taken
    as it is (an argon2 hash carries its own parameters): a password is hashed once, by Switchboard.
    """
    email = email.strip().lower()
    changed = Account.update({Account.password_hash: password_hash}).where(Account.email == email)
    if await Account.exists().where(Account.email == email):
        await changed
        return
    try:
        await Account(email=email, name=name, password_hash=password_hash).save()
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        await changed  # created by another process in the meantime


async def seed_accounts() -> list[str]:
    """Create the demo accounts that are missing (safe to run again); returns the e-mails created."""
    created: list[str] = []
    for email, name in DEMO_ACCOUNTS:
        if await Account.exists().where(Account.email == email):
            continue
        try:
            await create_account(email, DEMO_PASSWORD, name)
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            continue  # another process seeded it in the meantime
        created.append(email)
    return created
