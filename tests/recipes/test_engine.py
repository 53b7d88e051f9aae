"""The recipe engine against the real connector stack: connections, grants and connect links of the app's
connector services, calling the fault provider (a third-party app that fails on request) or a local HTTP
server. A stub gateway appears only where the fault cannot be produced over HTTP (an unexpected error)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast
from uuid import UUID

import msgspec
import pytest

from switchboard.connectors.action_answers import ActionResult
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.calls import ActionCalls
from switchboard.connectors.connections.credentials import Caller
from switchboard.connectors.connections.errors import ConnectionRequired
from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.recipes.engine import RecipeEngine
from switchboard.recipes.gateway import ServicesGateway
from switchboard.recipes.model import Condition, ForEachStep, IfStep, Parameter, RecipeDefinition
from switchboard.recipes.outcomes import Outcome, RunCaller, RunReport
from switchboard.recipes.run_state import MAX_STEP_RECORDS
from switchboard.recipes.runs import RunStore
from switchboard.recipes.tables import RecipeRun
from tests.connectors.grant_support import connect
from tests.recipes.engine_support import (
    CountingStore,
    action,
    caller_of,
    demo_tasks_scope_refusal,
    end_user_connection,
    engine_for,
    recipe,
    recipe_row,
    result,
    shared_connection,
)
from tests.support.fake_github import LocalServer, json_reply
from tests.support.fault_provider import FaultProvider


@pytest.fixture
def api() -> Iterator[LocalServer]:
    """An app's API on 127.0.0.1 whose answers each test sets (``api.handler``)."""
    server = LocalServer(lambda request: json_reply(200, {"ok": True}))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def recipe_id(project: Project) -> UUID:
    return await recipe_row(project)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
async def connection(
    connectors: ConnectorServices, fake: FaultProvider, project: Project, builder: Principal
) -> Connection:
    return await end_user_connection(connectors, fake, project, builder)


@pytest.fixture
async def connected(connectors: ConnectorServices, connection: Connection, builder: Principal) -> Connection:
    """The builder has connected their own account to the end user's connection."""
    await connect(connectors, builder.user_id, connection.id)
    return connection


async def run(
    engine: RecipeEngine,
    recipe_id: UUID,
    definition: RecipeDefinition,
    caller: RunCaller,
    inputs: dict[str, Any] | None = None,
) -> RunReport:
    return await engine.run(
        recipe_id=recipe_id, version=1, definition=definition, inputs=inputs or {}, caller=caller, kind="tool"
    )


# --- data pills ------------------------------------------------------------------------------------------


async def test_single_pills_keep_types_and_a_callers_template_syntax_stays_text(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    store: CountingStore,
) -> None:
    definition = recipe(
        action("step_1", connected, "whoami"),
        result(
            "{{ input.title }} for {{ user.email }} ({{ input.count }})",
            structured={
                "count": "{{ input.count }}",
                "title": "{{ input.title }}",
                "tags": "{{ input.tags }}",
                "groups": "{{ user.groups }}",
                "me": "{{ steps.step_1 }}",
                "mixed": "n={{ input.count }}",
            },
        ),
        parameters=(
            Parameter(name="title", required=True),
            Parameter(name="count", type="integer"),
            Parameter(name="tags", type="array"),
        ),
    )
    inputs = {"title": "{{ 7*7 }}", "count": 3, "tags": ["a", "b"]}

    report = await run(
        engine_for(connectors, store), recipe_id, definition, caller_of(builder, "Sales"), inputs
    )

    assert report.outcome is Outcome.SUCCEEDED, report.message
    assert report.result is not None
    assert report.result.text == "{{ 7*7 }} for builder@example.com (3)"
    assert report.result.structured == {
        "count": 3,
        "title": "{{ 7*7 }}",
        "tags": ["a", "b"],
        "groups": ["Sales"],
        "me": {"sub": "alice@example.com", "email": "alice@example.com", "scope": "tasks:read tasks:write"},
        "mixed": "n=3",
    }
    assert [(step.number, step.step_id, step.status) for step in report.steps] == [
        ("1", "step_1", "succeeded"),
        ("2", "finish", "succeeded"),
    ]


