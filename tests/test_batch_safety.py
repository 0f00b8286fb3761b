"""Nothing of the user's is lost: a batch deletes only what it can prove it wrote (issue 12,
item 1). Real `narrator batch` subprocesses, real files."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from cli_support import catalog_rows as rows
from cli_support import narrator
from test_batch_archive import build_archive, isolated_config  # noqa: F401 (fixture)

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "mel-resilience.html"
SUFFIXES = (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt")


def batch(source: Path, outdir: Path, *extra: str) -> subprocess.CompletedProcess:
    return narrator("batch", str(source), "-o", str(outdir), "--engine", "espeak",
                    "--workers", "1", "--json", *extra)


def user_files(root: Path) -> dict[str, bytes]:
    """The issue's repro: someone's files in the folder given as OUTDIR."""
    (root / "audio" / "old").mkdir(parents=True)
    files = {"audio/my.mp3": b"my recording", "audio/old/a.mp3": b"an old one",
             "notes.tmp": b"my notes", ".tmp-notes": b"hidden notes"}
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def assert_untouched(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert (root / name).is_file(), f"{name} was deleted"
        assert (root / name).read_bytes() == data, f"{name} was changed"


def test_a_non_empty_outdir_without_a_catalog_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "o"
    files = user_files(out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = batch(SAMPLE, out)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("narrator: error: "), result.stderr
    assert "not empty" in lines[0] and "--adopt" in lines[0]
    assert_untouched(out, files)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # not even a lock


def test_adopt_adds_narrators_files_and_deletes_nothing_foreign(tmp_path):
    out = tmp_path / "o"
    files = user_files(out)
    result = batch(SAMPLE, out, "--adopt")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["narrated"] == 1 and not report["cleaned"], report
    assert_untouched(out, files)
    assert (out / "feed.xml").is_file() and (out / "catalog.sqlite").is_file()
    # Adopted now: more of the user's files, in every place narrator writes or cleans.
    (out / ".staging").mkdir()
    more = {"audio/.hidden": b"h", "audio/notes.txt": b"n", "x.tmp": b"t",
            ".staging/mine.txt": b"m", "audio/old/b.mp3.tmp": b"b"}
    for name, data in more.items():
        (out / name).write_bytes(data)
    slug = next(iter(rows(out).values()))["slug"]
    (out / "audio" / f"{slug}.mp3.bak").write_bytes(b"a backup of narrator's file")
    more[f"audio/{slug}.mp3.bak"] = b"a backup of narrator's file"
    result = batch(SAMPLE, out)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == 1
    assert_untouched(out, {**files, **more})


def test_adopt_refuses_a_folder_whose_feed_it_would_overwrite(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "feed.xml").write_text("<rss>someone else's podcast</rss>")
    result = batch(SAMPLE, out, "--adopt")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "feed.xml" in result.stderr
    assert (out / "feed.xml").read_text() == "<rss>someone else's podcast</rss>"


def test_an_empty_folder_or_one_with_only_the_publishers_artwork_is_used(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "artwork.jpg").write_bytes(b"\xff\xd8\xff publisher's artwork")
    result = batch(SAMPLE, out)
    assert result.returncode == 0, result.stderr
    assert (out / "artwork.jpg").read_bytes() == b"\xff\xd8\xff publisher's artwork"
    assert not (out / "artwork.png").exists()


def test_prune_removes_only_the_articles_it_narrated(tmp_path):
    archive = tmp_path / "archive"
    build_archive(archive, 2)
    out = tmp_path / "out"
    result = batch(archive, out)
    assert result.returncode == 0, result.stderr
    catalog = rows(out)
    assert len(catalog) == 2
    gone_page = sorted(archive.rglob("*.html"))[0]
    gone = next(r for r in catalog.values() if r["key"] == str(gone_page))
    kept = next(r for r in catalog.values() if r["key"] != str(gone_page))
    foreign = {f"audio/{gone['slug']}.mp3.orig": b"x", f"audio/{gone['slug']}": b"y",
               "audio/unrelated.mp3": b"z"}
    for name, data in foreign.items():
        (out / name).write_bytes(data)
    gone_page.unlink()
    result = batch(archive, out, "--prune")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pruned"] == [gone["id"]]
    for suffix in SUFFIXES:
        assert not (out / "audio" / f"{gone['slug']}{suffix}").exists()
        assert (out / "audio" / f"{kept['slug']}{suffix}").is_file()
    assert_untouched(out, foreign)


def test_leftovers_of_an_interrupted_run_are_still_cleaned(tmp_path):
    """What a kill leaves (a worker's staging folder, a half-written feed, the outputs of an
    article handed to a worker but never recorded) is narrator's, and goes."""
    out = tmp_path / "out"
    result = batch(SAMPLE, out)
    assert result.returncode == 0, result.stderr
    staged = out / ".staging" / "page-0123456789.0123456789ab"
    staged.mkdir(parents=True)
    (staged / "page-0123456789.mp3").write_bytes(b"partial")
    (out / f".tmp-{os.getpid()}-feed.xml").write_bytes(b"<rss")
    orphan = "orphan-0123456789"
    for suffix in SUFFIXES:
        (out / "audio" / f"{orphan}{suffix}").write_bytes(b"renamed in before the kill")
    db = sqlite3.connect(out / "catalog.sqlite")
    with db:
        db.execute("INSERT INTO pending(slug, since) VALUES (?, 0)", (orphan,))
    db.close()
    result = batch(SAMPLE, out)
    assert result.returncode == 0, result.stderr
    cleaned = json.loads(result.stdout)["cleaned"]
    assert len(cleaned) == 6, cleaned
    assert not (out / ".staging").exists()
    assert not list(out.glob(".tmp-*"))
    assert not list((out / "audio").glob(f"{orphan}*"))
    with sqlite3.connect(out / "catalog.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
