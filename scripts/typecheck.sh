#!/usr/bin/env bash
# Strict type check of the code folders, as the `switchboard` package.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$("$root/scripts/link-tree.sh")
cd "$tree" && exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" -p switchboard