async def test_text_from_a_template_becomes_the_type_the_action_input_wants(
    connectors: ConnectorServices, connected: Connection, builder: Principal, recipe_id: UUID
) -> None:
    engine = engine_for(connectors, None)
    touch = action(
        "step_1", connected, "touch", {"count": "{{ input.n }}0", "tags": '["x", "{{ input.n }}"]'}
    )
    number = (Parameter(name="n", type="integer"),)
    report = await run(
        engine, recipe_id, recipe(touch, result("ok"), parameters=number), caller_of(builder), {"n": 4}
    )
    assert report.outcome is Outcome.SUCCEEDED, report.message
    assert report.steps[0].input == {"count": 40, "tags": ["x", "4"]}

    wrong = action("step_1", connected, "touch", {"count": "{{ input.n }} apples"})
    report = await run(
        engine, recipe_id, recipe(wrong, result("ok"), parameters=number), caller_of(builder), {"n": 4}
    )
    assert report.outcome is Outcome.FAILED
    assert report.message == "Step 1 (Touch), inputs.count: '4 apples' is not an integer"
    assert [step.status for step in report.steps] == ["failed"]


async def test_a_template_error_names_the_step_and_the_field(
    connectors: ConnectorServices, connected: Connection, builder: Principal, recipe_id: UUID
) -> None:
    definition = recipe(
        action("step_1", connected, "touch", {"note": "{{ steps.nowhere.id }}"}), result("ok")
    )

    report = await run(engine_for(connectors, None), recipe_id, definition, caller_of(builder))

    assert report.outcome is Outcome.FAILED
    assert report.message.startswith("Step 1 (Touch), inputs.note: ")
    assert report.result is not None
    assert report.result.is_error
    assert report.result.text == report.message


