"""Builder-written fields of recipes ("data pills"): Jinja2 templates evaluated in a sandbox.

A field is one of three kinds, decided once when it is compiled:

- a *literal* (no ``{{`` or ``{%``): the text as it is, without Jinja at all;
- a *single pill* (the whole field is one ``{{ expression }}``): the expression's value with its type, so
  a number stays a number and a list stays a list;
- a *template* (anything else): rendered to text; objects and lists render as JSON, booleans as
  ``true``/``false`` and nothing as an empty string.

Only builders write templates. What tool callers send is bound to names (``input``, ``steps`` ...) as data
and is never itself rendered as a template, so a caller's ``{{ 7 * 7 }}`` stays that text.

The sandbox refuses access to private attributes (``''.__class__``) and caps what a template can make:
``*`` and ``**`` refuse results longer than 100,000 items or huge numbers, ``%`` and ``str.format`` refuse
huge widths, ``range`` gives at most 10,000 numbers, and rendered text stops at 100,000 characters. Every
failure is a ``TemplateError`` whose message a builder can act on ("input has no titel").
"""

from __future__ import annotations

import functools
import json
import re
import types
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from typing import Any, Literal

import msgspec
from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_ITEMS = 100_000
MAX_TEXT = 100_000
MAX_RANGE = 10_000
# Integers up to this many bits (about 30,000 digits) may be made by * and **.
MAX_INT_BITS = 100_000
_MAX_WIDTH = 10_000
_WIDE_NUMBER = re.compile(r"\d{6,}")
_STAR_WIDTH = re.compile(r"%[-#0 +]*(\*|\d*\.\*)")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")
_SEQUENCES = (list, tuple, range, types.GeneratorType, Iterator, KeysView, ValuesView, ItemsView)
_MISSING: Any = object()
_PLAIN = frozenset({str, int, float, bool, type(None), list, dict})

Kind = Literal["literal", "pill", "template"]


class TemplateError(Exception):
    """A field that cannot be evaluated, in words a builder understands (never a stack trace)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PillRef(msgspec.Struct, frozen=True):
    """A data pill a field uses: ``root`` (``input``, ``steps``, ``user``, a loop variable) and the keys
    after it (``steps.step_1.id`` is root ``steps``, path ``("step_1", "id")``)."""

    root: str
    path: tuple[str | int, ...] = ()

    @property
    def expression(self) -> str:
        text = self.root
        for key in self.path:
            text += f"[{key}]" if isinstance(key, int) else f".{key}"
        return text

    def __str__(self) -> str:
        return self.expression


# --- the sandbox ----------------------------------------------------------------------------------------


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


_range_budget: ContextVar[list[int]] = ContextVar("range_budget")


def _safe_range(*args: int) -> Iterator[int]:
    """``range`` with at most 10,000 numbers per call and 100,000 per evaluation (nested loops)."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateError(f"range gives at most {MAX_RANGE:,} numbers")
    budget = _range_budget.get(None)
    if budget is not None:
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise TemplateError(f"the loops would run more than {MAX_ITEMS:,} times")
    return iter(numbers)


def _limited_filter(name: str, position: int, keyword: str) -> Callable[..., Any]:
    original: Callable[..., Any] = _ENV.filters[name]

    def limited(*args: Any, **kwargs: Any) -> Any:
        width = kwargs.get(keyword, args[position] if len(args) > position else None)
        if isinstance(width, int) and width > _MAX_WIDTH:
            raise TemplateError(f"{name} takes a width of at most {_MAX_WIDTH:,}")
        return original(*args, **kwargs)

    return limited


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    _refuse_wide(str(value))
    return str(_FORMAT(value, *args, **kwargs))


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, finalize=_finalize, keep_trailing_newline=True)
_FORMAT: Callable[..., Any] = _ENV.filters["format"]
_ENV.globals["range"] = _safe_range
_ENV.filters["center"] = _limited_filter("center", 1, "width")
_ENV.filters["indent"] = _limited_filter("indent", 1, "width")
_ENV.filters["format"] = _format_filter
_GLOBALS = frozenset(_ENV.globals)


# --- compiled fields ------------------------------------------------------------------------------------


