"""An action step's Account: which of the caller's accounts an end user's connection uses. Only such a
connection has accounts to choose from, and a pill in it must be one the step can see."""

from __future__ import annotations

from uuid import uuid4

import msgspec

from switchboard.connectors.connections.models import Mode
from switchboard.recipes.model import Parameter
from tests.recipes.validation_support import create_task, finish, memory_connection, recipe, validator, where

PROJECT = uuid4()
TITLE = Parameter(name="title", required=True)
ACCOUNT = Parameter(name="account")


async def test_an_end_users_connection_step_may_name_the_account_by_text_or_by_the_tools_input() -> None:
    tasks = memory_connection(PROJECT)
    definition = recipe(
        create_task("step_1", tasks, account="work"),
        create_task("step_2", tasks, account="{{ input.account }}"),
        finish(),
        parameters=(TITLE, ACCOUNT),
    )

    assert where(await validator(tasks).check(definition, project_id=PROJECT)) == []


async def test_a_shared_connections_step_has_no_account_to_choose() -> None:
    shared = msgspec.structs.replace(memory_connection(PROJECT), mode=Mode.SHARED)
    definition = recipe(create_task("step_1", shared, account="work"), finish(), parameters=(TITLE,))

    assert where(await validator(shared).check(definition, project_id=PROJECT)) == [
        ("1", "account", "only an end user's connection has accounts to choose from: leave Account empty")
    ]


async def test_an_account_pill_must_be_one_the_step_can_see() -> None:
    tasks = memory_connection(PROJECT)
    definition = recipe(
        create_task("step_1", tasks, account="{{ input.who }}"), finish(), parameters=(TITLE,)
    )

    problems = where(await validator(tasks).check(definition, project_id=PROJECT))
    assert [(step, field) for step, field, _ in problems] == [("1", "account")]
