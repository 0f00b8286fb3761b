"""The batch catalog: one SQLite database (WAL) in OUTDIR, written only by the process that
runs the batch (workers, local or Dask, never touch it).

A row is one article. `status` is the outcome of its latest attempt ("done" or "failed");
the output columns (`mp3`, `duration`, ...) describe its last complete narration and are set
in the same transaction as status "done", after the files are in place, so the catalog never
says "done" for an output that is not complete.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

CATALOG_NAME = "catalog.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id            TEXT PRIMARY KEY,     -- canonical URL, else URL, else path
    source        TEXT NOT NULL,        -- the batch SOURCE it came from
    key           TEXT NOT NULL,        -- where in the source (path, URL, WARC#URI)
    content_hash  TEXT,                 -- sha256 of the page bytes last attempted
    settings_hash TEXT,                 -- engine, voice, options last attempted
    status        TEXT NOT NULL,        -- done | failed
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    slug          TEXT,
    engine        TEXT,
    voice         TEXT,
    title         TEXT,
    description   TEXT,
    url           TEXT,
    language      TEXT,
    published     TEXT,
    image_url     TEXT,
    duration      REAL,
    chapters      INTEGER,
    mp3_bytes     INTEGER,
    narrated_hash TEXT,                 -- content hash of the complete narration on disk
    first_done_at REAL,
    updated_at    REAL,
    seconds       REAL,                 -- wall time of the last narration
    timings       TEXT,                 -- JSON: per-stage seconds, worker, peak RSS, cache
    etag          TEXT,                 -- validators of the fetched page (conditional GET)
    last_modified TEXT,
    fetched_at    REAL                  -- when the narrated page was read
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source, key);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
-- articles handed to a worker and not yet recorded: their outputs, if a kill left any, are
-- narrator's to remove at the next start (nothing else in audio/ is deleted)
CREATE TABLE IF NOT EXISTS pending (slug TEXT PRIMARY KEY, since REAL NOT NULL);
"""


@dataclass
class Row:
    id: str
    source: str
    key: str
    content_hash: str | None
    settings_hash: str | None
    status: str
    error: str | None
    attempts: int
    slug: str | None
    engine: str | None
    voice: str | None
    title: str | None
    description: str | None
    url: str | None
    language: str | None
    published: str | None
    image_url: str | None
    duration: float | None
    chapters: int | None
    mp3_bytes: int | None
    narrated_hash: str | None
    narrated_settings: str | None
    first_done_at: float | None
    updated_at: float | None
    seconds: float | None
    timings: str | None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float | None = None

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["timings"] = json.loads(self.timings) if self.timings else None
        return out


