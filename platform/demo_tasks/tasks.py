"""Each account's own task list."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.demo_tasks.tables import Task

MAX_TITLE = 200


class TaskOut(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    done: bool
    created_at: datetime


def _out(row: dict[str, Any]) -> TaskOut:
    return TaskOut(id=row["id"], title=row["title"], done=row["done"], created_at=row["created_at"])


async def list_tasks(account_id: UUID) -> list[TaskOut]:
    """The account's tasks, oldest first."""
    rows = (
        await Task.select(Task.id, Task.title, Task.done, Task.created_at)
        .where(Task.account == account_id)
        .order_by(Task.created_at)
        .order_by(Task.id)
    )
    return [_out(row) for row in rows]


def checked_title(title: object) -> str:
    if not isinstance(title, str):
        raise InvalidInput(f"The title must be a text of 1 to {MAX_TITLE} characters.", field="title")
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput(
            f"The title must be 1 to {MAX_TITLE} characters long (it has {len(title)}).", field="title"
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in title):
        raise InvalidInput("The title must be one line, without control characters.", field="title")
    return title


async def create_task(account_id: UUID, title: object) -> TaskOut:
    task = Task(account=account_id, title=checked_title(title))
    await task.save()
    return TaskOut(id=task.id, title=task.title, done=task.done, created_at=task.created_at)
