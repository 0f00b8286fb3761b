"""One article, in a worker (a local pool process or a Dask worker on another machine).

A job and its result are plain dicts (picklable, small). The worker narrates into a private
staging folder under OUTDIR, renames the finished files into OUTDIR/audio, and returns what
the catalog needs. It never touches the catalog: the batch process is its only writer.
Every failure comes back as a result with an error message, never as an exception, so one bad
page cannot stop the batch.
"""
from __future__ import annotations

import os
import resource
import shutil
import socket
import time
import traceback
import uuid
from pathlib import Path

from ..errors import NarratorError, TimeLimitError, disk_full
from ..timelimit import limit as time_limit
from .layout import OUTPUT_SUFFIXES, publish, staging_folder


DISK_FULL = ("no space left on the device (or over quota): free some space, then run the "
             "batch again; the article is retried")


def _cpu() -> float:
    own, children = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))  # children: ffmpeg (gTTS decoding)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _runqueue_wait() -> float:
    """Seconds this process was ready to run but waited for a CPU (Linux), else 0: tells a
    busy machine from a slow narration in the benchmark."""
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


PID_FILE = "pid"  # in a job's staging folder: which process runs it, since when (mtime)


def run_job(function, job: dict) -> dict:
    """In a local pool process: say which process runs the job and since when, so the batch
    can kill it if it overruns its limit where its alarm cannot reach (C code)."""
    if job.get("token"):
        staging = staging_folder(Path(job["outdir"]), job["slug"], job["token"])
        staging.mkdir(parents=True, exist_ok=True)
        (staging / PID_FILE).write_text(str(os.getpid()))
    return function(job)


def narrate_job(job: dict) -> dict:
    started = time.perf_counter()
    cpu_started, wait_started = _cpu(), _runqueue_wait()
    outdir = Path(job["outdir"])
    slug = job["slug"]
    staging = staging_folder(outdir, slug, job.get("token") or uuid.uuid4().hex[:12])
    result: dict = {"id": job["id"], "ok": False}
    stages: dict = {}
    narration = None
    try:
        from ..pipeline import NarrateOptions, extract, narrate_article

        options = NarrateOptions(**job["options"])
        staging.mkdir(parents=True, exist_ok=True)
        limit = job.get("timeout")

        def too_long() -> TimeLimitError:
            return TimeLimitError(f"narration took longer than {limit:g} s (--article-timeout)")

        # The alarm stops any stage in a pool process (its main thread); in a Dask worker's
        # thread only the check between utterances can: a stage that never returns is not
        # stopped there.
        with time_limit(limit, too_long) as deadline:
            article = extract(job["html"], url=job.get("url"),
                              content_type=job.get("content_type"), options=options)
            extracted = time.perf_counter()
            narration = narrate_article(article, staging / f"{slug}.mp3", options=options,
                                        progress=lambda done, total: deadline.check())
        # Past here nothing is interrupted: publishing is renames, all or none.
        staged = [staging / f"{slug}{suffix}" for suffix in OUTPUT_SUFFIXES]
        missing = [p.name for p in staged if not p.is_file()]
        if missing:
            raise RuntimeError(f"narration did not write {', '.join(missing)}")
        stages = dict(narration.stage_seconds, extract=extracted - started)
        mp3_bytes = staged[0].stat().st_size
        publish(staged, outdir)
        meta = article.meta
        result.update(
            ok=True, engine=narration.engine, voice=narration.voice,
            title=article.title or meta.title, description=_description(article),
            url=_link(meta, job.get("url")),
            language=article.language, published=meta.published or meta.modified,
            image_url=meta.image_url, duration=narration.timeline.duration,
            chapters=len(narration.timeline.chapters), mp3_bytes=mp3_bytes,
        )
    except Exception as exc:
        if disk_full(exc):  # transient: recorded so that the next plain run retries it
            result.update(error=DISK_FULL, transient=True)
        elif isinstance(exc, NarratorError):
            result["error"] = f"{type(exc).__name__}: {exc}"
        else:  # a bug, but it must not stop the batch: keep where it happened
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            place = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
            result["error"] = f"internal error {type(exc).__name__}: {exc}{place}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["timings"] = {
        "stages": {k: round(v, 3) for k, v in stages.items() if isinstance(v, (int, float))},
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "cpu_seconds": round(_cpu() - cpu_started, 3),
        "cpu_wait_seconds": round(_runqueue_wait() - wait_started, 3),
        "cache": dict(getattr(narration, "cache", None) or {}) if result["ok"] else {},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return result


def _link(meta, fetched_from: str | None) -> str | None:
    """The article's public address for the feed: its canonical URL, unless that is on
    another site than where the page came from (then it is not the page's own)."""
    from .identity import same_site

    canonical = meta.canonical_url
    if canonical and (not fetched_from or same_site(canonical, fetched_from)):
        return canonical
    return fetched_from or meta.source_url


def _description(article) -> str:
    if article.meta.subtitle:
        return article.meta.subtitle
    for block in article.blocks():
        text = getattr(block, "text", None)
        if text:
            return text if len(text) <= 400 else text[:399].rsplit(" ", 1)[0] + "…"
    return article.title
