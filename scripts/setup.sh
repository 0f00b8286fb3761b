#!/usr/bin/env bash
# Sets up a fresh machine for narrator: a virtual environment in .venv with narrator and
# everything its tests need. Idempotent: run it again after pulling.
set -euo pipefail
cd "$(dirname "$0")/.."
# The player's browser tests drive Debian's Chromium (never a downloaded browser).
if [ "$(id -u)" = 0 ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,batch]"
echo "narrator is installed in .venv: . .venv/bin/activate && narrator --help"
