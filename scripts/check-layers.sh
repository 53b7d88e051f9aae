#!/usr/bin/env bash
# The import-layer contract of docs/architecture.md (.importlinter), checked on the package.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$("$root/scripts/link-tree.sh")
cd "$root" && PYTHONPATH="$tree" exec "$root/.venv/bin/lint-imports" --no-cache
