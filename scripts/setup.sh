#!/usr/bin/env bash
# Sets up a fresh machine for narrator: a virtual environment in .venv with narrator and
# everything its tests need. Idempotent: run it again after pulling.
# PYTHON (default python3), VENV (default .venv) and EXTRAS (default test,batch) choose
# another interpreter, folder and extras (CI's Python 3.13 smoke test: see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# The player's browser tests drive Debian's Chromium (never a downloaded browser).
if [ "$(id -u)" = 0 ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-test,batch}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[$EXTRAS]"
# The Kokoro tests' two voices (1 MB), from the npm registry's kokoro-js tarball (27 MB, checked
# against its SHA-256) into a git-ignored folder: only where the Kokoro engine is installed.
if "$VENV/bin/python" -c 'import kokoro_onnx' 2>/dev/null; then
    "$VENV/bin/python" -c 'from pathlib import Path
from narrator.engines.kokoro_install import install_voices
install_voices(["ff_siwis", "af_heart"], Path(".test-data/kokoro-voices"))'
fi
echo "narrator is installed in $VENV: . $VENV/bin/activate && narrator --help"
