"""Compiled fields: a builder-written field compiled once and evaluated for each run's data pills.

``compile_field`` decides the field's kind (literal, single pill or template) and caches the result, so
runs pay for compiling once. ``CompiledField.evaluate`` turns every failure into a ``TemplateError``.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, Literal

from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.runtime import Undefined

from switchboard.recipes.templates.reading import PillRef, plain_path, syntax_message, undefined_message
from switchboard.recipes.templates.sandbox import (
    ENV,
    MAX_ITEMS,
    MAX_TEXT,
    NESTS_TOO_DEEPLY,
    TemplateError,
    Work,
    parse,
    range_budget,
    sentence,
    work_budget,
)

_MISSING: Any = object()
_PLAIN = frozenset({str, int, float, bool, type(None), list, dict})

Kind = Literal["literal", "pill", "template"]


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
        token = range_budget.set([MAX_ITEMS])
        work = work_budget.set(Work())
        try:
            if self.kind == "pill":
                return self._value(context)
            return self._render(context)
        except TemplateError:
            raise
        except UndefinedError as exc:
            raise TemplateError(undefined_message(self.text, context, exc)) from None
        except SecurityError as exc:
            raise TemplateError(f"not allowed: {sentence(exc.message)}") from None
        except JinjaError as exc:
            raise TemplateError(sentence(exc.message)) from None
        except OverflowError:
            raise TemplateError("that number is too large") from None
        except RecursionError:
            raise TemplateError("the template calls itself too deeply") from None
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise TemplateError(sentence(str(exc))) from None
        finally:
            range_budget.reset(token)
            work_budget.reset(work)

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
            value = ENV.getitem(value, key) if isinstance(key, int) else ENV.getattr(value, key)
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


@functools.lru_cache(maxsize=4096)
def compile_field(text: str) -> CompiledField:
    """The compiled field (cached: compiling is the expensive part, and runs reuse it).

    Raises ``TemplateError`` when the field is not valid Jinja syntax.
    """
    if "{{" not in text and "{%" not in text:
        return CompiledField(text, "literal")
    stripped = text.strip()
    try:
        tree = parse(text)
        expression = _single_expression(tree, stripped)
        if expression is not None:
            source, node = expression
            compiled = ENV.compile_expression(source, undefined_to_none=False)
            return CompiledField(text, "pill", expression=_caller(compiled), pill=plain_path(node))
        return CompiledField(text, "template", template=ENV.from_string(tree))
    except TemplateSyntaxError as exc:
        raise TemplateError(syntax_message(exc)) from None
    except (SyntaxError, RecursionError):  # Python's own limits, should the checks of ``parse`` miss one
        raise TemplateError(f"{NESTS_TOO_DEEPLY} (line 1)") from None


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