async def test_input_is_checked_against_the_trigger_schema_before_any_step_runs(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    definition = recipe(
        action("step_1", connected, "whoami"),
        result("{{ input.title }} {{ input.priority }}"),
        parameters=(
            Parameter(name="title", required=True),
            Parameter(name="count", type="integer"),
            Parameter(name="priority", default="normal"),
        ),
    )
    store = CountingStore()
    engine = engine_for(connectors, store)

    refused = await run(engine, recipe_id, definition, caller_of(builder), {"count": "x"})
    fine = await run(engine, recipe_id, definition, caller_of(builder), {"title": "Hi"})

    assert refused.outcome is Outcome.FAILED
    assert refused.message == (
        "The input is not valid: 'title' is a required property; count: 'x' is not of type 'integer'"
    )
    assert refused.steps == ()
    assert fake.requests_to("api") == [fake.requests_to("api")[0]]  # only the second run called the app
    assert fine.result is not None
    assert fine.result.text == "Hi normal"
    assert fine.input == {"title": "Hi", "priority": "normal"}


# --- if and for each -------------------------------------------------------------------------------------


async def test_if_compares_numbers_numerically_and_runs_one_branch(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    definition = recipe(
        IfStep(
            id="big",
            conditions=(Condition(left="{{ input.amount }}", operator="greater_than", right="9"),),
            then=(result("big {{ input.amount }}", id="yes"),),
            otherwise=(result("small", id="no"),),
        ),
        parameters=(Parameter(name="amount", type="string"),),
    )
    engine = engine_for(connectors, None)

    big = await run(engine, recipe_id, definition, caller_of(builder), {"amount": "10"})
    small = await run(engine, recipe_id, definition, caller_of(builder), {"amount": "9"})

    assert big.result is not None
    assert big.result.text == "big 10"
    assert next((step.number, step.step_id, step.output) for step in big.steps) == ("1", "big", True)
    assert [step.step_id for step in big.steps] == ["big", "yes"]
    assert small.result is not None
    assert small.result.text == "small"
    assert [(step.number, step.step_id) for step in small.steps] == [("1", "big"), ("1.2", "no")]


CONDITIONS: list[tuple[str, Any, str, bool]] = [
    ('{{ ["a", "b"] }}', "contains", "b", True),
    ('{{ ["a", "b"] }}', "contains", "c", False),
    ('{{ {"k": 1} }}', "contains", "k", True),
    ("hello", "contains", "ell", True),
    ("hello", "not_contains", "ell", False),
    ("{{ 2 }}", "equals", "2.0", True),
    ("{{ true }}", "equals", "true", True),
    ("abc", "not_equals", "abd", True),
    ("{{ [] }}", "is_empty", "", True),
    ("{{ input.missing }}", "is_empty", "", True),
    ("x", "is_not_empty", "", True),
    ("{{ true }}", "is_true", "", True),
    ("no", "is_false", "", True),
    ("3", "less_than", "20", True),  # numbers, not text ("3" > "20" as text)
    ("10", "greater_than", "9", True),
    ("b", "greater_than", "a", True),
]


async def test_conditions_compare_as_their_operator_says(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    engine = engine_for(connectors, None)
    answers = []
    for left, operator, right, _ in CONDITIONS:
        definition = recipe(
            IfStep(id="check", conditions=(Condition(left=left, operator=operator, right=right),)),
            result("{{ steps.check }}"),
            parameters=(Parameter(name="missing"),),
        )
        report = await run(engine, recipe_id, definition, caller_of(builder))
        assert report.result is not None, report.message
        answers.append(report.result.text)
    assert answers == ["true" if holds else "false" for *_, holds in CONDITIONS]


async def test_any_of_the_conditions_may_hold_when_the_step_says_so(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    conditions = (Condition(left="a", right="b"), Condition(left="c", right="c"))
    engine = engine_for(connectors, None)
    answers = []
    for match in ("all", "any"):
        definition = recipe(
            IfStep(id="check", conditions=conditions, match=match), result("{{ steps.check }}")
        )
        report = await run(engine, recipe_id, definition, caller_of(builder))
        assert report.result is not None
        answers.append(report.result.text)
    assert answers == ["false", "true"]


async def test_for_each_runs_its_steps_per_item_and_gives_the_last_steps_outputs(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    definition = recipe(
        ForEachStep(
            id="each",
            items="{{ input.names }}",
            as_name="name",
            steps=(
                action("call", connected, "touch", {"note": "{{ loop.index }}/{{ loop.length }} {{ name }}"}),
                IfStep(
                    id="first",
                    conditions=(Condition(left="{{ loop.first }}", operator="is_true"),),
                ),
            ),
        ),
        result(structured_from="{{ steps.each }}"),
        parameters=(Parameter(name="names", type="array"),),
    )

    report = await run(
        engine_for(connectors, None), recipe_id, definition, caller_of(builder), {"names": ["ann", "bo"]}
    )

    assert report.outcome is Outcome.SUCCEEDED, report.message
    assert report.result is not None
    assert report.result.structured == [True, False]
    assert [(step.number, step.input) for step in report.steps if step.step_id == "call"] == [
        ("1.1", {"note": "1/2 ann"}),
        ("1.1", {"note": "2/2 bo"}),
    ]
    assert len(fake.requests_to("api")) == 2
    assert report.steps[0].step_id == "each"  # listed where it started, before its body


async def test_a_long_for_each_keeps_its_first_step_records_and_counts_the_rest(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    store = CountingStore()
    engine = engine_for(connectors, store)
    loop = ForEachStep(
        id="each",
        items="{{ input.rows }}",
        as_name="row",
        max_items=1000,
        steps=(IfStep(id="check", conditions=(Condition(left="{{ row.size }}", operator="is_not_empty"),)),),
    )
    definition = recipe(
        loop, result("ok"), parameters=(Parameter(name="rows", type="array", items="object"),)
    )
    rows: list[Any] = [{"size": n} for n in range(600)]

    done = await run(engine, recipe_id, definition, caller_of(builder), {"rows": rows})
    # The last item has no size: its step fails, and its record is kept past the limit.
    failed = await run(engine, recipe_id, definition, caller_of(builder), {"rows": [*rows[:-1], {}]})

    assert done.outcome is Outcome.SUCCEEDED, done.message
    assert (len(done.steps), done.steps_omitted) == (MAX_STEP_RECORDS, 1 + 600 + 1 - MAX_STEP_RECORDS)
    assert failed.outcome is Outcome.FAILED
    assert failed.message.startswith("Step 1.1 (")
    assert [(step.step_id, step.status) for step in failed.steps[-1:]] == [("check", "failed")]
    assert failed.steps[0].status == "failed"  # the for-each, recorded first, stopped with it
    assert failed.steps_omitted == 600 - MAX_STEP_RECORDS
    stored = await RunStore().get(done.id)
    assert (len(stored.steps), stored.steps_omitted) == (MAX_STEP_RECORDS, done.steps_omitted)
    assert len(store.saved) == 2
    # Input with a problem per item: the message names the first few and counts the rest.
    refused = await run(engine, recipe_id, definition, caller_of(builder), {"rows": list(range(600))})
    assert refused.message.endswith("rows.4: 4 is not of type 'object'; and 595 more")


async def test_for_each_refuses_what_is_not_a_list_and_more_items_than_its_limit(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    engine = engine_for(connectors, None)
    loop = ForEachStep(id="each", title="Each name", items="{{ input.names }}", max_items=2)
    definition = recipe(
        loop, result("ok"), parameters=(Parameter(name="names", type="array", items="integer"),)
    )
    text = recipe(
        ForEachStep(id="each", title="Each name", items="{{ input.name }}"),
        result("ok"),
        parameters=(Parameter(name="name"),),
    )

    too_many = await run(engine, recipe_id, definition, caller_of(builder), {"names": [1, 2, 3]})
    not_a_list = await run(engine, recipe_id, text, caller_of(builder), {"name": "ann"})

    assert too_many.message == "Step 1 (Each name), items: 3 items, more than the limit of 2"
    assert not_a_list.message == "Step 1 (Each name), items: expected a list, got text ('ann')"


async def test_a_result_inside_a_branch_ends_the_run(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    definition = recipe(
        IfStep(id="early", conditions=(Condition(left="x", right="x"),), then=(result("early", id="stop"),)),
        action("later", connected, "whoami"),
        result("late"),
    )
    report = await run(engine_for(connectors, None), recipe_id, definition, caller_of(builder))
    assert report.result is not None
    assert report.result.text == "early"
    assert [step.step_id for step in report.steps] == ["early", "stop"]
    assert fake.requests_to("api") == []


async def test_a_structured_result_is_checked_against_the_output_schema(
    connectors: ConnectorServices, builder: Principal, recipe_id: UUID
) -> None:
    schema = {
        "type": "object",
        "properties": {"count": {"type": "integer"}, "title": {"type": "string"}},
        "required": ["count"],
    }

    def definition(count: str) -> RecipeDefinition:
        return recipe(
            result("done", title="Answer", structured={"count": count, "title": "{{ input.title }}"}),
            parameters=(Parameter(name="title"), Parameter(name="n", type="integer")),
            output_schema=schema,
        )

    engine = engine_for(connectors, None)
    good = await run(
        engine, recipe_id, definition("{{ input.n }}"), caller_of(builder), {"title": "t", "n": 2}
    )
    bad = await run(
        engine, recipe_id, definition("{{ input.n }}x"), caller_of(builder), {"title": "t", "n": 2}
    )

    assert good.outcome is Outcome.SUCCEEDED
    assert good.result is not None
    assert good.result.structured == {"count": 2, "title": "t"}
    assert bad.outcome is Outcome.FAILED
    assert bad.message == (
        "Step 1 (Answer), structured: the result does not match the tool's output schema: "
        "count: '2x' is not of type 'integer'"
    )


# --- failures of the app ---------------------------------------------------------------------------------


async def test_a_get_is_retried_after_5xx_and_a_post_is_not(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    engine = engine_for(connectors, None)
    fake.fail("api", "status_503", times=2)
    read = await run(
        engine, recipe_id, recipe(action("step_1", connected, "whoami"), result("ok")), caller_of(builder)
    )
    assert read.outcome is Outcome.SUCCEEDED, read.message
    assert read.steps[0].attempts == 3
    assert len(fake.requests_to("api")) == 3

    fake.requests.clear()
    fake.fail("api", "status_500", times=1)
    write = await run(
        engine, recipe_id, recipe(action("step_1", connected, "touch"), result("ok")), caller_of(builder)
    )
    assert write.outcome is Outcome.FAILED
    assert write.message == "Step 1 (Touch): Test App answered 500; try again later."
    assert (write.steps[0].attempts, len(fake.requests_to("api"))) == (1, 1)

    fake.requests.clear()
    fake.fail("api", "status_500", times=1)
    marked = action("step_1", connected, "touch", idempotent=True)
    again = await run(engine, recipe_id, recipe(marked, result("ok")), caller_of(builder))
    assert again.outcome is Outcome.SUCCEEDED, again.message
    assert again.steps[0].attempts == 2


async def test_retries_stop_after_the_last_delay(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    fake.fail("api", "status_503")
    report = await run(
        engine_for(connectors, None, retry_delays=(0.01,)),
        recipe_id,
        recipe(action("step_1", connected, "whoami", title="Read"), result("ok")),
        caller_of(builder),
    )
    assert report.message == "Step 1 (Read): Test App answered 503; try again later."
    assert report.steps[0].attempts == 2


async def test_a_step_over_its_time_limit_fails_and_only_a_safe_one_is_retried(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    engine = engine_for(connectors, None)
    fake.fail("api", "timeout", times=1)
    write = await run(
        engine,
        recipe_id,
        recipe(action("step_1", connected, "touch", timeout_seconds=0.3), result("ok")),
        caller_of(builder),
    )
    assert write.outcome is Outcome.FAILED
    assert write.message == "Step 1 (Touch): Test App did not answer within 0.3 s"
    assert write.steps[0].attempts == 1

    fake.fail("api", "timeout", times=1)
    read = await run(
        engine,
        recipe_id,
        recipe(action("step_1", connected, "whoami", timeout_seconds=0.3), result("ok")),
        caller_of(builder),
    )
    assert read.outcome is Outcome.SUCCEEDED, read.message
    assert read.steps[0].attempts == 2


async def test_the_run_stops_at_its_deadline(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    store = CountingStore()
    fake.fail("api", "timeout")
    report = await run(
        engine_for(connectors, store, deadline=0.4),
        recipe_id,
        recipe(action("step_1", connected, "whoami", title="Read"), result("ok")),
        caller_of(builder),
    )
    assert report.outcome is Outcome.TIMED_OUT
    assert (
        report.message == "The run took longer than its deadline of 0.4 s; it was stopped at step 1 (Read)."
    )
    assert 400 <= report.duration_ms < 2000
    assert [step.status for step in report.steps] == ["timed_out"]
    assert [saved.outcome for saved in store.saved] == [Outcome.TIMED_OUT]


async def test_a_cancelled_run_is_recorded_and_the_cancellation_goes_on(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    store = CountingStore()
    fake.fail("api", "timeout")
    definition = recipe(action("step_1", connected, "whoami", title="Read"), result("ok"))
    task = asyncio.create_task(run(engine_for(connectors, store), recipe_id, definition, caller_of(builder)))
    for _ in range(500):  # until the app has the request
        if fake.requests_to("api"):
            break
        await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert [saved.outcome for saved in store.saved] == [Outcome.CANCELLED]
    stored = await RunStore().get(store.saved[0].id)
    assert (stored.outcome, stored.message) == (Outcome.CANCELLED, "The run was cancelled at step 1 (Read).")
    assert [step.status for step in stored.steps] == ["cancelled"]


# --- connections -----------------------------------------------------------------------------------------


async def test_a_caller_without_a_grant_gets_their_connect_link(
    connectors: ConnectorServices,
    connection: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    report = await run(
        engine_for(connectors, None),
        recipe_id,
        recipe(action("step_1", connection, "whoami"), result("ok")),
        caller_of(builder),
    )
    assert report.outcome is Outcome.CONNECTION_REQUIRED
    assert report.connect_url.startswith("http://testserver.local/connect/")
    assert (report.app_name, report.connection_name) == ("Test App", "Test App")
    assert report.message == (
        f"This tool needs your Test App account. Open {report.connect_url} to connect it "
        "(the link works once, for 10 minutes), then try again."
    )
    assert report.result is not None
    assert report.result.is_error
    assert [step.status for step in report.steps] == ["connection_required"]
    assert fake.requests_to("api") == []


async def test_an_end_users_connection_refuses_a_run_without_a_user(
    connectors: ConnectorServices, connected: Connection, recipe_id: UUID
) -> None:
    report = await run(
        engine_for(connectors, None),
        recipe_id,
        recipe(action("step_1", connected, "whoami", title="Read"), result("ok")),
        RunCaller(user_id=None),
    )
    assert report.outcome is Outcome.FAILED
    assert report.message == (
        "Step 1 (Read): Test App uses each end user's own Test App account, "
        "and this call has no signed-in user."
    )


async def test_a_refused_token_marks_the_grant_for_reconnecting_and_answers_with_a_link(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    fake.fail("api", "invalid_token")
    report = await run(
        engine_for(connectors, None),
        recipe_id,
        recipe(action("step_1", connected, "whoami"), result("ok")),
        caller_of(builder),
    )
    assert report.outcome is Outcome.CONNECTION_REQUIRED
    assert report.connect_url.startswith("http://testserver.local/connect/")
    assert f"Open {report.connect_url} to reconnect it" in report.message
    with pytest.raises(ConnectionRequired) as later:
        await connectors.credentials.request_auth(connected.id, caller=_caller(builder))
    assert later.value.reason == "needs_reconnect"


async def test_a_missing_scope_says_which_and_how_to_fix_it(
    connectors: ConnectorServices,
    fake: FaultProvider,
    project: Project,
    builder: Principal,
    recipe_id: UUID,
    api: LocalServer,
) -> None:
    api.handler = demo_tasks_scope_refusal("tasks:write")
    mine = await end_user_connection(connectors, fake, project, builder, api=api.url())
    await connect(connectors, builder.user_id, mine.id)
    shared = await shared_connection(connectors, project, builder, api=api.url())
    engine = engine_for(connectors, None)

    own = await run(
        engine, recipe_id, recipe(action("step_1", mine, "create_task"), result("ok")), caller_of(builder)
    )
    common = await run(
        engine, recipe_id, recipe(action("step_1", shared, "create_task"), result("ok")), caller_of(builder)
    )

    assert own.outcome is Outcome.FAILED
    assert own.message == (
        "Step 1 (Create a task): Test App answered 403: the connected account lacks tasks:write; "
        "reconnect with that scope"
    )
    assert common.message == (
        "Step 1 (Create a task): Shared App answered 403: the connected account lacks tasks:write; "
        "give the connection that scope"
    )
    assert [request.headers["authorization"] for request in api.requests][1] == (
        "Bearer shared-bearer-token-0123456789"
    )


async def test_a_shared_connections_refused_credentials_fail_the_step(
    connectors: ConnectorServices, project: Project, builder: Principal, recipe_id: UUID, api: LocalServer
) -> None:
    api.handler = lambda request: json_reply(401, {"message": "Bad credentials"})
    shared = await shared_connection(connectors, project, builder, api=api.url())
    report = await run(
        engine_for(connectors, None),
        recipe_id,
        recipe(action("step_1", shared, "whoami"), result("ok")),
        caller_of(builder),
    )
    assert report.outcome is Outcome.FAILED
    assert report.message == (
        "Step 1 (Who am I): Shared App answered 401: Bad credentials. The credentials were refused: "
        "reconnect the account or check the connection."
    )


# --- records ---------------------------------------------------------------------------------------------


async def test_every_run_is_saved_once_with_secrets_masked_in_the_store_only(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    fake: FaultProvider,
) -> None:
    store = CountingStore()
    engine = engine_for(connectors, store)
    definition = recipe(
        action("step_1", connected, "touch", {"note": "{{ input.api_token }}"}),
        result("ok", structured={"token": "{{ input.api_token }}", "n": "{{ input.n }}"}),
        parameters=(Parameter(name="api_token"), Parameter(name="n", type="integer")),
    )
    secret = "sk-live-0123456789abcdef"

    report = await run(engine, recipe_id, definition, caller_of(builder), {"api_token": secret, "n": 1})
    fake.fail("api", "status_500")
    failed = await run(engine, recipe_id, definition, caller_of(builder), {"api_token": secret, "n": 1})
    refused = await run(engine, recipe_id, definition, caller_of(builder), {"n": "x"})

    assert [saved.id for saved in store.saved] == [report.id, failed.id, refused.id]
    assert await RecipeRun.count() == 3
    assert report.result is not None
    assert report.result.structured == {"token": secret, "n": 1}
    stored = await RunStore().get(report.id)
    assert stored.input == {"api_token": "••••••", "n": 1}
    assert stored.result is not None
    assert stored.result.structured == {"token": "••••••", "n": 1}
    assert secret not in str(await RecipeRun.select())
    assert [(step.step_id, step.input) for step in stored.steps] == [
        ("step_1", {"note": "••••••"}),  # under no secret key, but the value of one
        ("finish", None),
    ]
    assert next(step.input for step in report.steps) == {"note": secret}


class _FaultyRunner:
    """Stands for the action runner where a fault cannot be caused over HTTP."""

    def __init__(self, run: Callable[..., Awaitable[ActionResult]]) -> None:
        self.run = run


def _gateway(connectors: ConnectorServices, runner: _FaultyRunner) -> ServicesGateway:
    """The real connector services, with ``runner`` in place of the action runner."""
    services = msgspec.structs.replace(
        connectors,
        calls=ActionCalls(
            connections=connectors.connections,
            credentials=connectors.credentials,
            grants=connectors.grants,
            runner=cast("ActionRunner", runner),
        ),
    )
    return ServicesGateway(services)


async def _explodes(*args: Any) -> ActionResult:
    """An error no code expects: that cannot be caused over HTTP."""
    raise RuntimeError("database exploded: password=hunter2")


async def test_an_unexpected_error_is_logged_and_named_by_run_without_details(
    connectors: ConnectorServices,
    connected: Connection,
    builder: Principal,
    recipe_id: UUID,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = RecipeEngine(connectors=_gateway(connectors, _FaultyRunner(_explodes)), store=None)
    with caplog.at_level(logging.ERROR, logger="switchboard.recipes"):
        report = await run(
            engine,
            recipe_id,
            recipe(action("step_1", connected, "whoami", title="Read"), result("ok")),
            caller_of(builder),
        )
    assert report.outcome is Outcome.FAILED
    assert report.message == f"Step 1 (Read) failed unexpectedly; see the server log (run {report.id})"
    assert "hunter2" not in report.message
    assert str(report.id) in caplog.text
    assert "database exploded" in caplog.text


def _caller(principal: Principal) -> Caller:
    return Caller(principal.user_id, principal.email)


async def _asks_for_more(*args: Any) -> ActionResult:
    """Refused for a missing scope, as a remote MCP server's 403 would be: the runner asks its
    ``reauthorize`` for a token with that scope too."""
    reauthorize = args[4]
    await reauthorize(("tasks:write",))
    raise AssertionError("a step-up of a person's grant needs them to consent first")


async def test_a_step_up_that_needs_the_persons_consent_ends_the_run_with_their_link(
    connectors: ConnectorServices, connected: Connection, builder: Principal, recipe_id: UUID
) -> None:
    engine = RecipeEngine(connectors=_gateway(connectors, _FaultyRunner(_asks_for_more)), store=None)

    report = await run(
        engine,
        recipe_id,
        recipe(action("step_1", connected, "whoami", title="Read"), result("ok")),
        caller_of(builder),
    )

    assert report.outcome is Outcome.CONNECTION_REQUIRED
    assert [step.status for step in report.steps] == ["connection_required"]
    assert report.message == (
        f"This tool needs more access to your Test App account (tasks:write). Open {report.connect_url} to "
        "allow it (the link works once, for 10 minutes), then try again."
    )
    described = await connectors.connect.describe_link(report.connect_url.rsplit("/", 1)[1], builder.user_id)
    assert described.scopes == ("tasks:read", "tasks:write")
