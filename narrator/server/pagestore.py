"""The pages of registered sites, in SQLite beside the jobs (DATA/jobs.sqlite3).

A page is its canonical URL (its stable public id is a hash of it). It points at the
narration served now (`job`, a finished job) and, while a newer version is being made, at
that one (`pending`): readers get the old audio until the new one is ready, then `job`
moves on and the version before is kept one turn (`previous`) for readers still playing it.
`checking` marks a fetch in progress; `checked` is when the site last answered for it
(freshness counts from there). `work` records each narration started on readers' requests,
for the per-site hourly cap.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    job TEXT,
    pending TEXT,
    previous TEXT,
    error TEXT,
    etag TEXT,
    last_modified TEXT,
    checked REAL,
    checking REAL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_site ON pages (site);
CREATE INDEX IF NOT EXISTS pages_pending ON pages (pending) WHERE pending IS NOT NULL;
CREATE TABLE IF NOT EXISTS work (site TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS work_site ON work (site, at);
"""
HOUR = 3600.0
STUCK_CHECK_S = 300.0  # a check this old was lost (a fetch thread cannot outlive its timeout)


def page_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Page:
    url: str
    id: str
    site: str
    job: str | None
    pending: str | None
    previous: str | None
    error: str | None
    etag: str | None
    last_modified: str | None
    checked: float | None
    checking: float | None
    created: float


class PageStore:
    def __init__(self, data_dir: Path):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(Path(data_dir) / "jobs.sqlite3", check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            # Checks a stopped server had in flight are lost with it: the next request asks again.
            self._db.execute("UPDATE pages SET checking=NULL WHERE checking IS NOT NULL")

    def _one(self, sql: str, args=()) -> Page | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return Page(**dict(row)) if row else None

    def _all(self, sql: str, args=()) -> list[Page]:
        with self._lock:
            return [Page(**dict(r)) for r in self._db.execute(sql, args).fetchall()]

    def _run(self, sql: str, args=()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def get(self, url: str) -> Page | None:
        return self._one("SELECT * FROM pages WHERE url=?", (url,))

    def create(self, url: str, site: str, *, cap: int | None = None,
               max_pending: int | None = None) -> str:
        """A new page with its first check claimed: "created"; or "exists"; or, for a
        reader's request (`cap`, `max_pending` given), "busy" when `max_pending` pages are in
        progress and "capped" when the site started `cap` narrations within the hour. One
        transaction: a burst of requests cannot slip past either bound."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._db.execute("SELECT 1 FROM pages WHERE url=?", (url,)).fetchone():
                    return "exists"
                if max_pending is not None and self._db.execute(
                        "SELECT COUNT(*) FROM pages WHERE checking IS NOT NULL OR pending IS"
                        " NOT NULL").fetchone()[0] >= max_pending:
                    return "busy"
                if cap is not None and not self._admit(site, cap, now):
                    return "capped"
                self._db.execute("INSERT INTO pages (url, id, site, checking, created)"
                                 " VALUES (?, ?, ?, ?, ?)", (url, page_id(url), site, now, now))
                return "created"
            finally:
                self._db.execute("COMMIT")

    def claim_check(self, url: str, stale_before: float | None) -> bool:
        """Marks a check in progress unless one is (or, with `stale_before`, unless the page
        was checked since then or a new version is on its way). True: the caller checks."""
        now = time.time()
        sql = ("UPDATE pages SET checking=? WHERE url=? AND (checking IS NULL OR checking<?)")
        args: tuple = (now, url, now - STUCK_CHECK_S)
        if stale_before is not None:
            sql += " AND pending IS NULL AND (checked IS NULL OR checked<?)"
            args += (stale_before,)
        return self._run(sql, args) == 1

    def checked(self, url: str, *, error: str | None = None, etag: str | None = None,
                last_modified: str | None = None, keep_validators: bool = True) -> None:
        sql = "UPDATE pages SET checking=NULL, checked=?, error=?"
        args: list = [time.time(), error]
        if not keep_validators:
            sql += ", etag=?, last_modified=?"
            args += [etag, last_modified]
        self._run(sql + " WHERE url=?", (*args, url))

    def set_pending(self, url: str, job: str, etag: str | None, last_modified: str | None):
        self._run("UPDATE pages SET pending=?, checking=NULL, checked=?, etag=?,"
                  " last_modified=? WHERE url=?", (job, time.time(), etag, last_modified, url))

    def promote(self, url: str, job: str) -> str | None:
        """`job` (the finished pending one) is served from now on. Returns the version that
        leaves the `previous` slot (to delete), if any."""
        with self._lock:  # RETURNING gives the new values: read the old one first
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT previous FROM pages WHERE url=? AND pending=?",
                                       (url, job)).fetchone()
                if row is None:
                    return None
                self._db.execute("UPDATE pages SET previous=job, job=pending, pending=NULL,"
                                 " error=NULL WHERE url=?", (url,))
                return row[0]
            finally:
                self._db.execute("COMMIT")

    def pending_failed(self, url: str, job: str, error: str) -> None:
        self._run("UPDATE pages SET pending=NULL, error=? WHERE url=? AND pending=?",
                  (error, url, job))

    def forget_job(self, url: str, job: str) -> None:
        """The served narration was deleted: the page has none until it is checked again."""
        self._run("UPDATE pages SET job=NULL, checked=NULL WHERE url=? AND job=?", (url, job))

    def with_pending(self, job: str) -> list[Page]:
        return self._all("SELECT * FROM pages WHERE pending=?", (job,))

    def referenced(self, job: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM pages WHERE job=?1 OR pending=?1 OR"
                                    " previous=?1 LIMIT 1", (job,)).fetchone() is not None

    def narrated(self, site: str) -> list[Page]:
        return self._all("SELECT * FROM pages WHERE site=? AND job IS NOT NULL", (site,))

    def known(self, site: str) -> list[Page]:
        return self._all("SELECT * FROM pages WHERE site=?", (site,))

    def admit(self, site: str, cap: int) -> bool:
        """Counts one narration started for `site` on a reader's request, unless `cap` were
        started within the last hour."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                return self._admit(site, cap, time.time())
            finally:
                self._db.execute("COMMIT")

    def _admit(self, site: str, cap: int, now: float) -> bool:
        self._db.execute("DELETE FROM work WHERE at<?", (now - HOUR,))
        used = self._db.execute("SELECT COUNT(*) FROM work WHERE site=? AND at>=?",
                                (site, now - HOUR)).fetchone()[0]
        if used >= cap:
            return False
        self._db.execute("INSERT INTO work (site, at) VALUES (?, ?)", (site, now))
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
