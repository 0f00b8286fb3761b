"""The narration jobs' state, in SQLite under the data folder (jobs.sqlite3), and their files
in a folder each (narrations/ID/).

`INSERT OR IGNORE` on the primary key makes the database the arbiter when the same page is
submitted twice at the same moment. A job is claimed by an atomic UPDATE; a job left
`running` by a server that stopped is put back in the queue when the next one starts
(`requeue_interrupted`), so a restart loses no job. The worker pool that runs them is
workers.py.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path

from .job import MAX_INTERRUPTIONS, SIDE_FILES, Job, job_id, valid_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    url TEXT,
    options TEXT NOT NULL,
    title TEXT,
    language TEXT,
    duration REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    spoken TEXT,
    cache_hits INTEGER,
    cache_misses INTEGER,
    started REAL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created);
"""
# Columns added since narrator 0.1.0, with their types: an older data folder gets them on open.
ADDED_COLUMNS = {"interrupted": "INTEGER NOT NULL DEFAULT 0", "spoken": "TEXT",
                 "cache_hits": "INTEGER", "cache_misses": "INTEGER", "started": "REAL"}


# Temp files of a job folder: narrator.assemble's ".NAME.XXXXXXXX.tmp" beside each output,
# and JobStore.submit's ".source.N.tmp".
_TEMP_NAME = re.compile(r"^\.(?:(?:%s)\.[A-Za-z0-9_]+|source\.[0-9]+)\.tmp$"
                        % "|".join(re.escape(name) for name in SIDE_FILES.values()))


class JobStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.jobs_dir = self.data_dir / "narrations"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.data_dir / "jobs.sqlite3", check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in columns:  # a data folder from an older narrator
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_spoken ON jobs (spoken)"
                             " WHERE spoken IS NOT NULL")

    def folder(self, id: str) -> Path:
        if not valid_id(id):
            raise ValueError("invalid job id")
        return self.jobs_dir / id

    def _row(self, row) -> Job | None:
        if row is None:
            return None
        d = dict(row)
        d["options"] = json.loads(d["options"])
        return Job(**d)

    def get(self, id: str) -> Job | None:
        if not valid_id(id):
            return None
        with self._lock:
            return self._row(self._db.execute("SELECT * FROM jobs WHERE id=?", (id,)).fetchone())

    def submit(self, html: bytes, options: dict, url: str | None) -> tuple[Job, bool]:
        """The job for this content, created (True) or found (False); a failed one is retried."""
        id = job_id(html, options)
        folder = self.folder(id)
        folder.mkdir(exist_ok=True)
        src = folder / "source.html"
        if not src.exists():
            tmp = folder / f".source.{threading.get_ident()}.tmp"
            tmp.write_bytes(html)
            tmp.replace(src)
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO jobs (id, status, url, options, created, updated)"
                " VALUES (?, 'queued', ?, ?, ?, ?)",
                (id, url, json.dumps(options, sort_keys=True), now, now))
            created = cur.rowcount == 1
            if not created:
                self._db.execute("UPDATE jobs SET status='queued', error=NULL, done=0,"
                                 " interrupted=0, updated=? WHERE id=? AND status='failed'",
                                 (now, id))
            job = self._row(self._db.execute("SELECT * FROM jobs WHERE id=?", (id,)).fetchone())
        return job, created

    def claim(self) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, updated=?1, started=?1"
                " WHERE id=(SELECT id FROM jobs WHERE status='queued' ORDER BY created LIMIT 1)"
                " RETURNING *", (time.time(),)).fetchone()
            return self._row(row)

    def progress(self, id: str, done: int, total: int) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET done=?, total=?, updated=? WHERE id=?",
                             (done, total, time.time(), id))

    def finish(self, id: str, *, title, language, duration, spoken: str | None = None,
               cache: dict | None = None) -> None:
        cache = cache or {}
        with self._lock:
            self._db.execute("UPDATE jobs SET status='done', done=total, error=NULL, title=?,"
                             " language=?, duration=?, spoken=?, cache_hits=?, cache_misses=?,"
                             " updated=? WHERE id=?",
                             (title, language, duration, spoken, cache.get("hits"),
                              cache.get("misses"), time.time(), id))

    def done_with_spoken(self, spoken: str, but: str) -> Job | None:
        """A finished job, other than `but`, whose narration says exactly this."""
        with self._lock:
            return self._row(self._db.execute(
                "SELECT * FROM jobs WHERE spoken=? AND status='done' AND id!=? LIMIT 1",
                (spoken, but)).fetchone())

    def recent(self, status: str | None = None, limit: int = 50,
             before: tuple[float, str] | None = None) -> list[Job]:
        """Newest first; `before` is the (created, id) of the last job of the previous page."""
        where, args = [], []
        if status:
            where.append("status=?")
            args.append(status)
        if before:
            where.append("(created, id) < (?, ?)")
            args += list(before)
        sql = ("SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created DESC, id DESC LIMIT ?")
        with self._lock:
            return [self._row(r) for r in self._db.execute(sql, (*args, limit)).fetchall()]

    def delete(self, id: str) -> str | None:
        """Removes a job that is not running, with its files. Returns the status it had
        ('running' when it was left alone), None when there was no such job."""
        if not valid_id(id):
            return None
        with self._lock:
            row = self._db.execute("DELETE FROM jobs WHERE id=? AND status!='running'"
                                   " RETURNING status", (id,)).fetchone()
            if row is None:
                found = self._db.execute("SELECT status FROM jobs WHERE id=?", (id,)).fetchone()
                return found[0] if found else None
        shutil.rmtree(self.folder(id), ignore_errors=True)
        return row[0]

    def fail(self, id: str, error: str) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET status='failed', error=?, updated=? WHERE id=?",
                             (error, time.time(), id))

    def requeue(self, id: str) -> None:
        """A running job back in the queue: the server is stopping, not the job failing."""
        with self._lock:
            self._db.execute("UPDATE jobs SET status='queued', updated=? WHERE id=? AND"
                             " status='running'", (time.time(), id))

    def requeue_interrupted(self, max_interruptions: int = MAX_INTERRUPTIONS) -> tuple[int, int]:
        """Jobs a stopped server left running go back to the queue, unless servers have died
        in the middle of them `max_interruptions` times: a page that kills the server process
        (a crash in a native library, the OOM killer) would otherwise kill every restart.
        Returns (requeued, given up). Submitting a failed job again starts the count anew."""
        now = time.time()
        with self._lock:
            self._db.execute("UPDATE jobs SET interrupted=interrupted+1 WHERE status='running'")
            given_up = self._db.execute(
                "UPDATE jobs SET status='failed', error=?, updated=? WHERE status='running'"
                " AND interrupted>=?", (f"the server stopped while narrating it "
                                        f"{max_interruptions} times (did this page crash it?)",
                                        now, max_interruptions)).rowcount
            requeued = self._db.execute("UPDATE jobs SET status='queued', updated=?"
                                        " WHERE status='running'", (now,)).rowcount
        return requeued, given_up

    def remove_temp_files(self) -> list[Path]:
        """Remove the temp files a killed server's narrations left in job folders: the
        outputs' (`.audio.mp3.XXXXXXXX.tmp`, written then renamed) and the page's
        (`.source.N.tmp`). Only narrator's own names; call it with the folder locked, before
        any job runs."""
        removed = []
        for folder in self.jobs_dir.iterdir():
            if not (valid_id(folder.name) and folder.is_dir()) or folder.is_symlink():
                continue
            for entry in folder.iterdir():
                if _TEMP_NAME.match(entry.name) and entry.is_file() and not entry.is_symlink():
                    entry.unlink(missing_ok=True)
                    removed.append(entry)
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
