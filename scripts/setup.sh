#!/usr/bin/env bash
# Sets up a fresh machine for narrator: a virtual environment in .venv with narrator and
# everything its tests need. Idempotent: run it again after pulling.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "narrator is installed in .venv: . .venv/bin/activate && narrator --help"
