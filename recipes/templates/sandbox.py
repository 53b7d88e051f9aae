"""The Jinja2 sandbox data pills are evaluated in, and the limits on what a template may make.

Jinja's immutable sandbox already refuses private attributes (``''.__class__``) and changes to data. On
top of it: ``*`` and ``**`` refuse results longer than 100,000 items or huge numbers, ``%``,
``str.format`` and the ``format`` filter refuse huge widths, ``center`` and ``indent`` take at most a
width of 10,000, ``range`` gives at most 10,000 numbers (100,000 over one evaluation), and a dot reads
a key of the data before a method of the same name.

What one evaluation may cost is bounded too, whatever the data a caller sends: its loops run at most
100,000 rounds and its macros are called at most 10,000 times in all, and it stops after a second of
work. A field nests at most ``MAX_NESTING`` levels (``MAX_LOOP_NESTING`` loops inside each other), so that
reading and compiling it stays far from Python's own limits. ``parse`` is the one way fields are read.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_ITEMS = 100_000
MAX_TEXT = 100_000
MAX_RANGE = 10_000
# Loop rounds and macro calls over one evaluation (a call costs as much as hundreds of rounds); its time.
MAX_ROUNDS = 100_000
MAX_CALLS = 10_000
MAX_SECONDS = 1.0
MAX_NESTING = 50
MAX_LOOP_NESTING = 10
NESTS_TOO_DEEPLY = "the field nests too deeply"
# Integers up to this many bits (about 30,000 digits) may be made by * and **.
MAX_INT_BITS = 100_000
_MAX_WIDTH = 10_000
_WIDE_NUMBER = re.compile(r"\d{6,}")
_STAR_WIDTH = re.compile(r"%[-#0 +]*(\*|\d*\.\*)")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")


class TemplateError(Exception):
    """A field that cannot be evaluated, in words a builder understands (never a stack trace)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sentence(message: str | None) -> str:
    """Jinja's or Python's message as the end of a builder's sentence."""
    return (message or "the field cannot be evaluated").rstrip(".")


def _finalize(value: Any) -> Any:
    """How a value shows inside text: objects and lists as JSON, booleans as true/false, nothing as ""."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return str(value)


def _too_long(value: Any) -> bool:
    return isinstance(value, str | list | tuple) and len(value) > MAX_ITEMS


def _refuse_wide(fmt: str, args: Any = ()) -> None:
    """Formats whose width could make gigabytes of padding (``'%999999999s'``) are refused up front."""
    if _WIDE_NUMBER.search(fmt) or _STAR_WIDTH.search(fmt) or _NESTED_SPEC.search(fmt):
        raise TemplateError("that format asks for a width or precision that is too large")


def _check_operands(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, a ``*``, ``**`` or ``%`` whose result would be huge."""
    numbers = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and numbers and right > 0 and abs(left) > 1:
        if abs(left).bit_length() * right > MAX_INT_BITS:
            raise TemplateError("that power is too large")
    elif operator == "*" and numbers:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateError("that number is too large")
    elif operator == "*":
        for sequence, count in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and len(sequence) * count > MAX_ITEMS
            ):
                raise TemplateError(f"that would make more than {MAX_ITEMS:,} items")
    elif operator == "%" and isinstance(left, str):
        _refuse_wide(left)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with limits on what an expression may make, and data-first dots."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_operands(operator, left, right)
        result = self.binop_table[operator](left, right)
        if _too_long(result):
            raise TemplateError(f"that would make more than {MAX_ITEMS:,} items")
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``steps.step_1.items`` means the key ``items`` of the step's data, not the dict method."""
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _refuse_wide(fmt)
            return wrapped(*args, **kwargs)

        return checked


# What ``range`` may still give in the evaluation under way (set by each evaluation).
range_budget: ContextVar[list[int]] = ContextVar("range_budget")


