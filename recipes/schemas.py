"""What the recipe service gives and takes: a recipe with its draft, its versions, a new recipe, a saved
draft with its problems."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from switchboard.recipes.model import RecipeDefinition
from switchboard.recipes.outcomes import Problem

RecipeStatus = Literal["draft", "published", "changed"]


class Recipe(msgspec.Struct, frozen=True, kw_only=True):
    """A recipe with its draft. ``status``: never published, published, or published with draft changes."""

    id: UUID
    project_id: UUID
    project_name: str
    draft: RecipeDefinition
    published_version: int | None
    status: RecipeStatus
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def tool_name(self) -> str:
        return self.draft.trigger.name

    @property
    def title(self) -> str:
        return self.draft.trigger.title or self.draft.trigger.name


class RecipeVersion(msgspec.Struct, frozen=True, kw_only=True):
    recipe_id: UUID
    number: int
    definition: RecipeDefinition
    published_by: str
    published_at: datetime


class VersionSummary(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    tool_name: str
    published_by: str
    published_at: datetime


class RecipeCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new recipe: its project and tool name; title and description are optional."""

    project_id: UUID
    name: str
    title: str = ""
    description: str = ""


class SavedDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A saved draft and what is still wrong with it (saving never waits for a recipe to be complete)."""

    recipe: Recipe
    problems: list[Problem]
