"""The recipes' own domain error: a recipe refused for its problems, each listed in the details."""

from __future__ import annotations

from typing import Any

import msgspec

from switchboard.platform.core.errors import DomainError
from switchboard.recipes.outcomes import Problem


class RecipeInvalid(DomainError):
    """Publishing (or importing) a recipe with problems: every problem is listed."""

    code = "recipe_invalid"
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"The recipe has {count} problem{'s' if count != 1 else ''}: "
            + "; ".join(str(problem) for problem in problems[:5])
            + (" …" if count > 5 else "")
        )
        self.problems = problems

    def details(self) -> dict[str, Any]:
        return {"problems": msgspec.to_builtins(self.problems)}
