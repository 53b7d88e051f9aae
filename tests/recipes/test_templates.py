"""Data pills: builder-written fields evaluated in Jinja's sandbox; callers' values are only ever data."""

from __future__ import annotations

import timeit
from typing import Any

import pytest

from switchboard.recipes.templates import PillRef, TemplateError, compile_field, references, syntax_problem


def context(**inputs: Any) -> dict[str, Any]:
    return {
        "input": {"title": "Write the report", "count": 3, "tags": ["a", "b"], **inputs},
        "user": {"email": "bo@example.com", "name": "Bo", "groups": ["Sales", "Ops"]},
        "steps": {
            "step_1": {"id": 42, "items": [1, 2], "owner": None, "done": False},
            "step_2": [{"id": 1}, {"id": 2}],
        },
    }


def evaluate(text: str, values: dict[str, Any] | None = None) -> Any:
    return compile_field(text).evaluate(values if values is not None else context())


def refusal(text: str, values: dict[str, Any] | None = None) -> str:
    with pytest.raises(TemplateError) as caught:
        evaluate(text, values)
    return caught.value.message


@pytest.mark.parametrize("text", ["Plain words", "100% {sure}", "{# no pill #}", "a } b {", ""])
def test_a_field_without_pills_is_returned_as_it_is(text: str) -> None:
    field = compile_field(text)
    assert field.kind == "literal"
    assert field.evaluate({}) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{{ input.count }}", 3),
        ("{{ input.tags }}", ["a", "b"]),
        ("  {{ steps.step_1 }}\n", {"id": 42, "items": [1, 2], "owner": None, "done": False}),
        ("{{ steps.step_1.done }}", False),
        ("{{ steps.step_1.owner }}", None),
        ("{{ steps.step_2[1].id }}", 2),
        ("{{- input.count -}}", 3),
        ("{{ input.count * 2 + 1 }}", 7),
        ("{{ [input.count, user.email] }}", [3, "bo@example.com"]),
        ("{{ input.tags | map('upper') }}", ["A", "B"]),
        ("{{ range(3) }}", [0, 1, 2]),
    ],
)
def test_a_field_that_is_one_pill_keeps_the_values_type(text: str, value: Any) -> None:
    field = compile_field(text)
    assert field.kind == "pill"
    assert field.evaluate(context()) == value
    assert type(field.evaluate(context())) is type(value)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("n={{ input.count }}", "n=3"),
        ("{{ input.count }} {{ input.count }}", "3 3"),
        ("tags: {{ input.tags }}", 'tags: ["a", "b"]'),
        ("{{ steps.step_1 }}!", '{"id": 42, "items": [1, 2], "owner": null, "done": false}!'),
        ("done={{ steps.step_1.done }}, owner={{ steps.step_1.owner }}.", "done=false, owner=."),
        ("{% if user.groups %}in {{ user.groups | join(', ') }}{% endif %}", "in Sales, Ops"),
        ("{% for t in input.tags %}{{ loop.index }}{{ t }} {% endfor %}", "1a 2b "),
    ],
)
def test_any_other_field_is_rendered_to_text(text: str, rendered: str) -> None:
    field = compile_field(text)
    assert field.kind == "template"
    assert field.evaluate(context()) == rendered


def test_jinjas_builtin_filters_are_there() -> None:
    assert evaluate("{{ input.tags | tojson }}") == '["a", "b"]'
    assert evaluate("{{ input.missing | default('none') }}") == "none"
    assert evaluate("{{ user.groups | length }}") == 2
    assert evaluate("{{ input.title | upper }}") == "WRITE THE REPORT"
    assert evaluate("{{ input.title is defined }}") is True


def test_what_callers_send_is_data_and_never_rendered_as_a_template() -> None:
    values = context(title="{{ 7 * 7 }}", note="{% for x in range(9) %}x{% endfor %}")
    assert evaluate("{{ input.title }}", values) == "{{ 7 * 7 }}"
    assert evaluate("Title: {{ input.title }} / {{ input.note }}", values) == (
        "Title: {{ 7 * 7 }} / {% for x in range(9) %}x{% endfor %}"
    )
    assert evaluate("{{ [input.title] }}", values) == ["{{ 7 * 7 }}"]


