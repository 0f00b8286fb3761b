"""Where a batch puts things in OUTDIR, and how it keeps OUTDIR free of partial files.

    OUTDIR/catalog.sqlite          the catalog (WAL: -wal and -shm files beside it)
    OUTDIR/feed.xml, artwork.png   the podcast feed and its channel artwork
    OUTDIR/audio/SLUG.mp3          + SLUG.chapters.json, SLUG.chapters.vtt, SLUG.transcript.vtt
    OUTDIR/.staging/               where workers write; emptied when a batch starts and ends

A worker narrates into its own folder under .staging (same file system as audio/), then
renames each finished file into audio/: every file in audio/ is complete at any instant.

OUTDIR may hold files narrator did not write (a folder adopted with --adopt, a publisher's
artwork, anything put there later). Clean-up therefore deletes only what it can prove is its
own: the workers' folders in .staging (named SLUG.<12 hex digits>), outputs of articles the
catalog recorded as handed to a worker, and its temp files (`.tmp-PID-feed.xml`).
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
FEED_NAME = "feed.xml"
ARTWORK_NAMES = ("artwork.jpg", "artwork.png")  # the publisher's, else narrator's plain png
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


def staging_folder(outdir: Path, slug: str, token: str) -> Path:
    """A worker's private folder for one article (token: 12 hex digits, random)."""
    return Path(outdir) / STAGING_DIR / f"{slug}.{token}"


_STAGING_ENTRY = re.compile(r"^[a-z0-9-]+\.[0-9a-f]{12}$")
_TOP_TEMP = re.compile(r"^\.tmp-[0-9]+-(?:%s)$" % "|".join(
    map(re.escape, (FEED_NAME, *ARTWORK_NAMES))))


def clean_stale(outdir: Path, known_slugs: set[str], pending_slugs: set[str]) -> list[str]:
    """Remove what an interrupted run can leave, and only that: workers' staging folders,
    narrator's temp files, and the outputs of articles that were handed to a worker
    (`pending_slugs`, recorded in the catalog before) but never recorded as done, so no catalog
    row points to them (renamed in just before a kill). Only called while holding the OUTDIR
    lock, so no other batch is writing here."""
    outdir = Path(outdir)
    removed = clean_staging(outdir)
    for slug in sorted(pending_slugs - known_slugs):
        for path in output_paths(outdir, slug):
            if _unlink_file(path):
                removed.append(str(path))
    for entry in outdir.iterdir():  # feed.xml and artwork.png are written via temp files
        if _TOP_TEMP.match(entry.name) and _unlink_file(entry):
            removed.append(str(entry))
    return removed


def clean_staging(outdir: Path) -> list[str]:
    """Remove the workers' folders from .staging, then .staging itself if nothing else is in
    it (anything else there is not narrator's)."""
    removed: list[str] = []
    staging = Path(outdir) / STAGING_DIR
    if not staging.is_dir() or staging.is_symlink():
        return removed
    for entry in staging.iterdir():
        if _STAGING_ENTRY.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(str(entry))
    try:
        staging.rmdir()
    except OSError:  # not empty: what is left is not ours
        pass
    return removed


def remove_outputs(outdir: Path, slug: str) -> None:
    """Delete an article's outputs (its catalog row names the slug): regular files only."""
    for path in output_paths(outdir, slug):
        _unlink_file(path)


def _unlink_file(path: Path) -> bool:
    try:
        if path.is_symlink() or not path.is_file():
            return False
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def foreign_entries(outdir: Path) -> list[str]:
    """What a folder holds that narrator would not have put there before its first batch (its
    lock file, the publisher's artwork): a non-empty list means someone else's folder."""
    own = {LOCK_NAME, *ARTWORK_NAMES}
    return sorted(e.name for e in Path(outdir).iterdir() if e.name not in own)


def adoption_clashes(outdir: Path) -> list[str]:
    """Names in an adopted folder that a batch would overwrite or remove."""
    return [name for name in (FEED_NAME, STAGING_DIR, "catalog.sqlite-wal",
                              "catalog.sqlite-shm") if os.path.lexists(Path(outdir) / name)]


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
