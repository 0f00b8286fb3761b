"""Running narrator as a user does: the `narrator` command, in a subprocess of this Python,
with what it prints captured as text."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

NARRATOR = [sys.executable, "-c", "from narrator.cli import main; main()"]


def narrator(*args, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """`narrator ARGS...` (each turned into a string), waited for at most `timeout` seconds;
    `kwargs` go to subprocess.run (env=, cwd=...)."""
    return subprocess.run([*NARRATOR, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def isolated_env(tmp_path: Path) -> dict:
    """This process's environment with narrator's own folders and config file (empty) under
    `tmp_path`, and gTTS's probe sent to a closed local port: never the internet."""
    env = dict(os.environ)
    env.update(NARRATOR_VOICES_DIR=str(tmp_path / "voices"),
               NARRATOR_CONFIG=str(tmp_path / "config.toml"),
               NARRATOR_CACHE_DIR=str(tmp_path / "cache"),
               NARRATOR_GTTS_URL="http://127.0.0.1:9")
    (tmp_path / "config.toml").write_text("")
    return env


def catalog_rows(outdir: Path) -> dict[str, dict]:
    """A batch OUTDIR's catalog: article id -> its row."""
    db = sqlite3.connect(outdir / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in db.execute("SELECT * FROM articles")}
    finally:
        db.close()
