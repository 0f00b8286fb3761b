"""The README's quick start, Python API example and exit-code table, run exactly as written
(parsed out of README.md), in a fresh folder that has the repository's samples/ and .venv."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def fenced(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # the venv these tests run in
    return tmp_path


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           # offline, as the README's example output says
           "NARRATOR_GTTS_URL": "http://127.0.0.1:9"}
    env.pop("COLUMNS", None)
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_quick_start_prints_what_the_readme_shows(folder):
    blocks = fenced(section("Narrate an article"))
    (lang, commands), (_, shown) = blocks[0], blocks[1]
    assert lang == "sh" and "narrator narrate" in commands
    result = shell("set -e\n" + commands, folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown
    assert (folder / "mel.mp3").is_file() and (folder / "mel.transcript.vtt").is_file()
    extract_lang, extract = next(b for b in blocks[2:] if "narrator extract" in b[1])
    result = shell("set -e\n" + extract, folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Métropole Européenne Lille")


def test_python_api_example_runs(folder):
    [(lang, code)] = fenced(section("Python API"))
    assert lang == "python"
    (folder / "example.py").write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, "example.py"], cwd=folder, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "NARRATOR_GTTS_URL": "http://127.0.0.1:9"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("mel.mp3 246.")
    assert "Métropole Européenne Lille" in lines[1]
    from narrator.engines.pico import PicoEngine
    voices = ("{'espeak': ['fr'], 'pico': ['fr-FR']}" if PicoEngine.unavailable_reason() is None
              else "{'espeak': ['fr']}")
    assert "Heat" in result.stdout and voices in result.stdout
    assert (folder / "mel.mp3").is_file()


def test_exit_code_table_matches_the_cli_and_its_examples_exit_so(folder):
    from narrator.cli import EXIT_CODES

    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \| (?:`([^`]+)`)? ?\|$", section("Narrate an article"),
                      re.MULTILINE)
    assert [(int(code), meaning) for code, meaning, _ in rows] == list(EXIT_CODES)
    for code, _meaning, example in rows:
        if not example:
            continue
        result = shell(example, folder)
        assert result.returncode == int(code), (example, result.stderr)
        assert "Traceback" not in result.stderr
        if code not in ("0", "1"):  # 1: the batch reports its failed article, and ends
            assert result.stderr.startswith("narrator: error: "), result.stderr
