"""Recipe tables: recipes with their editable draft, frozen published versions, and the run history."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from switchboard.connectors.tables import Project


class Recipe(Table, tablename="recipes_recipe"):
    """A recipe: its draft definition (edited) and the number of its published version, if any.

    (project, tool_name) is unique (index in the migration): the tool name is the draft trigger's name.
    """

    id = UUID(primary_key=True)
    project = ForeignKey(references=Project, on_delete=OnDelete.restrict, null=False, index=True)
    tool_name = Varchar(length=64, help_text="The draft trigger's tool name.")
    draft = Text(help_text="The draft definition (JSON of RecipeDefinition).")
    published_version = Integer(null=True, default=None, help_text="The version tools run; none: draft.")
    created_by = Varchar(length=254, default="")
    created_at = Timestamptz()
    updated_by = Varchar(length=254, default="")
    updated_at = Timestamptz()


class RecipeVersion(Table, tablename="recipes_version"):
    """A published version, never changed afterwards; (recipe, number) is unique (migration index)."""

    id = UUID(primary_key=True)
    recipe = ForeignKey(references=Recipe, on_delete=OnDelete.cascade, null=False, index=True)
    number = Integer()
    definition = Text(help_text="The frozen definition (JSON of RecipeDefinition).")
    published_by = Varchar(length=254, default="")
    published_at = Timestamptz()


class RecipeRun(Table, tablename="recipes_run"):
    """One run of a recipe (a tool call or a test from the editor), written once when it ends.

    Inputs and outputs are stored with secrets masked and large values truncated.
    """

    id = UUID(primary_key=True)
    recipe = ForeignKey(references=Recipe, on_delete=OnDelete.cascade, null=False, index=True)
    version = Integer(null=True, default=None, help_text="The version that ran; none: the draft (a test).")
    kind = Varchar(length=10, help_text="'tool' or 'test'.")
    caller_id = UUID(null=True, default=None)
    caller_email = Varchar(length=254, default="")
    started_at = Timestamptz(index=True)
    duration_ms = Integer(default=0)
    outcome = Varchar(length=24, index=True)
    message = Text(default="")
    input = JSON(help_text="The tool's input, masked and truncated.")
    result = JSON(help_text="The tool result (text and structured content), masked and truncated.")
    steps = JSON(help_text="Per step: number, id, title, status, duration, input, output, error.")
    steps_omitted = Integer(default=0, help_text="Step runs past the record's limit, run but not recorded.")
