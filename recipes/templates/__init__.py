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
huge widths, ``range`` gives at most 10,000 numbers, and rendered text stops at 100,000 characters. One
evaluation runs its loops at most 100,000 rounds, calls macros at most 10,000 times and stops after a
second; a field nests at most 50 levels. Every failure is a ``TemplateError`` whose message a builder can
act on ("input has no titel").

``sandbox`` holds the environment and its limits, ``fields`` compiles and evaluates fields, ``reading``
finds the pills a field uses and its syntax errors without running it.
"""

from __future__ import annotations

from switchboard.recipes.templates.fields import CompiledField, Kind, compile_field
from switchboard.recipes.templates.reading import PillRef, references, syntax_problem
from switchboard.recipes.templates.sandbox import MAX_INT_BITS, MAX_ITEMS, MAX_RANGE, MAX_TEXT, TemplateError

__all__ = [
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_RANGE",
    "MAX_TEXT",
    "CompiledField",
    "Kind",
    "PillRef",
    "TemplateError",
    "compile_field",
    "references",
    "syntax_problem",
]