class CompiledField:
    """One field, compiled once: ``evaluate`` gives its value for a context of data pills."""

    __slots__ = ("_expression", "_plain_path", "_template", "kind", "pill", "text")

    def __init__(
        self,
        text: str,
        kind: Kind,
        *,
        expression: Any = None,
        template: Any = None,
        pill: PillRef | None = None,
    ) -> None:
        self.text = text
        self.kind: Kind = kind
        # The single pill when it is a plain path (``input.title``, ``steps.step_1.id``).
        self.pill = pill
        self._expression = expression
        self._template = template
        self._plain_path = pill is not None

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        if self.kind == "literal":
            return self.text
        if self._plain_path:
            value = self._walk(context)
            if value is not _MISSING and type(value) in _PLAIN:
                return value
        token = _range_budget.set([MAX_ITEMS])
        try:
            if self.kind == "pill":
                return self._value(context)
            return self._render(context)
        except TemplateError:
            raise
        except UndefinedError as exc:
            raise TemplateError(_undefined_message(self.text, context, exc)) from None
        except SecurityError as exc:
            raise TemplateError(f"not allowed: {_sentence(exc.message)}") from None
        except JinjaError as exc:
            raise TemplateError(_sentence(exc.message)) from None
        except OverflowError:
            raise TemplateError("that number is too large") from None
        except RecursionError:
            raise TemplateError("the template calls itself too deeply") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise TemplateError(_sentence(str(exc))) from None
        finally:
            _range_budget.reset(token)

    def _walk(self, context: Mapping[str, Any]) -> Any:
        """A plain path evaluated as the compiled expression would (the sandbox's getattr and getitem),
        without building a Jinja context: the common case of a pill costs well under a microsecond.
        Anything unusual (a missing key, a non-data value) takes the compiled route for its answer."""
        pill = self.pill
        assert pill is not None
        value = context.get(pill.root, _MISSING)
        if value is _MISSING:
            return _MISSING
        for key in pill.path:
            value = _ENV.getitem(value, key) if isinstance(key, int) else _ENV.getattr(value, key)
            if isinstance(value, Undefined):
                return _MISSING
        return value

    def _value(self, context: Mapping[str, Any]) -> Any:
        value = self._expression(context)
        if type(value) in _PLAIN and (self._plain_path or type(value) not in (list, dict)):
            # A plain path's lists and objects come from data, which holds nothing else.
            return value
        return _as_data(value, self.pill)

    def _render(self, context: Mapping[str, Any]) -> str:
        template = self._template
        parts: list[str] = []
        size = 0
        for part in template.root_render_func(template.new_context(context)):
            size += len(part)
            if size > MAX_TEXT:
                raise TemplateError(f"the text would be longer than {MAX_TEXT:,} characters")
            parts.append(part)
        return "".join(parts)


def _as_data(value: Any, pill: PillRef | None, depth: int = 0) -> Any:
    """A single pill's value as data (JSON types): what else an expression made is converted or refused."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    kind = type(value)
    if kind in (str, int, float, bool, type(None)):
        return value
    if depth > 50:
        raise TemplateError("the value is nested too deeply")
    if isinstance(value, str):  # Markup and other str subclasses
        return str(value)
    if isinstance(value, dict):
        return {str(key): _as_data(item, pill, depth + 1) for key, item in value.items()}
    if isinstance(
        value, list | tuple | range | types.GeneratorType | Iterator | KeysView | ValuesView | ItemsView
    ):
        items: list[Any] = []
        for item in value:
            if len(items) >= MAX_ITEMS:
                raise TemplateError(f"the list has more than {MAX_ITEMS:,} items")
            items.append(_as_data(item, pill, depth + 1))
        return items
    what = f"{pill} is" if pill is not None else "the pill gives"
    raise TemplateError(f"{what} not a value but a {_type_name(value)}")


def _type_name(value: Any) -> str:
    return "function" if callable(value) else type(value).__name__


def _sentence(message: str | None) -> str:
    return (message or "the field cannot be evaluated").rstrip(".")


@functools.lru_cache(maxsize=4096)
def compile_field(text: str) -> CompiledField:
    """The compiled field (cached: compiling is the expensive part, and runs reuse it).

    Raises ``TemplateError`` when the field is not valid Jinja syntax.
    """
    if "{{" not in text and "{%" not in text:
        return CompiledField(text, "literal")
    stripped = text.strip()
    try:
        tree = _ENV.parse(text)
        expression = _single_expression(tree, stripped)
        if expression is not None:
            source, node = expression
            compiled = _ENV.compile_expression(source, undefined_to_none=False)
            return CompiledField(text, "pill", expression=_caller(compiled), pill=_plain_path(node))
        return CompiledField(text, "template", template=_ENV.from_string(tree))
    except TemplateSyntaxError as exc:
        raise TemplateError(_syntax_message(exc)) from None


def _caller(compiled: Any) -> Callable[[Mapping[str, Any]], Any]:
    """Evaluate a compiled expression without the keyword-argument copy of ``TemplateExpression()``."""
    template = compiled._template

    def evaluate(context: Mapping[str, Any]) -> Any:
        ctx = template.new_context(context)
        for _ in template.root_render_func(ctx):
            pass
        return ctx.vars["result"]

    return evaluate


def _single_expression(tree: nodes.Template, stripped: str) -> tuple[str, nodes.Expr] | None:
    """The expression's source when the whole (trimmed) field is exactly one ``{{ expression }}``."""
    if not (stripped.startswith("{{") and stripped.endswith("}}")):
        return None
    body = [node for node in tree.body if not _is_blank(node)]
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    parts = [node for node in body[0].nodes if not _is_blank_data(node)]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return None
    source = stripped[2:-2]
    if source[:1] in "-+":  # whitespace control: {{- value -}}
        source = source[1:]
    if source[-1:] in "-+":
        source = source[:-1]
    return source, parts[0]