class Catalog:
    def __init__(self, outdir: Path):
        self.path = Path(outdir) / CATALOG_NAME
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Columns added after the first release, for catalogs made before them."""
        have = {r[1] for r in self.db.execute("PRAGMA table_info(articles)")}
        for name, kind in (("etag", "TEXT"), ("last_modified", "TEXT"), ("fetched_at", "REAL"),
                           ("narrated_settings", "TEXT")):
            if name not in have:
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")

    @classmethod
    def open_existing(cls, outdir: Path) -> "Catalog":
        from ..errors import InputError

        if not (Path(outdir) / CATALOG_NAME).is_file():
            raise InputError(f"no batch catalog in {outdir} (expected {CATALOG_NAME})")
        return cls(outdir)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ reads

    def get(self, article_id: str) -> Row | None:
        found = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return Row(**dict(found)) if found else None

    def by_key(self, source: str, key: str) -> Row | None:
        found = self.db.execute("SELECT * FROM articles WHERE source = ? AND key = ?",
                                (source, key)).fetchone()
        return Row(**dict(found)) if found else None

    def rows(self, *, source: str | None = None) -> list[Row]:
        if source is None:
            found = self.db.execute("SELECT * FROM articles ORDER BY id")
        else:
            found = self.db.execute("SELECT * FROM articles WHERE source = ? ORDER BY id",
                                    (source,))
        return [Row(**dict(r)) for r in found]

    def published_rows(self) -> list[Row]:
        """Articles with a complete narration on disk (what the feed lists)."""
        return [Row(**dict(r)) for r in self.db.execute(
            "SELECT * FROM articles WHERE narrated_hash IS NOT NULL ORDER BY id")]

    def slugs(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT slug FROM articles WHERE slug IS NOT NULL")}

    def pending_slugs(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT slug FROM pending")}

    def get_meta(self, name: str) -> str | None:
        found = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return found[0] if found else None

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(name, value) VALUES(?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    # ------------------------------------------------------------------ writes

    def record_done(self, *, id: str, source: str, key: str, content_hash: str,
                    settings_hash: str, slug: str, result: dict) -> None:
        now = time.time()
        fields = dict(
            source=source, key=key, content_hash=content_hash, settings_hash=settings_hash,
            status="done", error=None, slug=slug, engine=result.get("engine"),
            voice=result.get("voice"), title=result.get("title"),
            description=result.get("description"), url=result.get("url"),
            language=result.get("language"), published=result.get("published"),
            image_url=result.get("image_url"), duration=result.get("duration"),
            chapters=result.get("chapters"), mp3_bytes=result.get("mp3_bytes"),
            narrated_hash=content_hash, narrated_settings=settings_hash, updated_at=now, seconds=result.get("seconds"),
            timings=json.dumps(result.get("timings") or {}, sort_keys=True),
            etag=result.get("etag"), last_modified=result.get("last_modified"),
            fetched_at=result.get("fetched_at"),
        )
        self._upsert(id, fields, first_done_at=now)

    def record_failed(self, *, id: str, source: str, key: str, content_hash: str | None,
                      settings_hash: str | None, error: str) -> None:
        """A failed attempt. Without hashes (the page could not even be read) the row keeps
        the ones it had: they describe what was last attempted, which has not changed."""
        fields = dict(source=source, key=key, status="failed", error=error,
                      updated_at=time.time())
        if content_hash is not None:
            fields.update(content_hash=content_hash, settings_hash=settings_hash)
        self._upsert(id, fields)

    def record_unchanged(self, article_id: str) -> None:
        """The page is again the one narrated on disk (after a failed read or a failed
        re-narration of an edit that was since undone): the row is done again."""
        self.db.execute("UPDATE articles SET status = 'done', error = NULL, "
                        "content_hash = narrated_hash, settings_hash = narrated_settings "
                        "WHERE id = ? AND status != 'done'", (article_id,))

    def _upsert(self, article_id: str, fields: dict, first_done_at: float | None = None) -> None:
        names = list(fields)
        with self.db:  # one transaction
            self.db.execute("BEGIN IMMEDIATE")
            exists = self.db.execute("SELECT 1 FROM articles WHERE id = ?",
                                     (article_id,)).fetchone()
            if exists:
                sets = ", ".join(f"{n} = ?" for n in names)
                self.db.execute(f"UPDATE articles SET {sets}, attempts = attempts + 1 "
                                f"WHERE id = ?", [fields[n] for n in names] + [article_id])
                if first_done_at is not None:
                    self.db.execute("UPDATE articles SET first_done_at = ? WHERE id = ? AND "
                                    "first_done_at IS NULL", (first_done_at, article_id))
            else:
                if first_done_at is not None:
                    fields = dict(fields, first_done_at=first_done_at)
                    names = list(fields)
                self.db.execute(
                    f"INSERT INTO articles(id, attempts, {', '.join(names)}) "
                    f"VALUES(?, 1, {', '.join('?' for _ in names)})",
                    [article_id] + [fields[n] for n in names])

    def mark_pending(self, slug: str) -> None:
        """Before a worker gets the article: its outputs may appear in audio/ from now on."""
        self.db.execute("INSERT OR REPLACE INTO pending(slug, since) VALUES(?, ?)",
                        (slug, time.time()))

    def clear_pending(self, slugs: set[str] | None = None) -> None:
        """After the outcome is recorded (or the leftovers removed); None: all."""
        if slugs is None:
            self.db.execute("DELETE FROM pending")
        else:
            self.db.executemany("DELETE FROM pending WHERE slug = ?", [(s,) for s in slugs])

    def delete(self, article_id: str) -> None:
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