def _safe_range(*args: int) -> Iterator[int]:
    """``range`` with at most 10,000 numbers per call and 100,000 per evaluation (nested loops)."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateError(f"range gives at most {MAX_RANGE:,} numbers")
    budget = range_budget.get(None)
    if budget is not None:
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise TemplateError(f"the loops would run more than {MAX_ITEMS:,} times")
    return iter(numbers)


class Work:
    """What the evaluation under way may still do: loop rounds and macro calls, and until when."""

    __slots__ = ("calls", "deadline", "rounds")

    def __init__(self) -> None:
        self.rounds = MAX_ROUNDS
        self.calls = MAX_CALLS
        self.deadline = time.monotonic() + MAX_SECONDS

    def step(self, what: str) -> None:
        if what == "macro":
            self.calls -= 1
            if self.calls < 0:
                raise TemplateError(f"the macros would be called more than {MAX_CALLS:,} times")
        else:
            self.rounds -= 1
            if self.rounds < 0:
                raise TemplateError(f"the loops would run more than {MAX_ROUNDS:,} times")
        if time.monotonic() > self.deadline:
            raise TemplateError(f"the field takes more than {MAX_SECONDS:g} second of work")


# The work the evaluation under way may still do (set by each evaluation).
work_budget: ContextVar[Work] = ContextVar("work_budget")
# What ``parse`` makes templates call: on what every loop (and a recursive loop's ``loop(...)``) goes
# through, and at the start of every macro call.
_ROUNDS = "_sb_rounds"
_STEP = "_sb_step"


def _rounds(iterable: Any) -> Iterator[Any]:
    budget = work_budget.get(None)
    for item in iterable:
        if budget is not None:
            budget.step("loop")
        yield item


def _step(what: str) -> str:
    budget = work_budget.get(None)
    if budget is not None:
        budget.step(what)
    return ""


def parse(text: str) -> nodes.Template:
    """The field's template, checked for nesting and counting its work as it runs.

    Raises ``TemplateSyntaxError`` for a syntax error or nesting past the limits.
    """
    try:
        tree = ENV.parse(text)
    except RecursionError:  # Jinja's parser recurses once per level of an expression
        raise TemplateSyntaxError(NESTS_TOO_DEEPLY, 1) from None
    _check_nesting(tree)
    for loop in list(tree.find_all(nodes.For)):
        loop.iter = _call(_ROUNDS, loop.iter)
        if loop.recursive:  # loop(children) goes round again
            for again in list(loop.find_all(nodes.Call)):
                if isinstance(again.node, nodes.Name) and again.node.name == "loop" and len(again.args) == 1:
                    again.args[0] = _call(_ROUNDS, again.args[0])
    for macro in list(tree.find_all(nodes.Macro)):
        macro.body.insert(0, nodes.Output([_call(_STEP, nodes.Const("macro"))]))
    for caller in list(tree.find_all(nodes.CallBlock)):
        caller.body.insert(0, nodes.Output([_call(_STEP, nodes.Const("macro"))]))
    tree.set_environment(ENV)
    tree.set_lineno(1)
    return tree


def _call(name: str, argument: nodes.Node) -> nodes.Call:
    return nodes.Call(nodes.Name(name, "load"), [argument], [], None, None, lineno=argument.lineno)


def _check_nesting(tree: nodes.Template) -> None:
    """Refuse nodes more than ``MAX_NESTING`` deep, or loops more than ``MAX_LOOP_NESTING`` deep (Python
    compiles at most 20 blocks inside each other)."""
    stack: list[tuple[nodes.Node, int, int]] = [(tree, 0, 0)]
    while stack:
        node, depth, loops = stack.pop()
        if depth > MAX_NESTING or loops > MAX_LOOP_NESTING:
            raise TemplateSyntaxError(NESTS_TOO_DEEPLY, node.lineno or 1)
        inner = loops + isinstance(node, nodes.For)
        stack.extend((child, depth + 1, inner) for child in node.iter_child_nodes())


def _limited_filter(name: str, position: int, keyword: str) -> Callable[..., Any]:
    original: Callable[..., Any] = ENV.filters[name]

    def limited(*args: Any, **kwargs: Any) -> Any:
        width = kwargs.get(keyword, args[position] if len(args) > position else None)
        if isinstance(width, int) and width > _MAX_WIDTH:
            raise TemplateError(f"{name} takes a width of at most {_MAX_WIDTH:,}")
        return original(*args, **kwargs)

    return limited


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    _refuse_wide(str(value))
    return str(_FORMAT(value, *args, **kwargs))


ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, finalize=_finalize, keep_trailing_newline=True)
_FORMAT: Callable[..., Any] = ENV.filters["format"]
ENV.globals["range"] = _safe_range
ENV.globals[_ROUNDS] = _rounds
ENV.globals[_STEP] = _step
ENV.filters["center"] = _limited_filter("center", 1, "width")
ENV.filters["indent"] = _limited_filter("indent", 1, "width")
ENV.filters["format"] = _format_filter
# Names every template has (``range`` ...): never data pills.
GLOBALS = frozenset(ENV.globals)
