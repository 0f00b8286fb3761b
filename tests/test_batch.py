"""`narrator batch` end to end, as a user runs it (real subprocesses, real SQLite, real MP3s):
kill -9 at random moments and resume, incremental re-runs, pruning, and the podcast feed."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import feedparser
import pytest

from cli_support import catalog_rows as rows
from cli_support import narrator
from test_batch_archive import (build_archive, check_outputs, derive_page, ffmpeg_decodes,
                                isolated_config)  # noqa: F401 (fixture)

ARTICLES = 40


def batch(archive: Path, outdir: Path, *extra: str) -> tuple[int, dict]:
    result = narrator("batch", str(archive), "-o", str(outdir), "--workers", "2", "--json",
                      "--engine", "espeak", *extra)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def assert_clean(outdir: Path, expected_slugs: set[str]) -> None:
    """Only finished outputs of catalogued articles, and nothing temporary, in OUTDIR."""
    allowed = {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", ".batch.lock",
               "feed.xml", "artwork.png", "audio"}
    assert {p.name for p in outdir.iterdir()} <= allowed, sorted(p.name for p in outdir.iterdir())
    names = {p.name for p in (outdir / "audio").iterdir()}
    expected = {f"{slug}{suffix}" for slug in expected_slugs
                for suffix in (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt")}
    assert names == expected, (sorted(names - expected), sorted(expected - names))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    build_archive(root, ARTICLES)
    return root


@pytest.fixture(scope="module")
def first_run(archive, tmp_path_factory):
    """One uninterrupted run: the reference for wall time, and the OUTDIR later tests edit."""
    outdir = tmp_path_factory.mktemp("out")
    code, report = batch(archive, outdir)
    assert code == 0, report
    return outdir, report


def test_kill_9_three_times_then_resume_completes_everything(archive, first_run,
                                                              tmp_path):
    reference = first_run[1]["wall_seconds"]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    outdir = tmp_path / "out"
    command = [sys.executable, "-c", "from narrator.cli import main; main()", "batch",
               str(archive), "-o", str(outdir), "--workers", "2", "--engine", "espeak"]
    kills = []
    for _ in range(3):
        # The whole process group (batch process, forkserver, workers, ffmpeg) dies at once.
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        moment = rng.uniform(0.2, max(1.0, 0.6 * reference))
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        kills.append((round(moment, 2), proc.returncode))
        if outdir.exists() and (outdir / "catalog.sqlite").exists():
            done = [r for r in rows(outdir).values() if r["status"] == "done"]
            for row in done:  # the catalog never says done for an incomplete output
                for suffix in (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt"):
                    assert (outdir / "audio" / f"{row['slug']}{suffix}").is_file()
                assert (outdir / "audio" / f"{row['slug']}.mp3").stat().st_size == \
                    row["mp3_bytes"]
    assert any(code == -signal.SIGKILL for _, code in kills), f"never killed: {kills} ({seed})"

    code, report = batch(archive, outdir)
    assert code == 0, (report, kills, seed)
    assert report["articles"] == ARTICLES and not report["failed"], report
    catalog = rows(outdir)
    assert len(catalog) == ARTICLES
    assert all(r["status"] == "done" for r in catalog.values()), (kills, seed)
    for row in catalog.values():
        check_outputs(outdir, row)
    assert_clean(outdir, {r["slug"] for r in catalog.values()})
    # Same articles, same files, same ids as the uninterrupted run.
    assert set(catalog) == set(rows(first_run[0]))
    assert len(feedparser.parse(str(outdir / "feed.xml")).entries) == ARTICLES


def test_unchanged_archive_synthesizes_nothing(archive, first_run):
    # How fast that is (about 1 % of the first run) is measured by benchmarks/batch.py, not
    # here: a wall-time ratio failed on a loaded machine. This checks the work not done.
    outdir, first = first_run
    assert first["narrated"] == ARTICLES
    before = {p.name: p.stat().st_mtime_ns for p in (outdir / "audio").iterdir()}
    code, report = batch(archive, outdir)
    assert code == 0, report
    assert report["narrated"] == 0 and report["skipped"] == ARTICLES
    assert report["peak_rss_mb"] == {}  # no worker ever ran
    assert {p.name: p.stat().st_mtime_ns for p in (outdir / "audio").iterdir()} == before
    assert report["worker_cpu_seconds"] == 0


def test_feed_lists_every_article_with_enclosure_chapters_and_transcript(first_run):
    outdir, _ = first_run
    parsed = feedparser.parse(str(outdir / "feed.xml"))
    assert not parsed.bozo, parsed.bozo_exception
    catalog = rows(outdir)
    assert len(parsed.entries) == len(catalog) == ARTICLES
    languages = Counter(r["language"] for r in catalog.values())
    top, n = languages.most_common(1)[0]  # a mixed archive: the majority's, else "mul"
    assert parsed.feed.language == (top if 2 * n > ARTICLES else "mul"), languages
    assert parsed.feed.image.href.endswith("artwork.png")
    assert (outdir / "artwork.png").read_bytes().startswith(b"\x89PNG")
    by_title = {r["title"]: r for r in catalog.values()}
    guids = set()
    for entry in parsed.entries:
        row = by_title[entry.title]
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == row["mp3_bytes"] > 0
        assert enclosure.href.endswith(f"audio/{row['slug']}.mp3")
        assert entry.podcast_chapters["type"] == "application/json+chapters"
        assert entry.podcast_chapters["url"].endswith(f"audio/{row['slug']}.chapters.json")
        assert entry.podcast_transcript["url"].endswith(".transcript.vtt")
        assert int(entry.itunes_duration) == round(row["duration"])
        assert entry.published_parsed is not None
        guids.add(entry.id)
    assert len(guids) == ARTICLES


def test_changing_one_article_renarrates_only_it_keeps_its_guid_and_prune(
        archive, first_run, isolated_config, monkeypatch):
    outdir, _ = first_run
    # the synthesis cache the first run filled (conftest gives each test an empty one)
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(isolated_config / "cache"))
    monkeypatch.setenv("NARRATOR_CONFIG", str(isolated_config / "config.toml"))
    code, _ = batch(archive, outdir, "--base-url", "https://cdn.example/podcast/")
    assert code == 0
    before = feedparser.parse(str(outdir / "feed.xml"))
    assert before.feed.links[0].href.startswith("https://cdn.example/podcast/")
    assert all(e.enclosures[0].href.startswith("https://cdn.example/podcast/audio/")
               for e in before.entries)
    guids = {e.link: e.id for e in before.entries}

    page = sorted(archive.rglob("*.html"))[7]
    n = int(page.stem[-3:])
    sample = Path(__file__).resolve().parent.parent / "samples" / f"{page.parent.name}.html"
    page.write_bytes(derive_page(sample, n, stamp=" (updated)"))
    code, report = batch(archive, outdir)
    assert code == 0, report
    assert report["narrated"] == 1 and report["skipped"] == ARTICLES - 1, report
    changed = [r for r in rows(outdir).values() if r["title"].endswith("(updated)")]
    assert len(changed) == 1 and changed[0]["key"] == str(page)
    # The synthesis cache: only the changed utterance (the title) was synthesized again.
    cache = json.loads(changed[0]["timings"])["cache"]
    assert cache["misses"] >= 1 and cache["hits"] >= 1, cache
    ffmpeg_decodes(outdir / "audio" / f"{changed[0]['slug']}.mp3")
    after = feedparser.parse(str(outdir / "feed.xml"))  # base URL remembered, guids stable
    assert {e.link: e.id for e in after.entries} == guids
    assert any(e.title.endswith("(updated)") for e in after.entries)
    assert all(e.enclosures[0].href.startswith("https://cdn.example/podcast/audio/")
               for e in after.entries)

    gone_page = sorted(archive.rglob("*.html"))[3]
    gone_page.unlink()
    code, report = batch(archive, outdir)
    assert code == 0 and len(report["gone"]) == 1 and not report["pruned"], report
    gone_id = report["gone"][0]
    assert gone_id in rows(outdir)  # reported, kept
    code, report = batch(archive, outdir, "--prune")
    assert report["pruned"] == [gone_id], report
    catalog = rows(outdir)
    assert gone_id not in catalog and len(catalog) == ARTICLES - 1
    assert_clean(outdir, {r["slug"] for r in catalog.values()})
    assert len(feedparser.parse(str(outdir / "feed.xml")).entries) == ARTICLES - 1


def test_bad_pages_are_recorded_the_batch_goes_on_and_retry_failed(tmp_path):
    archive = tmp_path / "archive"
    build_archive(archive, 2)
    bad = archive / "bad.html"
    bad.write_bytes(b"<html><head><title>x</title></head><body><nav>Menu</nav></body></html>")
    first = sorted(archive.rglob("*-000.html"))[0]
    (archive / "zz").mkdir()
    (archive / "zz" / "copy.html").write_bytes(first.read_bytes())  # same canonical URL
    outdir = tmp_path / "out"
    code, report = batch(archive, outdir)
    assert code != 0
    assert report["narrated"] == 2 and [f["id"] for f in report["failed"]] == [str(bad)]
    assert [d["key"] for d in report["duplicates"]] == [str(archive / "zz" / "copy.html")]
    assert "NoArticleError" in report["failed"][0]["error"]
    row = rows(outdir)[str(bad)]
    assert row["status"] == "failed" and row["error"] and row["slug"] is None

    code, report = batch(archive, outdir)  # unchanged: not retried, still a failure
    assert code != 0 and report["narrated"] == 0 and len(report["still_failed"]) == 1
    code, report = batch(archive, outdir, "--retry-failed")
    assert code != 0 and len(report["failed"]) == 1 and rows(outdir)[str(bad)]["attempts"] == 2

    good = next(archive.rglob("*-000.html")).read_bytes()
    bad.write_bytes(good.replace(b"?part=0", b"?part=fixed").replace(b"part 0", b"part fixed"))
    code, report = batch(archive, outdir)
    assert code == 0 and report["narrated"] == 1, report
    # The failure recorded under the path gave way to the article's canonical id.
    assert str(bad) not in rows(outdir)

    status = narrator("batch", "status", str(outdir), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["counts"] == {"done": 3}
    text = narrator("batch", "status", str(outdir))
    assert "3 articles (3 done)" in text.stdout


def test_cli_errors_are_one_line(tmp_path):
    result = narrator("batch", str(tmp_path / "missing"), "-o", str(tmp_path / "out"))
    assert result.returncode != 0
    assert result.stderr.strip().startswith("narrator: error: source not found")
    assert "Traceback" not in result.stderr
    result = narrator("batch", "status", str(tmp_path))
    assert result.returncode != 0 and "no batch catalog" in result.stderr


def crash_on_marker(job: dict) -> dict:
    """A job function that kills its worker process on one page, as a segfault would."""
    from narrator.batch.worker import narrate_job

    if b"KILL-THIS-WORKER" in job["html"]:
        os._exit(70)
    return narrate_job(job)


def test_a_worker_process_that_dies_fails_only_its_article_and_workers_recycle(tmp_path):
    from narrator.batch import BatchOptions, run_batch
    from narrator.batch.executors import LocalExecutor

    archive = tmp_path / "archive"
    build_archive(archive, 3)
    page = sorted(archive.rglob("*.html"))[0].read_bytes()
    (archive / "crash.html").write_bytes(page.replace(b"?part=0", b"?part=crash")
                                         .replace(b"</body>", b"<!-- KILL-THIS-WORKER --></body>"))
    # recycle_after=1: each pool takes 2 jobs, then a fresh pool (new processes) takes over
    report = run_batch(str(archive), tmp_path / "out", BatchOptions(engine="espeak", workers=2),
                       executor=LocalExecutor(2, recycle_after=1, job_function=crash_on_marker))
    assert report.narrated == 3, report.failed
    assert len(report.peak_rss_mb) >= 3  # worker processes were recycled
    (failure,) = report.failed
    assert failure["id"].endswith("?part=crash") and "worker process died" in failure["error"]
    catalog = rows(tmp_path / "out")
    assert sum(r["status"] == "done" for r in catalog.values()) == 3
    for row in catalog.values():
        if row["status"] == "done":
            check_outputs(tmp_path / "out", row)


def test_feed_survives_odd_metadata_and_uses_the_articles_dates():
    from narrator.batch.catalog import Row
    from narrator.batch.feed import render_feed

    fields = {name: None for name in Row.__dataclass_fields__}
    rows_ = [
        Row(**dict(fields, id="https://a.example/x", source="s", key="k1", status="done",
                   attempts=1, slug="x-1", title="Caf\u00e9 <b>&</b> \x0bcontrol\x01",
                   description="Line \x1f one", url="https://a.example/x", language="fr",
                   published="2024-05-06T07:08:09+02:00", duration=61.4, mp3_bytes=1234,
                   narrated_hash="h")),
        Row(**dict(fields, id="/archive/y.html", source="s", key="k2", status="done",
                   attempts=1, slug="y-2", title="Sans date", language="fr",
                   published="not a date", duration=5.0, mp3_bytes=99, narrated_hash="h",
                   first_done_at=1_700_000_000.0)),
    ]
    xml = render_feed(rows_, base="https://cdn.example/p/", artwork="artwork.png", title=None)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.bozo_exception
    first, second = parsed.entries
    assert first.title == "Café <b>&</b> control"  # escaped in the XML, control chars gone
    assert first.published_parsed[:6] == (2024, 5, 6, 5, 8, 9)  # in UTC
    assert second.published_parsed[:3] == (2023, 11, 14)  # when first narrated
    assert first.enclosures[0].href == "https://cdn.example/p/audio/x-1.mp3"
    assert first.itunes_duration == "61"
    assert first.id != second.id and first.id == render_feed(
        rows_[:1], base="https://other.example/", artwork="a.png", title="t").split(
        '<guid isPermaLink="false">')[1].split("<")[0]
    assert parsed.feed.language == "fr" and parsed.feed.title == "a.example: narrated articles"


def test_settings_that_change_the_sound_re_narrate_and_others_do_not(tmp_path):
    from narrator.batch import BatchOptions

    rules = tmp_path / "site.toml"
    rules.write_text('name = "site"\n[drop]\nselectors = [".promo"]\n')
    base = BatchOptions(engine="espeak", rules=(str(rules),))
    assert base.settings_hash() == BatchOptions(engine="espeak", rules=(str(rules),),
                                                workers=7, base_url="https://x/").settings_hash()
    for other in (BatchOptions(engine="espeak", rules=(str(rules),), bitrate_kbps=96),
                  BatchOptions(engine="espeak", rules=(str(rules),), voice="en"),
                  BatchOptions(engine="auto", rules=(str(rules),)),
                  BatchOptions(engine="espeak")):
        assert other.settings_hash() != base.settings_hash()
    before = base.settings_hash()
    rules.write_text('name = "site"\n[drop]\nselectors = [".promo", ".aside"]\n')
    assert base.settings_hash() != before  # the rules file's content counts, not its name
