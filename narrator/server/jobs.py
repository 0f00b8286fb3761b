"""Narration jobs: their state in SQLite under the data folder, and the worker pool that runs them.

A job's id is a hash of what decides the audio (the page bytes and the narration options), so
the same article submitted twice, even at the same moment, is one row and one narration:
`INSERT OR IGNORE` on the primary key makes the database the arbiter. Workers are threads of the
server process that hand each job to a runner (by default a narration process each, see
runner.py); a job is claimed by an atomic UPDATE, and a job left `running` by a server that
stopped is put back in the queue when the next one starts, so a restart loses no job.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import sqlite3
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError, NarratorError

log = logging.getLogger("narrator.server")

ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_INTERRUPTIONS = 3  # server deaths in the middle of one job before it is failed
AUDIO = "audio.mp3"
SIDE_FILES = {  # public name -> file name in the job's folder (never derived from a request)
    "audio.mp3": "audio.mp3",
    "chapters.json": "audio.chapters.json",
    "chapters.vtt": "audio.chapters.vtt",
    "transcript.vtt": "audio.transcript.vtt",
}

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
STATUSES = ("queued", "running", "done", "failed")


# Temp files of a job folder: narrator.assemble's ".NAME.XXXXXXXX.tmp" beside each output,
# and JobStore.submit's ".source.N.tmp".
_TEMP_NAME = re.compile(r"^\.(?:(?:%s)\.[A-Za-z0-9_]+|source\.[0-9]+)\.tmp$"
                        % "|".join(re.escape(name) for name in SIDE_FILES.values()))


def job_id(html: bytes, options: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(options, sort_keys=True, separators=(",", ":")).encode())
    h.update(b"\0")
    h.update(html)
    return h.hexdigest()[:32]


def valid_id(value: str) -> bool:
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    done: int
    total: int
    error: str | None
    url: str | None
    options: dict
    title: str | None
    language: str | None
    duration: float | None
    attempts: int
    created: float
    updated: float
    interrupted: int = 0  # servers that died in the middle of it since it was last submitted
    spoken: str | None = None  # hash of what the narration says (see runner.spoken_hash)
    cache_hits: int | None = None  # synthesis cache of its narration
    cache_misses: int | None = None
    started: float | None = None  # when its narration last started

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return round(self.done / self.total, 4) if self.total else 0.0


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


# run(store, job) does the narration and returns (title, language, duration), optionally
# followed by a dict of extras ({"spoken": hash, "cache": {"hits", "misses"}}); it reports
# progress with store.progress. Injected so the pool does not import the pipeline itself.
Runner = Callable[["JobStore", Job], tuple]


def lock_data_folder(data_dir: Path):
    """One server per data folder: a second one would put the first one's running jobs back
    in the queue. The lock goes with the process, however it ends."""
    import fcntl

    handle = open(Path(data_dir) / "server.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"another narrator serve is using {data_dir}") from None
    return handle


class WorkerPool:
    def __init__(self, store: JobStore, runner: Runner, workers: int = 1, poll_s: float = 1.0):
        self.store = store
        self.runner = runner
        self.workers = max(1, workers)
        self.poll_s = poll_s
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listeners: list[Callable[[str], None]] = []  # called with a job's id as it ends

    def start(self) -> None:
        leftovers = self.store.remove_temp_files()
        if leftovers:
            log.info("removed %d temp file(s) a stopped server left in job folders",
                     len(leftovers))
        resumed, given_up = self.store.requeue_interrupted()
        if resumed:
            log.info("resuming %d interrupted job(s)", resumed)
        if given_up:
            log.warning("%d job(s) failed: the server stopped in the middle of each %d times",
                        given_up, MAX_INTERRUPTIONS)
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"narrator-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.notify()
        close = getattr(self.runner, "close", None)
        if close is not None:  # narration processes: the jobs they hold are resumed next start
            close()
        for t in self._threads:
            t.join(timeout)

    def _loop(self) -> None:
        warm = getattr(self.runner, "warm", None)
        if warm is not None:
            try:
                warm()
            except Exception:  # the first job will start the process, or say why it cannot
                log.warning("could not start a narration process ahead of the first job",
                            exc_info=True)
        while not self._stop.is_set():
            job = self.store.claim()
            if job is None:
                with self._wake:
                    self._wake.wait(self.poll_s)
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        log.debug("narrating %s", job.id)
        started = time.monotonic()
        try:
            result = self.runner(self.store, job)
        except NarratorError as exc:
            if not self._requeued_on_stop(job):
                self._failed(job, str(exc))
        except Exception as exc:  # a bug; the job says so and the server keeps serving
            if not self._requeued_on_stop(job):
                log.error("job %s crashed:\n%s", job.id, traceback.format_exc())
                self._failed(job, f"internal error: {type(exc).__name__}")
        else:
            title, language, duration = result[:3]
            extra = result[3] if len(result) > 3 else {}
            self.store.finish(job.id, title=title, language=language, duration=duration,
                              spoken=extra.get("spoken"), cache=extra.get("cache"))
            cache = extra.get("cache") or {}
            log.info("job %s done in %.1f s: %s (%s of audio%s)", job.id,
                     time.monotonic() - started, title or job.url or "untitled",
                     _minutes(duration), f"; cache: {cache.get('hits', 0)} hits, "
                     f"{cache.get('misses', 0)} misses" if cache else "")
            self._ended(job.id)

    def _failed(self, job: Job, reason: str) -> None:
        self.store.fail(job.id, reason)
        log.info("job %s failed: %s", job.id, reason)
        self._ended(job.id)

    def _ended(self, id: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(id)
            except Exception:  # a listener's bug must not stop the worker
                log.error("job listener failed:\n%s", traceback.format_exc())

    def _requeued_on_stop(self, job: Job) -> bool:
        """A job stopped with the server (its narration process too) goes back to the queue:
        the next start resumes it, and it does not count as a crash."""
        if not self._stop.is_set():
            return False
        self.store.requeue(job.id)
        return True


def _minutes(seconds: float | None) -> str:
    seconds = int(round(seconds or 0))
    return f"{seconds // 60}:{seconds % 60:02d}"
