"""Acceptance: narrating the seed again after one paragraph changed synthesizes only that
paragraph's changed utterances, as the gTTS stand-in's request log and narrate's cache report
both show. Real CLI subprocesses, a real stand-in on 127.0.0.1, a real on-disk cache."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gtts_standin import GttsStandin
from narrator.pipeline import extract, script_for

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"

# Two sentences of one paragraph are edited; its other sentences stay as they were.
EDITS = [("très portée sur la voiture", "très attachée à la voiture"),
         ("modes de déplacements doux", "modes de déplacement doux")]


def _speeches(html: bytes) -> list[str]:
    return [u.speech for u in script_for(extract(html)).utterances()]


def _narrate(page: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", "from narrator.cli import main; main()", "narrate", str(page),
         "-o", str(out), "--engine", "gtts"],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def _plain(text: str) -> str:
    # gTTS's pre-processing straightens apostrophes; compare texts without that difference.
    return text.replace("\u2019", "'").strip()


def _report(stdout: str) -> tuple[int, int]:
    match = re.search(r"^cache: (\d+) hits, (\d+) misses", stdout, re.MULTILINE)
    assert match, stdout
    return int(match.group(1)), int(match.group(2))


def test_renarrating_after_one_paragraph_changed_synthesizes_only_it(tmp_path):
    html = SEED.read_text(encoding="utf-8")
    changed = html
    for old, new in EDITS:
        assert html.count(old) == 1
        changed = changed.replace(old, new)
    edited = tmp_path / "edited.html"
    edited.write_text(changed, encoding="utf-8")

    before, after = _speeches(html.encode()), _speeches(changed.encode())
    new_speeches = list((Counter(after) - Counter(before)).elements())
    assert len(after) == len(before) > 30 and len(new_speeches) == len(EDITS)
    # The two edited sentences are in the same paragraph (golden text block 7).
    paragraph = (ROOT / "samples" / "mel-resilience.txt").read_text().split("\n\n")[6]
    assert all(old in paragraph for old, _new in EDITS)

    with GttsStandin() as server:
        config = tmp_path / "config.toml"
        # The config file's engine options reach the engine: a fast rate for the test.
        config.write_text(f'[engines.gtts]\nurl = "{server.url}"\nrate = 100\n')
        env = dict(os.environ, NARRATOR_CONFIG=str(config),
                   NARRATOR_CACHE_DIR=str(tmp_path / "cache"))
        env.pop("NARRATOR_GTTS_URL", None)

        first = _narrate(SEED, tmp_path / "first.mp3", env)
        assert _report(first.stdout) == (0, len(before))
        first_requests = len(server.requests)
        assert sum(r.text != "Test" for r in server.requests) >= len(before)

        second = _narrate(edited, tmp_path / "second.mp3", env)
        assert _report(second.stdout) == (len(before) - len(new_speeches), len(new_speeches))
        # Every narrate first probes the endpoint with one "Test" request (engine check).
        sent = [_plain(r.text) for r in server.requests[first_requests:] if r.text != "Test"]

    # Only the edited sentences went to the engine, each whole (maybe cut at clauses).
    new_speeches = [_plain(speech) for speech in new_speeches]
    assert sent, "the edited sentences were not synthesized"
    assert all(any(piece in speech for speech in new_speeches) for piece in sent), sent
    for speech in new_speeches:
        assert any(piece in speech for piece in sent)
    assert (tmp_path / "second.mp3").stat().st_size > 0.9 * (tmp_path / "first.mp3").stat().st_size


def test_no_cache_synthesizes_everything_and_reports_nothing(tmp_path):
    page = ROOT / "samples" / "en-city-heat.html"
    if not page.is_file():
        pytest.skip("samples/en-city-heat.html is not there")
    env = dict(os.environ, NARRATOR_CACHE_DIR=str(tmp_path / "cache"))
    args = [sys.executable, "-c", "from narrator.cli import main; main()", "narrate", str(page),
            "--engine", "espeak"]
    warm = subprocess.run(args + ["-o", str(tmp_path / "a.mp3")], capture_output=True, text=True,
                          env=env, timeout=600)
    assert warm.returncode == 0, warm.stderr
    hits, misses = _report(warm.stdout)
    assert hits == 0 and misses > 10
    cold = subprocess.run(args + ["-o", str(tmp_path / "b.mp3"), "--no-cache"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert cold.returncode == 0, cold.stderr
    assert "cache:" not in cold.stdout
    again = subprocess.run(args + ["-o", str(tmp_path / "c.mp3")], capture_output=True,
                           text=True, env=env, timeout=600)
    assert _report(again.stdout) == (misses, 0)