def test_dots_reach_the_datas_keys_before_python_methods() -> None:
    assert evaluate("{{ steps.step_1.items }}") == [1, 2]
    assert evaluate("{{ steps.step_1['items'][0] }}") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ input.titel }}", "input has no titel"),
        ("Hello {{ input.titel }}", "input has no titel"),
        ("{{ steps.step_1.idd }}", "steps.step_1 has no 'idd'"),
        ("{{ steps.step_3.id }}", "steps.step_3 has no value: that step has not run"),
        ("{{ steps.step_2.id }}", "steps.step_2 is a list: it has no 'id'"),
        ("{{ steps.step_1.owner.name }}", "steps.step_1.owner is empty: it has no 'name'"),
        ("{{ item.name }}", "item is not a data pill here"),
        ("{{ user.email }} {{ user.phone }}", "user has no phone"),
        ("{{ input.title.upper }}", "input.title.upper is not a value but a function"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ 10.0 ** 400 }}", "that number is too large"),
        ("{{ input.title + 1 }}", 'can only concatenate str (not "int") to str'),
    ],
)
def test_a_field_that_cannot_be_evaluated_says_why_in_words(text: str, message: str) -> None:
    assert refusal(text) == message


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ input.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "x {{ cycler.__init__.__globals__.os }}",
        "{{ [input.title, ''.__class__] }}",
        "{{ input.tags | map(attribute='__class__') | list }}",
        "{{ user.name.upper.__self__ }}",
        "{% set x = input.tags.append(1) %}{{ x }}",
    ],
)
def test_sandbox_escapes_are_refused(text: str) -> None:
    values = context()
    message = refusal(text, values)
    assert "unsafe" in message or "not allowed" in message or "cannot modify" in message, message
    assert values["input"]["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 'a' * 1000000 }}", "that would make more than 100,000 items"),
        ("{{ 1000000 * [0] }}", "that would make more than 100,000 items"),
        ("{{ 2 ** 1000000 }}", "that power is too large"),
        ("{{ 9 ** (9 ** 9) }}", "that power is too large"),
        ("{{ '%999999999s' % 1 }}", "that format asks for a width or precision that is too large"),
        ("{{ '%*s' % (999999999, 1) }}", "that format asks for a width or precision that is too large"),
        ("{{ '{:999999999}'.format(1) }}", "that format asks for a width or precision that is too large"),
        ("{{ '%999999999s' | format(1) }}", "that format asks for a width or precision that is too large"),
        ("{{ 'x' | center(1000000000) }}", "center takes a width of at most 10,000"),
        ("{{ range(10 ** 9) | list }}", "range gives at most 10,000 numbers"),
        (
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            "the loops would run more than 100,000 times",
        ),
        (
            "{% for i in range(100) %}{{ 'x' * 10000 }}{% endfor %}",
            "the text would be longer than 100,000 characters",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "the template calls itself too deeply"),
    ],
)
def test_what_a_field_can_make_is_capped(text: str, message: str) -> None:
    assert refusal(text) == message


def test_small_products_and_powers_still_work() -> None:
    assert evaluate("{{ 'ab' * 3 }}") == "ababab"
    assert evaluate("{{ 2 ** 10 }}") == 1024
    assert evaluate("{{ '%5s|' % 'x' }}") == "    x|"
    assert evaluate("{{ input.count * 1.5 }}") == 4.5
    assert len(evaluate("{% for i in range(100) %}{{ 'x' * 1000 }}{% endfor %}")) == 100_000


def test_a_syntax_error_is_named_with_its_line() -> None:
    assert syntax_problem("Hello\n{{ input.title }") == "unexpected '}' (line 2)"
    assert syntax_problem("{{ input.title }}") is None
    assert syntax_problem("no pills {") is None
    with pytest.raises(TemplateError) as caught:
        compile_field("{% if input.title %}open")
    assert caught.value.message.startswith("Unexpected end of template")
    assert caught.value.message.endswith("(line 1)")


def test_fields_are_compiled_once() -> None:
    text = "{{ input.count }} compiled once"
    assert compile_field(text) is compile_field(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("plain", ()),
        ("{{ input.title }}", (PillRef("input", ("title",)),)),
        ("{{ steps.step_1.id }} {{ steps.step_1.id }}", (PillRef("steps", ("step_1", "id")),)),
        ("{{ user.email }}{{ item }}", (PillRef("user", ("email",)), PillRef("item"))),
        ("{{ steps.s['k'][0] }}", (PillRef("steps", ("s", "k", 0)),)),
        ("{{ input.rows[input.i].name }}", (PillRef("input", ("rows",)), PillRef("input", ("i",)))),
        (
            "{{ input.title | default(user.name) | upper }}",
            (PillRef("input", ("title",)), PillRef("user", ("name",))),
        ),
        ("{{ loop.index }}", (PillRef("loop", ("index",)),)),
        (
            "{% for task in steps.step_1 %}{{ loop.index }} {{ task.title }}{% endfor %}",
            (PillRef("steps", ("step_1",)),),
        ),
        ("{% set n = input.count %}{{ n }} {{ range(n) | list }}", (PillRef("input", ("count",)),)),
        ("{{ input.title }", ()),
    ],
)
def test_references_lists_the_pills_a_field_uses(text: str, found: tuple[PillRef, ...]) -> None:
    assert references(text) == found


def test_a_pill_names_itself_as_written() -> None:
    assert PillRef("steps", ("step_1", "rows", 0, "id")).expression == "steps.step_1.rows[0].id"
    assert compile_field("{{ steps.step_1.id }}").pill == PillRef("steps", ("step_1", "id"))
    assert compile_field("{{ input.count + 1 }}").pill is None


def test_evaluating_a_compiled_pill_takes_microseconds() -> None:
    values = context()
    pill = compile_field("{{ steps.step_1.id }}")
    text = compile_field("{{ input.title }} for {{ user.email }}")
    runs = 20_000
    per_pill = timeit.timeit(lambda: pill.evaluate(values), number=runs) / runs
    per_text = timeit.timeit(lambda: text.evaluate(values), number=runs) / runs
    print(f"single pill {per_pill * 1e6:.2f} µs, template with two pills {per_text * 1e6:.2f} µs")
    assert per_pill < 20e-6
    assert per_text < 100e-6
