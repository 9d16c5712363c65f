#!/usr/bin/env bash
# Runs the whole test suite once. pytest's exit code 5 means it collected no test at all: for
# `make test` that is a broken setup, never a pass, so it is reported as exactly that.
set -uo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv 2>/dev/null || echo "python3 -m uv")
$UV run --frozen pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests (exit code 5): the suite is misconfigured, failing on purpose." >&2
  exit 1
fi
exit "$rc"
