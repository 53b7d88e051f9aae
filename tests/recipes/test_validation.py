"""Problems on save and publish: each names its step, its field and what to do; the pill picker."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from switchboard.connectors.connections.models import Connection, Project
from switchboard.connectors.deps import ConnectorServices
from switchboard.identity.principal import Principal
from switchboard.platform.demo import _demo_recipes
from switchboard.recipes.model import (
    ActionStep,
    Condition,
    ConnectionRef,
    ForEachStep,
    IfStep,
    Parameter,
    RecipeDefinition,
    ResultStep,
)
from switchboard.recipes.validation import PillOption, RecipeValidator, available_pills
from tests.recipes.conftest import demo_tasks_connection
from tests.recipes.validation_support import (
    Catalog,
    MemoryConnections,
    create_task,
    finish,
    memory_connection,
    recipe,
    ref,
    stats,
    validator,
    where,
)

PROJECT = uuid4()
TITLE = Parameter(name="title", required=True)
COUNT = Parameter(name="count", type="integer")


@pytest.fixture
def tasks() -> Connection:
    return memory_connection(PROJECT)


async def problems_of(definition: RecipeDefinition, *connections: Connection) -> list[tuple[str, str, str]]:
    return where(await validator(*connections).check(definition, project_id=PROJECT))


# --- a correct recipe ------------------------------------------------------------------------------------


async def test_a_correct_recipe_has_no_problems(tasks: Connection) -> None:
    definition = recipe(
        create_task("step_1", tasks),
        stats("step_2", limit="{{ input.count }}", ratio="{{ input.count }}", label="{{ input.count }}"),
        IfStep(
            id="step_3",
            conditions=(
                Condition(
                    left="{{ steps.step_2.total }}", operator="greater_than", right="{{ input.count }}"
                ),
                Condition(left="{{ user.groups }}", operator="is_not_empty"),
            ),
            then=(stats("step_4", limit="5", exact="true", filter='{"a": 1}', fields='["x"]'),),
            otherwise=(finish("None for {{ user.email }}", step_id="step_5"),),
        ),
        ForEachStep(
            id="step_6",
            items="{{ input.tags }}",
            as_name="tag",
            steps=(
                create_task(
                    "step_7", tasks, "{{ loop.index }}. {{ tag }} ({{ steps.step_1.id }}, {{ steps.step_3 }})"
                ),
            ),
        ),
        finish(
            "{% for t in steps.step_6 %}{{ t.title }}{% endfor %} {{ steps.step_2 }}",
            structured={"created": "{{ steps.step_6 }}", "first": "{{ steps.step_1 }}"},
        ),
        parameters=(TITLE, COUNT, Parameter(name="tags", type="array")),
    )
    assert await problems_of(definition, tasks) == []


async def test_the_demo_recipes_have_no_problems(tasks: Connection) -> None:
    for definition in _demo_recipes(ref(tasks)):
        assert await problems_of(definition, tasks) == []


# --- the trigger -----------------------------------------------------------------------------------------


async def test_parameter_names_must_differ() -> None:
    definition = recipe(finish(), parameters=(TITLE, COUNT, Parameter(name="title")))
    assert await problems_of(definition) == [
        ("trigger", "parameters.3.name", "another parameter is called title already")
    ]


async def test_an_enum_needs_options_and_its_default_among_them() -> None:
    definition = recipe(
        finish(),
        parameters=(
            Parameter(name="size", type="enum"),
            Parameter(name="colour", type="enum", options=("red", "blue"), default="green"),
            Parameter(name="shape", type="enum", options=("round",), default="round"),
        ),
    )
    assert await problems_of(definition) == [
        ("trigger", "parameters.1.options", "an enum needs at least one option"),
        ("trigger", "parameters.2.default", "the default must be one of the options (red, blue)"),
    ]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        (Parameter(name="p", type="integer", default="3"), "the default must be an integer"),
        (Parameter(name="p", type="integer", default=1.5), "the default must be an integer"),
        (Parameter(name="p", type="number", default=True), "the default must be a number"),
        (Parameter(name="p", type="boolean", default="yes"), "the default must be true or false"),
        (Parameter(name="p", type="string", default=7), "the default must be text"),
        (Parameter(name="p", type="object", default=[1]), "the default must be a JSON object"),
        (Parameter(name="p", type="array", default="a,b"), "the default must be a JSON list"),
        (
            Parameter(name="p", type="array", items="integer", default=[1, "2"]),
            "every item of the default must be an integer; '2' is not",
        ),
    ],
)
async def test_a_default_must_suit_its_type(parameter: Parameter, message: str) -> None:
    assert await problems_of(recipe(finish(), parameters=(parameter,))) == [
        ("trigger", "parameters.1.default", message)
    ]


@pytest.mark.parametrize(
    "parameter",
    [
        Parameter(name="p", type="integer", default=3),
        Parameter(name="p", type="number", default=2.5),
        Parameter(name="p", type="boolean", default=False),
        Parameter(name="p", type="object", default={"a": 1}),
        Parameter(name="p", type="array", items="integer", default=[1, 2]),
        Parameter(name="p", default="normal"),
    ],
)
async def test_a_default_of_its_type_is_fine(parameter: Parameter) -> None:
    assert await problems_of(recipe(finish(), parameters=(parameter,))) == []


async def test_the_output_schema_must_be_a_json_schema() -> None:
    definition = recipe(
        finish(structured={"n": "1"}),
        output_schema={"type": "object", "properties": {"n": {"type": "whole"}}},
    )
    [(step, field, message)] = await problems_of(definition)
    assert (step, field) == ("trigger", "output_schema")
    assert message.startswith("not a valid JSON Schema (at properties/n/type): 'whole' is not valid")


# --- the recipe as a whole -------------------------------------------------------------------------------


async def test_every_recipe_ends_in_a_result(tasks: Connection) -> None:
    no_result = ("", "", "Every recipe ends in a result: add a Return result step")
    assert await problems_of(recipe(), tasks) == [no_result]
    assert await problems_of(recipe(create_task("step_1", tasks), parameters=(TITLE,)), tasks) == [no_result]
    nested = IfStep(id="step_2", conditions=(Condition(left="1", operator="is_true"),), then=(finish(),))
    assert await problems_of(recipe(create_task("step_1", tasks), nested, parameters=(TITLE,)), tasks) == [
        no_result
    ]


async def test_step_ids_must_differ() -> None:
    definition = recipe(stats("step_1"), stats("step_1"), finish())
    assert await problems_of(definition) == [
        ("2", "id", "step 1 has the id step_1 already; step ids must differ")
    ]


# --- data pills ------------------------------------------------------------------------------------------


async def test_a_syntax_error_is_a_problem_with_its_line() -> None:
    definition = recipe(finish("Hello\n{{ user.email }"))
    assert await problems_of(definition) == [("1", "text", "unexpected '}' (line 2)")]


async def test_unknown_pills_are_problems() -> None:
    definition = recipe(
        finish(
            "{{ input.titel }} {{ steps.step_9 }} {{ usr.email }} {{ user.phone }} {{ steps }}",
            structured={"n": "{{ item }}"},
        ),
        parameters=(TITLE,),
    )
    assert await problems_of(definition) == [
        ("1", "text", "input.titel: the trigger has no parameter titel"),
        ("1", "text", "steps.step_9: there is no step step_9"),
        ("1", "text", "usr.email: usr is not a data pill (use input, steps, user)"),
        ("1", "text", "user.phone: user has only email, name and groups"),
        ("1", "text", "steps: name a step, such as steps.step_1"),
        ("1", "structured.n", "item: item is not a data pill (use input, steps, user)"),
    ]


async def test_a_pill_of_a_later_step_or_of_the_step_itself_is_a_problem() -> None:
    definition = recipe(
        stats("step_1", label="{{ steps.step_2.total }}"),
        stats("step_2", label="{{ steps.step_2.total }}"),
        IfStep(
            id="step_3",
            conditions=(Condition(left="{{ steps.step_4 }}", operator="is_true"),),
            then=(stats("step_4"),),
        ),
        finish(),
    )
    assert await problems_of(definition) == [
        ("1", "inputs.label", "steps.step_2.total: step 2 runs after this step"),
        ("2", "inputs.label", "steps.step_2.total: a step cannot use its own output"),
        ("3", "conditions.1.left", "steps.step_4: step 3.1 runs after this step"),
    ]


async def test_a_step_inside_a_branch_or_a_loop_is_not_visible_outside_it() -> None:
    definition = recipe(
        IfStep(
            id="check",
            conditions=(Condition(left="1", operator="is_true"),),
            then=(stats("inside_then"), stats("then_2", label="{{ steps.inside_then.total }}")),
            otherwise=(stats("inside_else", label="{{ steps.inside_then.total }} {{ steps.check }}"),),
        ),
        ForEachStep(id="each", items="{{ steps.check }}", steps=(stats("inside_loop", label="{{ item }}"),)),
        finish("{{ steps.inside_then }} {{ steps.inside_loop }} {{ steps.each }} {{ steps.check }}"),
    )
    assert await problems_of(definition) == [
        (
            "1.3",
            "inputs.label",
            "steps.inside_then.total: step 1.1 is inside the 'then' branch of the if at step 1; "
            "only the steps in that branch can use it",
        ),
        ("1.3", "inputs.label", "steps.check: step 1 contains this step; its output is ready only after it"),
        (
            "3",
            "text",
            "steps.inside_then: step 1.1 is inside the 'then' branch of the if at step 1; "
            "only the steps in that branch can use it",
        ),
        (
            "3",
            "text",
            "steps.inside_loop: step 2.1 is inside the for-each at step 2; only the steps in that for-each "
            "can use it",
        ),
    ]


async def test_a_loop_variable_outside_its_for_each_is_a_problem() -> None:
    definition = recipe(
        ForEachStep(
            id="each",
            items="{{ input.names }}",
            as_name="name",
            steps=(
                ForEachStep(
                    id="inner",
                    items="{{ input.names }}",
                    steps=(stats("deep", label="{{ name }} {{ item }} {{ loop.index }}"),),
                ),
            ),
        ),
        finish("{{ name }} {{ loop.index }}"),
        parameters=(Parameter(name="names", type="array"),),
    )
    assert await problems_of(definition) == [
        (
            "2",
            "text",
            "name: name is the loop variable of the for-each at step 1; use it only inside that for-each",
        ),
        (
            "2",
            "text",
            "loop.index: loop is the loop variable of a for-each; use it only inside that for-each",
        ),
    ]


async def test_a_result_step_gives_no_data_to_others() -> None:
    definition = recipe(
        IfStep(
            id="check",
            conditions=(Condition(left="1", operator="is_true"),),
            then=(finish("early", step_id="early"),),
        ),
        finish("{{ steps.early }}"),
    )
    assert await problems_of(definition) == [
        ("2", "text", "steps.early: step 1.1 returns the result and gives no data to other steps")
    ]


# --- action steps ----------------------------------------------------------------------------------------


async def test_an_action_step_needs_a_known_connector_and_action(tasks: Connection) -> None:
    definition = recipe(
        ActionStep(id="step_1"),
        ActionStep(id="step_2", connector="nowhere", action="x"),
        ActionStep(id="step_3", connector="demo-tasks", connection=ref(tasks)),
        ActionStep(id="step_4", connector="demo-tasks", action="delete_all", connection=ref(tasks)),
        finish(),
    )
    assert await problems_of(definition, tasks) == [
        ("1", "connector", "choose an app"),
        ("2", "connector", "there is no connector 'nowhere'"),
        ("3", "action", "choose an action of Demo Tasks"),
        ("4", "action", "Demo Tasks has no action 'delete_all'"),
    ]


async def test_a_connection_is_needed_unless_the_app_needs_no_authentication_and_no_fields() -> None:
    definition = recipe(
        ActionStep(id="step_1", connector="demo-tasks", action="list_tasks"),
        ActionStep(id="step_2", connector="http", action="request", inputs={"url": "/x"}),
        ActionStep(
            id="step_3",
            connector="demo-tasks",
            action="list_tasks",
            connection=ConnectionRef(name="Old tasks"),
        ),
        stats("step_4"),
        finish(),
    )
    assert await problems_of(definition) == [
        ("1", "connection", "choose a Demo Tasks connection"),
        ("2", "connection", "choose a HTTP request connection"),
        ("3", "connection", "there is no connection named 'Old tasks' in this project: choose one"),
    ]


async def test_a_connection_that_no_longer_exists_is_a_problem() -> None:
    gone = ConnectionRef(name="Demo Tasks", id=uuid4())
    definition = recipe(
        ActionStep(id="step_1", connector="demo-tasks", action="list_tasks", connection=gone), finish()
    )
    assert await problems_of(definition) == [
        ("1", "connection", "the chosen connection no longer exists: choose another")
    ]


async def test_every_required_input_is_mapped(tasks: Connection) -> None:
    definition = recipe(
        create_task("step_1", tasks, title=" "), create_task("step_2", tasks, title=""), finish()
    )
    message = "required by Create a task: map a value or a data pill to it"
    assert await problems_of(definition, tasks) == [
        ("1", "inputs.title", message),
        ("2", "inputs.title", message),
    ]
    missing = ActionStep(id="step_1", connector="demo-tasks", action="create_task", connection=ref(tasks))
    assert await problems_of(recipe(missing, finish()), tasks) == [("1", "inputs.title", message)]


async def test_an_input_the_action_does_not_have_is_a_problem(tasks: Connection) -> None:
    definition = recipe(
        ActionStep(
            id="step_1",
            connector="demo-tasks",
            action="create_task",
            connection=ref(tasks),
            inputs={"title": "Hi", "due": "tomorrow"},
        ),
        ActionStep(id="step_2", connector="open-data", action="anything", inputs={"whatever": "1"}),
        finish(),
    )
    assert await problems_of(definition, tasks) == [("1", "inputs.due", "Create a task has no input due")]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("limit", "ten", "'ten' is not an integer"),
        ("limit", "2.5", "'2.5' is not an integer"),
        ("limit", "true", "'true' is not an integer"),
        ("ratio", "half", "'half' is not a number"),
        ("exact", "yes", "'yes' is not true or false"),
        ("filter", "[1]", "'[1]' is not a JSON object"),
        ("fields", "a,b", "'a,b' is not a JSON list"),
    ],
)
async def test_a_literal_that_does_not_suit_the_inputs_type_is_a_problem(
    name: str, text: str, message: str
) -> None:
    assert await problems_of(recipe(stats("step_1", **{name: text}), finish())) == [
        ("1", f"inputs.{name}", message)
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("limit", "10"),
        ("ratio", "2"),
        ("ratio", "0.5"),
        ("exact", "false"),
        ("filter", '{"a": [1]}'),
        ("fields", "[]"),
        ("label", "anything at all"),
        ("limit", "{{ input.count }}0"),
        ("limit", "{{ input.title | length }}"),
    ],
)
async def test_a_value_that_suits_the_inputs_type_is_fine(name: str, text: str) -> None:
    assert (
        await problems_of(recipe(stats("step_1", **{name: text}), finish(), parameters=(TITLE, COUNT))) == []
    )


async def test_a_parameter_of_another_type_mapped_as_one_pill_is_a_problem() -> None:
    definition = recipe(
        stats(
            "step_1",
            limit="{{ input.title }}",
            ratio="{{ input.count }}",
            exact="{{ input.count }}",
            label="{{ input.flag }}",
            fields="{{ input.title }}",
        ),
        finish(),
        parameters=(TITLE, COUNT, Parameter(name="flag", type="boolean")),
    )
    assert await problems_of(definition) == [
        ("1", "inputs.limit", "input.title is text, but this input takes an integer"),
        ("1", "inputs.exact", "input.count is an integer, but this input takes true or false"),
        ("1", "inputs.fields", "input.title is text, but this input takes a JSON list"),
    ]


# --- if, for each and result -----------------------------------------------------------------------------


async def test_a_condition_needs_its_left_and_unless_unary_its_right() -> None:
    definition = recipe(
        IfStep(
            id="check",
            conditions=(
                Condition(left="", operator="equals", right="1"),
                Condition(left="{{ user.email }}", operator="greater_than"),
                Condition(left="{{ user.groups }}", operator="is_empty"),
            ),
        ),
        IfStep(id="never", conditions=()),
        finish(),
    )
    assert await problems_of(definition) == [
        ("1", "conditions.1.left", "required: the value to check, such as a data pill"),
        ("1", "conditions.2.right", "required: what the value is greater than"),
        ("2", "conditions", "add a condition"),
    ]


async def test_for_each_needs_exactly_one_pill_for_its_items() -> None:
    definition = recipe(
        ForEachStep(id="empty", items=""),
        ForEachStep(id="two", items="{{ input.names }} {{ input.names }}"),
        ForEachStep(id="text", items="a, b"),
        ForEachStep(id="fine", items="{{ input.names | reverse | list }}"),
        finish(),
        parameters=(Parameter(name="names", type="array"),),
    )
    assert await problems_of(definition) == [
        ("1", "items", "required: a data pill holding a list, such as {{ steps.step_1 }}"),
        ("2", "items", "must be exactly one data pill holding a list, such as {{ steps.step_1 }}"),
        ("3", "items", "must be exactly one data pill holding a list, such as {{ steps.step_1 }}"),
    ]


async def test_a_result_needs_text_or_structured_content() -> None:
    assert await problems_of(recipe(ResultStep(id="finish"))) == [
        ("1", "text", "required: the text the tool answers, or structured content")
    ]
    assert await problems_of(recipe(ResultStep(id="finish", structured_from="{{ user }}"))) == []


async def test_a_result_of_a_tool_with_an_output_schema_needs_structured_content() -> None:
    schema = {"type": "object", "properties": {"email": {"type": "string"}}}
    assert await problems_of(recipe(finish("Hi"), output_schema=schema)) == [
        (
            "1",
            "structured",
            "the tool promises structured content (its output schema): add structured content",
        )
    ]
    assert (
        await problems_of(
            recipe(finish("Hi", structured={"email": "{{ user.email }}"}), output_schema=schema)
        )
        == []
    )


async def test_every_problem_is_listed_in_step_order() -> None:
    definition = recipe(
        stats("step_1", limit="x", label="{{ input.nope }}"),
        IfStep(id="step_2", conditions=(Condition(operator="equals"),), then=(stats("step_3", ratio="y"),)),
        stats("step_4"),
        parameters=(Parameter(name="n", type="integer", default="1"),),
    )
    problems = await validator().check(definition, project_id=PROJECT)
    assert [(p.step, p.step_id, p.field) for p in problems] == [
        ("trigger", "", "parameters.1.default"),
        ("1", "step_1", "inputs.label"),
        ("1", "step_1", "inputs.limit"),
        ("2", "step_2", "conditions.1.left"),
        ("2", "step_2", "conditions.1.right"),
        ("2.1", "step_3", "inputs.ratio"),
        ("", "", ""),
    ]
    assert str(problems[1]) == "Step 1, inputs.label: input.nope: the trigger has no parameter nope"


# --- with stored connections (both database engines) ----------------------------------------------------


def stored_validator(connectors: ConnectorServices) -> RecipeValidator:
    return RecipeValidator(definitions=connectors.registry, connections=connectors.connections)


async def test_a_recipe_using_a_stored_connection_of_its_project_has_no_problems(
    connectors: ConnectorServices, project: Project, tasks_connection: Connection
) -> None:
    definition = recipe(
        create_task("step_1", tasks_connection), finish("{{ steps.step_1.title }}"), parameters=(TITLE,)
    )
    assert await stored_validator(connectors).check(definition, project_id=project.id) == []


async def test_a_connection_of_another_project_or_another_app_is_a_problem(
    connectors: ConnectorServices, project: Project, builder: Principal, tasks_connection: Connection
) -> None:
    elsewhere = await connectors.projects.ensure("Support tools")
    foreign = await demo_tasks_connection(connectors, elsewhere, builder, name="Support tasks")
    definition = recipe(
        create_task("step_1", foreign),
        ActionStep(
            id="step_2",
            connector="http",
            action="request",
            connection=ref(tasks_connection),
            inputs={"url": "/"},
        ),
        ActionStep(
            id="step_3",
            connector="demo-tasks",
            action="list_tasks",
            connection=ConnectionRef(name="x", id=uuid4()),
        ),
        finish(),
        parameters=(TITLE,),
    )
    problems = await stored_validator(connectors).check(definition, project_id=project.id)
    assert where(problems) == [
        (
            "1",
            "connection",
            "the connection 'Support tasks' belongs to another project: choose one of this project",
        ),
        (
            "2",
            "connection",
            "the connection 'Demo Tasks' is for demo-tasks, not HTTP request: "
            "choose a HTTP request connection",
        ),
        ("3", "connection", "the chosen connection no longer exists: choose another"),
    ]
    other_project: UUID = elsewhere.id
    assert (
        where(
            await stored_validator(connectors).check(
                recipe(create_task("step_1", foreign), finish(), parameters=(TITLE,)),
                project_id=other_project,
            )
        )
        == []
    )


# --- the pill picker -------------------------------------------------------------------------------------


def options(found: list[PillOption]) -> list[tuple[str, str, str, str]]:
    return [(o.expression, o.label, o.source, o.type) for o in found]


USER_PILLS = [
    ("user.email", "email", "User", "string"),
    ("user.name", "name", "User", "string"),
    ("user.groups", "groups", "User", "list of strings"),
]


def picker_recipe(tasks: Connection, labels: dict[str, str] | None = None) -> RecipeDefinition:
    """A recipe with a loop around an if; ``labels`` fills the label input of its Open Data steps."""
    labels = labels or {}

    def stats(step_id: str) -> ActionStep:
        return ActionStep(
            id=step_id, connector="open-data", action="stats", inputs={"label": labels.get(step_id, "")}
        )

    return recipe(
        ActionStep(id="step_1", connector="demo-tasks", action="list_tasks", connection=ref(tasks)),
        stats("step_2"),
        ForEachStep(
            id="each",
            title="Each task",
            items="{{ steps.step_1 }}",
            steps=(
                IfStep(
                    id="check",
                    conditions=(Condition(left="{{ item.done }}", operator="is_true"),),
                    then=(stats("inner"), finish("x", step_id="inner_end")),
                ),
                stats("after_check"),
            ),
        ),
        finish(),
        parameters=(
            TITLE,
            Parameter(name="size", type="enum", options=("s", "m")),
            Parameter(name="ids", type="array", items="integer"),
        ),
    )


async def test_the_pill_picker_offers_what_the_step_can_use(tasks: Connection) -> None:
    definition = picker_recipe(tasks)
    found = await validator(tasks).available_pills(definition, "inner")
    assert options(found) == [
        ("input.title", "title", "Trigger", "string"),
        ("input.size", "size", "Trigger", "one of s, m"),
        ("input.ids", "ids", "Trigger", "list of integer"),
        ("steps.step_1", "output", "Step 1 · List my tasks", "action output"),
        ("steps.step_2", "output", "Step 2 · Get the stats", "action output"),
        ("steps.step_2.total", "total", "Step 2 · Get the stats", "value"),
        ("steps.step_2.updated", "updated", "Step 2 · Get the stats", "value"),
        ("item", "item", "For each item", "item"),
        ("loop.index", "position (1, 2, …)", "For each item", "integer"),
        *USER_PILLS,
    ]
    assert found[0].pill == "{{ input.title }}"


async def test_the_pill_picker_follows_the_scope_rule(tasks: Connection) -> None:
    definition = picker_recipe(tasks)
    at_first = available_pills(definition, "step_1")
    assert [o.expression for o in at_first] == [
        "input.title",
        "input.size",
        "input.ids",
        "user.email",
        "user.name",
        "user.groups",
    ]
    after_loop = [o.expression for o in available_pills(definition, "finish")]
    assert after_loop == [
        "input.title",
        "input.size",
        "input.ids",
        "steps.step_1",
        "steps.step_2",
        "steps.each",
        "user.email",
        "user.name",
        "user.groups",
    ]
    in_loop = [o.expression for o in available_pills(definition, "after_check")]
    assert "steps.check" in in_loop
    assert "steps.inner" not in in_loop
    assert "steps.each" not in in_loop
    check = next(o for o in available_pills(definition, "after_check") if o.expression == "steps.check")
    assert check.source == "Step 3.1 · If / else"


async def test_every_pill_the_picker_offers_passes_the_check(tasks: Connection) -> None:
    for step_id in ("step_2", "inner", "after_check"):
        offered = available_pills(picker_recipe(tasks), step_id)
        probed = picker_recipe(tasks, {step_id: " ".join(option.pill for option in offered)})
        assert await problems_of(probed, tasks) == []


async def test_connector_definitions_are_looked_up_once_per_check(tasks: Connection) -> None:
    catalog = Catalog()
    checker = RecipeValidator(definitions=catalog, connections=MemoryConnections(tasks))
    definition = recipe(
        create_task("step_1", tasks), create_task("step_2", tasks), finish(), parameters=(TITLE,)
    )
    assert await checker.check(definition, project_id=PROJECT) == []
    assert catalog.asked == ["demo-tasks"]
