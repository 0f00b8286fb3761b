"""The synthesis cache: what an engine said for a text, kept on disk and looked up by content.

The key is a hash of (engine, voice, engine settings, normalised text), so a re-narration of an
article whose one paragraph changed only synthesizes that paragraph. Entries are files
`objects/ab/<key>.pcm` (a small header with the sample rate, then 16-bit PCM), written to a
temporary file and renamed, so a reader never sees half an entry and several processes can
share one cache. An SQLite index (WAL mode) keeps each entry's size and last use; when the total
passes `max_bytes`, the least recently used entries are removed.

A broken or unwritable cache never breaks a narration: a failed read is a miss, a failed write
is counted in `errors` and ignored.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import tempfile
import threading
import time
from pathlib import Path

from .model import Audio

_MAGIC = b"NPCM1\0"
_HEADER = struct.Struct("<6sIQ")  # magic, sample rate, PCM byte count
_KEY_VERSION = 1


def cache_key(engine_name: str, voice: str | None, settings: dict, text: str) -> str:
    """Hex SHA-256 of everything that changes the sound of `text`."""
    payload = json.dumps([_KEY_VERSION, engine_name, voice, settings or {}, text],
                         ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class SynthesisCache:
    def __init__(self, path: str | os.PathLike, max_bytes: int):
        self.path = Path(path)
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._db_pid: int | None = None

    # ------------------------------------------------------------------ index

    def _index(self) -> sqlite3.Connection:
        # A connection must not cross a fork: reopen in a new process.
        if self._db is None or self._db_pid != os.getpid():
            self.path.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path / "index.sqlite3", timeout=30,
                                 check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY,"
                       " size INTEGER NOT NULL, last_used REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS entries_last_used ON entries(last_used)")
            self._db, self._db_pid = db, os.getpid()
        return self._db

    def _file(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.path / "objects" / key[:2] / f"{key}.pcm"

    # ------------------------------------------------------------------ API

    def get(self, key: str) -> Audio | None:
        audio = self._read(self._file(key))
        with self._lock:
            if audio is None:
                self.misses += 1
                return None
            self.hits += 1
            try:
                self._index().execute(
                    "INSERT INTO entries(key, size, last_used) VALUES (?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET last_used = excluded.last_used",
                    (key, _HEADER.size + len(audio.pcm), time.time()))
            except (OSError, sqlite3.Error):
                self.errors += 1
        return audio

    def put(self, key: str, audio: Audio) -> None:
        if self.max_bytes <= 0:
            return
        target = self._file(key)
        data = _HEADER.pack(_MAGIC, audio.sample_rate, len(audio.pcm)) + audio.pcm
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".pcm")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            with self._lock:
                db = self._index()
                db.execute("INSERT OR REPLACE INTO entries(key, size, last_used) VALUES (?, ?, ?)",
                           (key, len(data), time.time()))
                self._evict(db)
        except (OSError, sqlite3.Error):
            with self._lock:
                self.errors += 1

    def __contains__(self, key: str) -> bool:
        return self._file(key).is_file()

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors}

    def total_bytes(self) -> int:
        with self._lock:
            return self._index().execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]

    def close(self) -> None:
        if self._db is not None and self._db_pid == os.getpid():
            self._db.close()
        self._db = None

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _read(file: Path) -> Audio | None:
        try:
            with open(file, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if len(data) < _HEADER.size:
            return None
        magic, rate, size = _HEADER.unpack_from(data)
        if magic != _MAGIC or rate <= 0 or len(data) - _HEADER.size != size:
            return None  # foreign or damaged entry: a miss; the next put replaces it
        return Audio(pcm=data[_HEADER.size:], sample_rate=rate)

    def _evict(self, db: sqlite3.Connection) -> None:
        total = db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
        if total <= self.max_bytes:
            return
        # Free down to 90 % so a full cache does not evict on every put.
        goal = int(self.max_bytes * 0.9)
        doomed = []
        for key, size in db.execute("SELECT key, size FROM entries ORDER BY last_used"):
            if total <= goal:
                break
            doomed.append(key)
            total -= size
        for key in doomed:
            self._file(key).unlink(missing_ok=True)
        db.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in doomed])


def open_cache(config=None) -> SynthesisCache | None:
    """The cache the config (file + NARRATOR_CACHE_DIR) asks for; None when disabled."""
    if config is None:
        from .config import load_config
        config = load_config()
    if not config.cache_enabled or config.cache_max_bytes <= 0:
        return None
    return SynthesisCache(config.cache_dir, config.cache_max_bytes)
