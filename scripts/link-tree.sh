#!/usr/bin/env bash
# Builds build/linked/switchboard/{platform,identity,...} as links to the root folders and prints
# the directory holding it. Static tools (mypy, import-linter) read the package from there, under
# the names Python imports it by, without confusing our platform/ with the standard library's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree="$root/build/linked"
rm -rf "$tree" && mkdir -p "$tree/switchboard"
for folder in platform identity connectors recipes ui; do
  [ -d "$root/$folder" ] && ln -s "$root/$folder" "$tree/switchboard/$folder"
done
echo "$tree"
