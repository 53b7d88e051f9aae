"""Reading a field without running it: the data pills it uses, and what is wrong with its syntax.

Validation and the editor read fields this way; the messages of a failed evaluation use it too, to name
a missing pill as the builder wrote it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import msgspec
from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError, UndefinedError
from jinja2.runtime import Undefined

from switchboard.recipes.templates.sandbox import ENV, GLOBALS, parse, sentence


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


def plain_path(node: nodes.Node) -> PillRef | None:
    """The pill an expression is when it is a plain path (``input.title``, ``steps.step_1['id']``)."""
    path: list[str | int] = []
    while True:
        if isinstance(node, nodes.Name):
            return PillRef(node.name, tuple(reversed(path))) if node.name not in GLOBALS else None
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
        tree = parse(text)
    except TemplateSyntaxError:
        return ()
    bound = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    if any(True for _ in tree.find_all(nodes.For)):
        bound.add("loop")
    found: dict[PillRef, None] = {}
    _collect(tree, bound | GLOBALS, found)
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
                reference = plain_path(node)
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
        parse(text)
    except TemplateSyntaxError as exc:
        return syntax_message(exc)
    return None


def syntax_message(exc: TemplateSyntaxError) -> str:
    return f"{sentence(exc.message)} (line {exc.lineno})"


def undefined_message(text: str, context: Mapping[str, Any], exc: UndefinedError) -> str:
    """Which pill is missing, named as the builder wrote it: "input has no titel", "steps.step_2 has no
    'id'". Falls back to Jinja's words when the missing value is not a pill (a template's own variable)."""
    for reference in references(text):
        if reference.root not in context:
            return f"{reference.root} is not a data pill here"
        value: Any = context[reference.root]
        where = reference.root
        for depth, key in enumerate(reference.path):
            found = ENV.getitem(value, key) if isinstance(key, int) else ENV.getattr(value, key)
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
    return sentence(exc.message)
