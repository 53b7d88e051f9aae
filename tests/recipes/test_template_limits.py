"""What one field may cost: loops over a caller's data and macros calling themselves are capped like loops
over ranges, a field stops after a second of work, and a field nested too deeply is a problem named when
the draft is saved, never a server error."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchboard.connectors.connections.models import Project
from switchboard.identity.deps import IdentityServices
from switchboard.identity.roles import Role
from switchboard.recipes.deps import RecipeServices
from switchboard.recipes.schemas import RecipeCreate
from switchboard.recipes.templates import TemplateError, compile_field, syntax_problem
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP

NESTS_TOO_DEEPLY = "the field nests too deeply (line 1)"


def refused_quickly(text: str, values: dict[str, Any], *, seconds: float = 0.5) -> str:
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        compile_field(text).evaluate(values)
    assert time.monotonic() - started < seconds
    return caught.value.message


def test_nested_loops_over_a_callers_list_are_capped_like_loops_over_ranges() -> None:
    # A builder's harmless-looking template; the caller chooses how long the list is.
    text = (
        "{% for a in input.rows %}{% for b in input.rows %}{% if a == b %}.{% endif %}{% endfor %}"
        "{% endfor %}"
    )

    assert compile_field(text).evaluate({"input": {"rows": list(range(300))}}) == "." * 300
    message = refused_quickly(text, {"input": {"rows": list(range(2000))}})

    assert message == "the loops would run more than 100,000 times"


def test_a_macro_calling_itself_twice_is_capped() -> None:
    text = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(input.n) }}"

    assert compile_field(text).evaluate({"input": {"n": 10}}) == ""
    message = refused_quickly(text, {"input": {"n": 20}})

    assert message == "the macros would be called more than 10,000 times"


def test_a_field_stops_after_a_second_of_work() -> None:
    # Few loop rounds, each sorting the whole list again.
    text = "{% for a in input.rows %}{{ (input.rows | sort)[0] }}{% endfor %}"
    rows = list(range(20_000, 0, -1))

    message = refused_quickly(text, {"input": {"rows": rows}}, seconds=1.5)

    assert message == "the field takes more than 1 second of work"


@pytest.mark.parametrize(
    "text",
    [
        "{{ " + "(" * 100 + "1" + ")" * 100 + " }}",
        "{{ " + "[" * 100 + "]" * 100 + " }}",
        "x" + "{% if 1 %}" * 100 + "{% endif %}" * 100,
        "".join(f"{{% for a{i} in [1] %}}" for i in range(25)) + "x" + "{% endfor %}" * 25,
        "{{ 'a'" + " | lower" * 300 + " }}",
    ],
    ids=["parentheses", "lists", "ifs", "loops", "filters"],
)
def test_a_field_nested_too_deeply_is_a_syntax_problem(text: str) -> None:
    assert syntax_problem(text) == NESTS_TOO_DEEPLY
    with pytest.raises(TemplateError) as caught:
        compile_field(text)
    assert caught.value.message == NESTS_TOO_DEEPLY


def test_ordinary_nesting_still_works() -> None:
    loops = "".join(f"{{% for a{i} in [1] %}}" for i in range(8)) + "x" + "{% endfor %}" * 8
    ifs = "{% if 1 %}" * 20 + "x" + "{% endif %}" * 20

    assert syntax_problem(loops) is None
    assert compile_field(loops).evaluate({}) == "x"
    assert compile_field(ifs).evaluate({}) == "x"
    assert compile_field("{{ " + "(" * 20 + "1" + ")" * 20 + " }}").evaluate({}) == 1


async def test_saving_a_draft_with_a_field_nested_too_deeply_names_the_problem(
    services: IdentityServices, web: Any, recipes: RecipeServices, project: Project
) -> None:
    await make_user(services, "maker@example.com", Role.BUILDER)
    client = await signed_in(web, "maker@example.com")
    recipe = await recipes.recipes.create(RecipeCreate(project_id=project.id, name="deep"), actor=SETUP)
    deep = "x" + "{% if 1 %}" * 100 + "{% endif %}" * 100
    draft = {"trigger": {"name": "deep"}, "steps": [{"type": "result", "id": "step_1", "text": deep}]}

    saved = await client.put(f"/api/v1/recipes/{recipe.id}/draft", json=draft)

    assert saved.status_code == 200, saved.text
    assert [problem["message"] for problem in saved.json()["problems"]] == [NESTS_TOO_DEEPLY]


def test_loops_and_macros_within_the_caps_give_what_they_always_gave() -> None:
    values = {
        "input": {"rows": [3, 1, 2], "tree": {"name": "a", "children": [{"name": "b", "children": []}]}}
    }
    fields = {
        "{% for a in input.rows if a > 1 %}{{ loop.index }}/{{ loop.length }}:{{ a }} {% endfor %}": (
            "1/2:3 2/2:2 "
        ),
        "{% for a in [] %}x{% else %}empty{% endfor %}": "empty",
        "{% for node in [input.tree] recursive %}{{ node.name }}{{ loop(node.children) }}{% endfor %}": "ab",
        "{% macro item(x) %}<{{ x }}>{% endmacro %}{% for a in input.rows %}{{ item(a) }}{% endfor %}": (
            "<3><1><2>"
        ),
        "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}in{% endcall %}": "[in]",
    }

    assert {text: compile_field(text).evaluate(values) for text in fields} == fields


def test_a_recursive_loop_is_capped_too() -> None:
    text = (
        "{% for n in input.rows recursive %}{% if loop.depth == 1 %}{{ loop(input.rows) }}{% endif %}"
        "{% endfor %}"
    )

    assert compile_field(text).evaluate({"input": {"rows": list(range(100))}}) == ""
    assert refused_quickly(text, {"input": {"rows": list(range(1000))}}, seconds=1.5) == (
        "the loops would run more than 100,000 times"
    )
