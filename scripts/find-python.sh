#!/usr/bin/env bash
# Print the path of a working CPython 3.10 (Rasa 3.6 runs on 3.8-3.10, not 3.11):
# `python3.10` on PATH if it really runs (a pyenv shim may exist but refuse), else pyenv's.
set -u
candidates=()
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for p in "$root"/versions/3.10*/bin/python3.10; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -x "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    echo "$p"
    exit 0
  fi
done
echo "error: CPython 3.10 not found (tried python3.10 on PATH and pyenv). Install it, e.g. 'pyenv install 3.10.13'." >&2
exit 1
