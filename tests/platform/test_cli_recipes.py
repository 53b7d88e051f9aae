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
    imported = cli("recipes", "import", str(target), "--project", "Staging", "--create-project", "--publish")
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
    assert (result.exit_code, result.stderr) == (1, "error: No project named 'Nowhere'. Projects: Demo.\n")
    result = cli("recipes", "export", "nope")
    assert (result.exit_code, result.stderr) == (1, "error: No recipe named 'nope' in any project.\n")


def test_importing_into_a_project_that_does_not_exist_is_refused_naming_the_projects(
    cli: Cli, tmp_path: Path
) -> None:
    for name in ("Sales", "Support"):
        assert cli("projects", "create", name).exit_code == 0
    target = tmp_path / "whoami.recipe.json"
    assert cli("demo").exit_code == 0
    assert cli("recipes", "export", "whoami", "--project", "Demo", "-o", str(target)).exit_code == 0

    refused = cli("recipes", "import", str(target), "--project", "Salez")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: No project named 'Salez'. Projects: Demo, Sales, Support. "
        "Add --create-project to create it.\n"
    )
    assert refused.stdout == ""
    assert cli("projects", "list").stdout.splitlines() == ["Demo", "Sales", "Support"]

    created = cli("recipes", "import", str(target), "--project", "Salez", "--create-project")
    assert created.exit_code == 0, created.stderr
    assert created.stdout == "Recipe whoami imported into Salez as a draft.\n"
    assert cli("recipes", "list", "--project", "Salez").stdout == "Salez\twhoami\tdraft\t-\n"


def test_export_without_a_project_finds_a_recipe_by_its_unique_tool_name(cli: Cli) -> None:
    assert cli("demo").exit_code == 0
    result = cli("recipes", "export", "whoami")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["definition"]["trigger"]["name"] == "whoami"


def test_export_without_a_project_asks_for_one_when_several_projects_have_the_tool(
    cli: Cli, tmp_path: Path
) -> None:
    assert cli("demo").exit_code == 0
    target = tmp_path / "whoami.recipe.json"
    assert cli("recipes", "export", "whoami", "--project", "Demo", "-o", str(target)).exit_code == 0
    copied = cli("recipes", "import", str(target), "--project", "Staging", "--create-project")
    assert copied.exit_code == 0, copied.stderr

    result = cli("recipes", "export", "whoami")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Several projects have a recipe named 'whoami': Demo, Staging. Choose one with --project.\n"
    )
    assert result.stdout == ""
    chosen = cli("recipes", "export", "whoami", "--project", "Staging")
    assert chosen.exit_code == 0, chosen.stderr


def test_importing_the_same_recipe_again_with_publish_keeps_its_version(cli: Cli, tmp_path: Path) -> None:
    """A deployment script may run the same import twice: the second publishes nothing new and succeeds."""
    assert cli("demo").exit_code == 0
    target = tmp_path / "whoami.recipe.json"
    assert cli("recipes", "export", "whoami", "-o", str(target)).exit_code == 0

    first = cli("recipes", "import", str(target), "--project", "Demo", "--replace", "--publish")
    again = cli("recipes", "import", str(target), "--project", "Demo", "--replace", "--publish")

    assert (first.exit_code, again.exit_code) == (0, 0), (first.stderr, again.stderr)
    assert again.stdout == (
        "Recipe whoami imported into Demo as a draft.\nUnchanged: version 1 stays published.\n"
    )
    assert cli("recipes", "list", "--project", "Demo").stdout.count("whoami\tpublished\tv1") == 1
