"""``switchboard recipes``: list, export to a file and import elsewhere, as builders keep recipes in Git."""

from __future__ import annotations

import json
from pathlib import Path

from tests.platform.conftest import Cli


def test_recipes_list_shows_the_published_demo_recipes(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    result = cli("recipes", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Demo\tcreate_task\tpublished\tv1",
        "Demo\tlist_tasks\tpublished\tv1",
        "Demo\twhoami\tpublished\tv1",
    ]


def test_an_exported_recipe_imports_into_another_project_and_publishes(cli: Cli, tmp_path: Path) -> None:
    assert cli("demo").exit_code == 0
    target = tmp_path / "create_task.recipe.json"
    exported = cli("recipes", "export", "create_task", "--project", "Demo", "-o", str(target))
    assert exported.exit_code == 0, exported.stderr
    document = json.loads(target.read_text())
    assert document["format"] == "switchboard-recipe"
    assert document["definition"]["steps"][0]["connection"] == {"name": "Demo Tasks", "id": None}
    assert "client_secret" not in target.read_text()

    # Staging has no "Demo Tasks" connection: the draft is imported and its problem named, not published.
    imported = cli("recipes", "import", str(target), "--project", "Staging", "--publish")
    assert imported.exit_code == 1
    assert imported.stdout == ""
    assert imported.stderr.startswith("error: The recipe has 1 problem: Step 1, connection: ")
    listed = cli("recipes", "list", "--project", "Staging").stdout
    assert listed == "Staging\tcreate_task\tdraft\t-\n"

    again = cli("recipes", "import", str(target), "--project", "Staging")
    assert again.exit_code == 1
    assert "already has a recipe named 'create_task'" in again.stderr
    replaced = cli("recipes", "import", str(target), "--project", "Staging", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stdout == "Recipe create_task imported into Staging as a draft.\n"
    assert replaced.stderr.startswith("problem: Step 1, connection: ")


def test_importing_a_file_that_is_not_a_recipe_export_says_so(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "n8n"}')
    result = cli("recipes", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad} is not a recipe export: ")
    assert "$.format" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert cli("recipes", "import", str(broken)).stderr.startswith(f"error: {broken} is not JSON: ")


def test_exporting_an_unknown_recipe_names_what_is_missing(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    result = cli("recipes", "export", "nope", "--project", "Demo")
    assert (result.exit_code, result.stderr) == (1, "error: project Demo has no recipe named 'nope'\n")
    result = cli("recipes", "export", "whoami", "--project", "Nowhere")
    assert (result.exit_code, result.stderr) == (1, "error: no project named 'Nowhere'\n")
