"""What is wrong with a recipe, found on save and before publishing, and the pills a step may use.

``RecipeValidator.check`` lists every problem in step order, each with the step's display number
(``2.1``; ``trigger`` for the trigger; empty for the recipe as a whole), the field at fault
(``inputs.title``, ``conditions.1.right``) and a message a builder can act on. Saving a draft shows them;
publishing refuses a draft that has any.

``validator`` runs the checks of ``trigger``, ``steps`` (each step's settings; an action step's app,
connection and inputs) and ``references`` (the data pills a step uses, within its ``scope``); ``lookups``
finds connectors and connections once per check. ``pills`` lists what the editor's pill picker offers.
"""

from __future__ import annotations

from switchboard.recipes.validation.pills import PillOption, available_pills
from switchboard.recipes.validation.validator import RecipeValidator

__all__ = ["PillOption", "RecipeValidator", "available_pills"]
