"""The recipes' own domain errors: a recipe refused for its problems, each listed in the details, and a
publish that would change nothing."""

from __future__ import annotations

from typing import Any

import msgspec

from switchboard.platform.core.errors import Conflict, DomainError
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


class NothingChanged(Conflict):
    """Publishing a draft identical to the published version: no version is made."""

    code = "nothing_changed"

    def __init__(self, version: int) -> None:
        super().__init__(f"Nothing changed since version {version}.")
        self.version = version

    def details(self) -> dict[str, Any]:
        return {"version": self.version}
