"""Where a batch puts things in OUTDIR, and how it keeps OUTDIR free of partial files.

    OUTDIR/catalog.sqlite          the catalog (WAL: -wal and -shm files beside it)
    OUTDIR/feed.xml, artwork.png   the podcast feed and its channel artwork
    OUTDIR/audio/SLUG.mp3          + SLUG.chapters.json, SLUG.chapters.vtt, SLUG.transcript.vtt
    OUTDIR/.staging/               where workers write; emptied when a batch starts and ends

A worker narrates into its own folder under .staging (same file system as audio/), then
renames each finished file into audio/: every file in audio/ is complete at any instant.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

AUDIO_DIR = "audio"
STAGING_DIR = ".staging"
LOCK_NAME = ".batch.lock"
SIDECARS = (".chapters.json", ".chapters.vtt", ".transcript.vtt")
OUTPUT_SUFFIXES = (".mp3",) + SIDECARS


def slug_for(article_id: str) -> str:
    """A readable, stable file name for an article id: the last words of its URL or path
    plus a short hash of the whole id (so two ids never share files)."""
    parts = urlsplit(article_id)
    tail = parts.path if parts.scheme else article_id
    tail = re.sub(r"\.(s?html?|xhtml|php|aspx?)$", "", tail.rstrip("/"), flags=re.I)
    words = re.sub(r"[^a-z0-9]+", "-", tail.rsplit("/", 1)[-1].lower()).strip("-")[:48]
    digest = hashlib.sha256(article_id.encode("utf-8")).hexdigest()[:10]
    return f"{words}-{digest}" if words else digest


def output_paths(outdir: Path, slug: str) -> list[Path]:
    audio = Path(outdir) / AUDIO_DIR
    return [audio / f"{slug}{suffix}" for suffix in OUTPUT_SUFFIXES]


def outputs_complete(outdir: Path, slug: str | None, mp3_bytes: int | None) -> bool:
    if not slug:
        return False
    paths = output_paths(outdir, slug)
    try:
        if mp3_bytes is not None and paths[0].stat().st_size != mp3_bytes:
            return False
        return all(p.is_file() for p in paths)
    except OSError:
        return False


def clean_stale(outdir: Path, known_slugs: set[str]) -> list[str]:
    """Remove what an interrupted run can leave: the staging folder, temporary files, and
    finished outputs no catalog row points to (renamed in just before a kill). Only called
    while holding the OUTDIR lock, so no other batch is writing here."""
    removed: list[str] = []
    staging = Path(outdir) / STAGING_DIR
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(str(staging))
    audio = Path(outdir) / AUDIO_DIR
    if audio.is_dir():
        for entry in audio.iterdir():
            name = entry.name
            slug = next((name[: -len(s)] for s in OUTPUT_SUFFIXES if name.endswith(s)), None)
            if slug is None or name.startswith(".") or slug not in known_slugs:
                _remove(entry)
                removed.append(str(entry))
    for entry in Path(outdir).iterdir():  # feed.xml and friends are written via temp files
        if entry.is_file() and (entry.name.endswith(".tmp") or entry.name.startswith(".tmp")):
            _remove(entry)
            removed.append(str(entry))
    return removed


def remove_outputs(outdir: Path, slug: str) -> None:
    for path in output_paths(outdir, slug):
        _remove(path)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def atomic_write(path: Path, data: bytes) -> None:
    """Write a small file (feed, artwork) via a temp file in the same folder, then rename."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def publish(staged: list[Path], outdir: Path) -> None:
    """Rename finished files from staging into audio/ (mp3 last: it is what a reader
    fetches first) and make the renames durable."""
    audio = Path(outdir) / AUDIO_DIR
    audio.mkdir(parents=True, exist_ok=True)
    for path in sorted(staged, key=lambda p: p.suffix == ".mp3"):
        os.replace(path, audio / path.name)
    fd = os.open(audio, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
