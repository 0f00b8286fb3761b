"""OUTDIR/feed.xml: the batch's narrated articles as a podcast (rendered by narrator.feed).

Links are `--base-url` + the file's path in OUTDIR (remembered in the catalog between runs);
without one they are file:// URLs, fine for a look but not for publishing. The channel's
title, author and language come from `--title`, `--author`, `--language` (remembered too),
else the config file's [feed] table, else the articles themselves (narrator.feed).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from ..artwork import generated_title, title_artwork
from ..feed import Channel, Episode, describe_channel, pub_date, render, site_of
from .catalog import Catalog, Row
from .layout import ARTWORK_NAMES, AUDIO_DIR, FEED_NAME, atomic_write
from .options import BatchOptions


def publish_feed(catalog: Catalog, outdir: Path, options: BatchOptions) -> tuple[Path, float]:
    """At the end of a run: remember the feed settings given for the next runs on this
    OUTDIR, write feed.xml with what the catalog holds now; (its path, the seconds of audio
    it lists)."""
    from ..config import ConfigError, load_config

    given = {"base_url": options.base_url, "feed_title": options.feed_title,
             "feed_author": options.feed_author, "feed_language": options.feed_language}
    for key, value in given.items():
        if value:
            catalog.set_meta(key, value)
    try:
        configured = load_config().feed
    except ConfigError:
        configured = {}

    def setting(key: str) -> str | None:
        return catalog.get_meta(f"feed_{key}") or configured.get(key)

    rows = catalog.published_rows()
    path = write_feed(catalog, outdir, base_url=catalog.get_meta("base_url"),
                      title=setting("title"), author=setting("author"),
                      language=setting("language"), rows=rows)
    return path, sum(row.duration or 0.0 for row in rows)


def write_feed(catalog: Catalog, outdir: Path, *, base_url: str | None = None,
               title: str | None = None, author: str | None = None,
               language: str | None = None, rows: list[Row] | None = None) -> Path:
    """OUTDIR/feed.xml for `rows` (default: the catalog's published rows)."""
    outdir = Path(outdir)
    base = (base_url.rstrip("/") + "/") if base_url else outdir.resolve().as_uri() + "/"
    rows = catalog.published_rows() if rows is None else rows
    channel = _channel(rows, base, "", title, author, language)
    artwork = ensure_artwork(outdir, channel.title)  # its name depends on the title
    data = render(replace(channel, artwork_url=base + artwork),
                  [episode(row, base) for row in rows])
    path = outdir / FEED_NAME
    atomic_write(path, data.encode("utf-8"))
    return path


def render_feed(rows: list[Row], *, base: str, artwork: str, title: str | None,
                author: str | None = None, language: str | None = None) -> str:
    return render(_channel(rows, base, artwork, title, author, language),
                  [episode(row, base) for row in rows])


def _channel(rows, base, artwork, title, author, language) -> Channel:
    title, author, language, description = describe_channel(
        [site_of(r.url) for r in rows], [r.language for r in rows], title=title,
        author=author, language=language)
    return Channel(title=title, author=author, language=language, description=description,
                   link=base, feed_url=base + FEED_NAME, artwork_url=base + artwork)


def episode(row: Row, base: str) -> Episode:
    audio = base + AUDIO_DIR + "/" + quote(row.slug or "")
    return Episode(id=row.id, title=row.title or row.id,
                   description=row.description or row.title or "", link=row.url,
                   published=pub_date(row.published, row.first_done_at or row.updated_at),
                   audio_url=audio + ".mp3", audio_bytes=int(row.mp3_bytes or 0),
                   duration=row.duration or 0.0, chapters_url=audio + ".chapters.json",
                   transcript_url=audio + ".transcript.vtt", language=row.language,
                   image_url=row.image_url)


def ensure_artwork(outdir: Path, title: str) -> str:
    """The channel artwork's file name: the publisher's OUTDIR/artwork.jpg or .png if there
    is one, else a PNG showing the feed's title, made again when the title changes."""
    for name in ARTWORK_NAMES:
        path = outdir / name
        if not path.is_file():
            continue
        if name == "artwork.png":
            png = path.read_bytes()
            current = generated_title(png)
            if (current is not None and current != " ".join(title.split())) or _old_plain(png):
                break  # narrator's own, for another title, or the plain square of old
        return name
    atomic_write(outdir / "artwork.png", title_artwork(title, "Narrated articles"))
    return "artwork.png"


def _old_plain(png: bytes) -> bool:
    """The plain 1400 px square earlier narrator versions made (no title, no mark)."""
    import struct
    import zlib

    if len(png) > 50_000 or png[12:16] != b"IHDR" or png[16:24] != struct.pack(">II", 1400, 1400):
        return False
    try:
        pixels = zlib.decompress(png[png.index(b"IDAT") + 4:])
    except (ValueError, zlib.error):
        return False
    return pixels == (b"\x00" + b"\x1f\x3a\x5f" * 1400) * 1400