def _is_blank(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Output) and all(_is_blank_data(part) for part in node.nodes)


def _is_blank_data(node: nodes.Node) -> bool:
    return isinstance(node, nodes.TemplateData) and not node.data.strip()


def _plain_path(node: nodes.Node) -> PillRef | None:
    path: list[str | int] = []
    while True:
        if isinstance(node, nodes.Name):
            return PillRef(node.name, tuple(reversed(path))) if node.name not in _GLOBALS else None
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            key = node.arg.value
            if not isinstance(key, str | int) or isinstance(key, bool):
                return None
            path.append(key)
            node = node.node
        else:
            return None


# --- reading fields without running them ----------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def references(text: str) -> tuple[PillRef, ...]:
    """Every data pill the field uses, in order of appearance, without duplicates.

    Names the template binds itself (``{% for task in ... %}``, ``{% set %}``, ``loop`` of its own
    for-loops, macro arguments) and Jinja's globals (``range`` ...) are not pills. A field with a syntax
    error has none (``syntax_problem`` says what is wrong).
    """
    if "{{" not in text and "{%" not in text:
        return ()
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError:
        return ()
    bound = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    if any(True for _ in tree.find_all(nodes.For)):
        bound.add("loop")
    found: dict[PillRef, None] = {}
    _collect(tree, bound | _GLOBALS, found)
    return tuple(found)


def _collect(node: nodes.Node, bound: set[str] | frozenset[str], found: dict[PillRef, None]) -> None:
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        base: nodes.Node = node
        while isinstance(base, nodes.Getattr) or (
            isinstance(base, nodes.Getitem) and isinstance(base.arg, nodes.Const)
        ):
            base = base.node
        if isinstance(base, nodes.Name):
            if base.ctx == "load" and base.name not in bound:
                reference = _plain_path(node)
                found.setdefault(reference or PillRef(base.name), None)
            return
        if isinstance(base, nodes.Getitem):  # a computed key: x[input.i].name uses x and input.i
            _collect(base.node, bound, found)
            _collect(base.arg, bound, found)
            return
        node = base
    for child in node.iter_child_nodes():
        _collect(child, bound, found)


def syntax_problem(text: str) -> str | None:
    """The field's Jinja syntax error in words, with its line, or None when it is fine."""
    if "{{" not in text and "{%" not in text:
        return None
    try:
        _ENV.parse(text)
    except TemplateSyntaxError as exc:
        return _syntax_message(exc)
    return None


def _syntax_message(exc: TemplateSyntaxError) -> str:
    return f"{_sentence(exc.message)} (line {exc.lineno})"


def _undefined_message(text: str, context: Mapping[str, Any], exc: UndefinedError) -> str:
    """Which pill is missing, named as the builder wrote it: "input has no titel", "steps.step_2 has no
    'id'". Falls back to Jinja's words when the missing value is not a pill (a template's own variable)."""
    for reference in references(text):
        if reference.root not in context:
            return f"{reference.root} is not a data pill here"
        value: Any = context[reference.root]
        where = reference.root
        for depth, key in enumerate(reference.path):
            found = _ENV.getitem(value, key) if isinstance(key, int) else _ENV.getattr(value, key)
            if isinstance(found, Undefined):
                if reference.root == "steps" and depth == 0 and isinstance(key, str):
                    return f"steps.{key} has no value: that step has not run"
                if isinstance(value, list) and isinstance(key, str):
                    return f"{where} is a list: it has no {key!r}"
                if value is None:
                    return f"{where} is empty: it has no {key!r}"
                return (
                    f"{where} has no {key}"
                    if depth == 0 and isinstance(key, str)
                    else (f"{where} has no {key!r}")
                )
            value = found
            where += f"[{key}]" if isinstance(key, int) else f".{key}"
    return _sentence(exc.message)
