"""Acceptance: `narrator narrate samples/mel-resilience.html --engine gtts` against the local
stand-in answering 30 % of requests with 429 or 500. The MP3 is complete with its chapters,
every utterance was requested, no request exceeded 100 characters or ended mid-clause where a
cut between clauses was possible, and the request rate stayed under the configured limit."""
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gtts_standin import GttsStandin
from narrator import pipeline
from narrator.engines.text_split import avoidable_mid_clause_cuts, split_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "mel-resilience.html"
RATE = 12.0
PROBE = "Test"        # the one-word availability probe the pipeline sends first


def _narrate(tmp_path, server, out):
    config = tmp_path / "config.toml"
    config.write_text(f'[engines.gtts]\nrate = {RATE}\nretries = 12\nbackoff = 0.05\n'
                      f'max_backoff = 0.5\n', encoding="utf-8")
    env = {**os.environ, "NARRATOR_GTTS_URL": server.url, "NARRATOR_CONFIG": str(config),
           "NARRATOR_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "narrator", "narrate", str(SAMPLE), "-o",
                           str(out), "--engine", "gtts"], env=env, capture_output=True,
                          text=True, timeout=300)


def test_narrate_with_gtts_through_30_percent_failures(tmp_path):
    script = pipeline.script_for(pipeline.extract(SAMPLE.read_bytes()))
    utterances = [u.speech for u in script.utterances()]
    expected = {chunk for text in utterances for chunk in split_text(text)}
    out = tmp_path / "mel.mp3"

    with GttsStandin(fail_rate=0.3, failures=("429", "500"), seed=23) as server:
        done = _narrate(tmp_path, server, out)
        requests = list(server.requests)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    # The stand-in really failed ~30 % of the requests, and the narration went through them.
    outcomes = Counter(r.outcome for r in requests)
    assert outcomes["429"] + outcomes["500"] >= 0.25 * len(requests), outcomes
    assert set(outcomes) <= {"ok", "429", "500"}, outcomes          # no "bad" (malformed/long)

    # Every utterance was requested and answered, and nothing else was asked.
    spoken = [r for r in requests if r.text != PROBE]
    assert {r.text for r in spoken if r.outcome == "ok"} == expected
    assert {r.text for r in spoken} == expected
    assert all(r.lang == "fr" for r in spoken)

    # No request over 100 characters, none ending inside a clause that fit in one request.
    assert max(len(r.text) for r in requests) <= 100
    for text in utterances:
        assert avoidable_mid_clause_cuts(text, split_text(text)) == [], text

    # The rate limit held: mean rate, and at most RATE + 1 request starts in any 1 s window.
    times = sorted(r.time for r in requests)
    assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.02
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 1.0) <= RATE + 1

    # The MP3 is complete: its length is the timeline's, every chapter is in its ID3 tags,
    # every utterance has its cue in the transcript.
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    chapters_json = json.loads(out.with_suffix(".chapters.json").read_text(encoding="utf-8"))
    duration = chapters_json["narrator"]["duration"]
    assert abs(MP3(out).info.length - duration) < 0.5
    assert chapters_json["narrator"]["engine"] == "gtts"
    tags = ID3(out)
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    titles = [c.sub_frames["TIT2"].text[0] for c in chaps]
    assert len(chaps) == len(script.chapters) >= 2
    assert titles == [c["title"] for c in chapters_json["chapters"]]
    assert chaps[-1].end_time / 1000 >= duration - 0.5
    cues = out.with_suffix(".transcript.vtt").read_text(encoding="utf-8").count(" --> ")
    assert cues == len(utterances)
    # The text says how much audio to expect: espeak-ng (the stand-in's voice) speaks ~14
    # characters a second, so a truncated narration would be far shorter.
    assert duration > sum(len(t) for t in utterances) / 14 * 0.6


def test_a_failing_endpoint_is_a_clear_error_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # The probe and the first utterances pass, then every request fails: the engine gives up
    # in the middle of the article.
    with GttsStandin(plan=["ok"] * 6, fail_rate=1.0, failures=("500", "empty"),
                     speak=False) as server:
        options = pipeline.NarrateOptions(
            engine="gtts", workers=2,
            engine_options={"url": server.url, "retries": 2, "backoff": 0.01, "rate": 50})
        try:
            pipeline.narrate(SAMPLE.read_bytes(), out_dir / "mel.mp3", options=options)
        except Exception as exc:  # noqa: BLE001 - the type is what this test checks
            error = exc
        else:
            raise AssertionError("narrate succeeded against a failing endpoint")
    from narrator.errors import EngineError

    assert isinstance(error, EngineError)
    message = str(error)
    assert "after 3 tries" in message and "\n" not in message
    assert list(out_dir.iterdir()) == []                 # no MP3, no sidecar, no temp file


def test_cli_reports_an_endpoint_that_refuses(tmp_path):
    with GttsStandin(speak=False) as server:
        env = {**os.environ, "NARRATOR_GTTS_URL": server.url + "/wrong/batchexecute",
               "NARRATOR_CACHE_DIR": str(tmp_path / "cache")}
        done = subprocess.run([sys.executable, "-m", "narrator", "narrate", str(SAMPLE), "-o",
                               str(tmp_path / "x.mp3"), "--engine", "gtts"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("narrator: error:"), done.stderr
    assert "gtts" in lines[0] and "HTTP 404" in lines[0]
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.hostile
def test_an_explicit_gtts_engine_probes_with_its_own_retries(tmp_path):
    """`--engine gtts`: the start-up probe is a request like any other, retried with the
    engine's backoff; failures at the start (here the first three requests answer 500, 429,
    500) do not fail the narration (issue 12; before, two tries, then a refusal)."""
    out = tmp_path / "mel.mp3"
    with GttsStandin(plan=["500", "429", "500"], failures=("500",)) as server:
        done = _narrate(tmp_path, server, out)
        requests = list(server.requests)
    assert done.returncode == 0, done.stderr
    assert [r.outcome for r in requests[:4]] == ["500", "429", "500", "ok"]
    assert requests[3].text == PROBE and out.is_file()
