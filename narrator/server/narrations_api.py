"""The narration routes:

    POST /v1/narrations              {"url": ...} or {"html": ..., "url": optional} + options
    GET  /v1/narrations              the jobs, newest first (token; ?status=, ?limit=, ?cursor=)
    GET  /v1/narrations/{id}         status, progress, error, links
    DELETE /v1/narrations/{id}       a job that is not running, and its files (token)
    GET  /v1/narrations/{id}/{file}  audio.mp3 | chapters.json | chapters.vtt | transcript.vtt
                                     | meta.json  (Range, ETag, Cache-Control; open CORS)
"""
from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..assemble import check_bitrate
from ..errors import EngineError, InputError, NarratorError
from .fetch import Fetcher
from .files import confined, file_response
from .job import SIDE_FILES, STATUSES, Job, links, valid_id
from .jobs import JobStore
from .jsonbody import read_body
from .voicecheck import check_voice
from .workers import WorkerPool

# Pages fetched at once for clients. Fetch work has its own threads: slow pages (each has a
# 10 s deadline) never take the threads that answer status and audio requests; past this
# many, a submission by URL is answered 503 at once.
FETCH_SLOTS = 8
# What a client may choose. Not the engine (the server's operator does: an engine may call out
# to the network), and voices and languages by name only (an engine may take a voice path).
OPTION_KEYS = {"voice": str, "language": str, "bitrate_kbps": int}
OPTION_PATTERNS = {"voice": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+-]{0,63}$"),
                   "language": re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")}
MEDIA_CACHE = "public, max-age=86400"


def json_error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def describe(job: Job) -> dict:
    return {"id": job.id, "status": job.status, "progress": job.progress,
            "utterances": {"done": job.done, "total": job.total}, "error": job.error,
            "title": job.title, "language": job.language, "duration": job.duration,
            "attempts": job.attempts, "url": job.url,
            "cache": ({"hits": job.cache_hits, "misses": job.cache_misses}
                      if job.cache_hits is not None else None),
            "links": links(job.id) if job.status == "done" else {"self": links(job.id)["self"]}}


class Narrations:
    """The jobs as the routes look them up: 404 for an unknown id; finished jobs never
    change, so they are kept here and file requests skip the database."""

    def __init__(self, store: JobStore):
        self.store = store
        self.done: dict[str, Job] = {}

    def get(self, id: str) -> Job:
        job = self.store.get(id) if valid_id(id) else None
        if job is None:
            raise HTTPException(404, "no such narration")
        if job.status == "done" and len(self.done) < 100_000:
            self.done[id] = job
        return job

    async def get_done_or_any(self, id: str) -> Job:
        return self.done.get(id) or await run_in_threadpool(self.get, id)


def add_narration_routes(app: FastAPI, narrations: Narrations, pool: WorkerPool, *,
                         engine: str, fetcher: Fetcher,
                         authorize: Callable[[Request], None]) -> Callable[[], None]:
    """Adds the routes; returns what to call when the application stops."""
    store = narrations.store
    fetch_threads = ThreadPoolExecutor(FETCH_SLOTS, thread_name_prefix="narrator-fetch")
    fetch_slots = threading.BoundedSemaphore(FETCH_SLOTS)

    @app.post("/v1/narrations", status_code=202)
    async def submit(request: Request):
        authorize(request)
        payload = await read_body(request)
        unknown = set(payload) - {"url", "html", *OPTION_KEYS}
        if unknown:
            raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))[:200]}")
        options = {"engine": engine}
        for key, kind in OPTION_KEYS.items():
            if payload.get(key) is not None:
                if not isinstance(payload[key], kind) or isinstance(payload[key], bool):
                    raise HTTPException(400, f"{key!r} must be a {kind.__name__}")
                options[key] = payload[key]
        for key, pattern in OPTION_PATTERNS.items():
            if key in options and not pattern.match(options[key]):
                raise HTTPException(400, f"invalid {key!r}")
        if "bitrate_kbps" in options:
            try:
                check_bitrate(options["bitrate_kbps"])
            except InputError as exc:
                raise HTTPException(400, str(exc)) from None
        if "voice" in options or "language" in options:
            try:  # now, not in a job that would fail later
                await run_in_threadpool(check_voice, engine, options.get("voice"),
                                        options.get("language"))
            except EngineError as exc:
                raise HTTPException(400, str(exc)) from None
        url, page = payload.get("url"), payload.get("html")
        if url is not None and not isinstance(url, str):
            raise HTTPException(400, "'url' must be a string")
        if page is not None:
            if not isinstance(page, str) or not page.strip():
                raise HTTPException(400, "'html' must be a non-empty string")
            content = page.encode("utf-8")
        elif url:
            if not fetch_slots.acquire(blocking=False):
                return json_error(503, "too many pages are being fetched; retry shortly",
                                  {"Retry-After": "5"})
            try:
                fetched = await asyncio.get_running_loop().run_in_executor(
                    fetch_threads, fetcher.fetch, url)
            except NarratorError as exc:
                return json_error(400, str(exc))
            finally:
                fetch_slots.release()
            content, url = fetched.body, fetched.url
        else:
            raise HTTPException(400, "give 'url' or 'html'")
        job, created = await run_in_threadpool(store.submit, content, options, url)
        if job.status == "queued":
            pool.notify()
        return JSONResponse(describe(job), status_code=202 if job.status != "done" else 200,
                            headers={"Location": f"/v1/narrations/{job.id}"})

    @app.get("/v1/narrations")
    async def listing(request: Request, status: str | None = None, limit: int = 50,
                      cursor: str | None = None):
        authorize(request)
        if status is not None and status not in STATUSES:
            raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}")
        if not 1 <= limit <= 200:
            raise HTTPException(400, "limit must be between 1 and 200")
        before = None
        if cursor is not None:
            created, _, last = cursor.partition("_")
            try:
                before = (float(created), last)
            except ValueError:
                raise HTTPException(400, "invalid cursor") from None
            if not valid_id(last):
                raise HTTPException(400, "invalid cursor")
        jobs = await run_in_threadpool(store.recent, status, limit, before)
        following = None
        if len(jobs) == limit:
            query = {"limit": limit, "cursor": f"{jobs[-1].created!r}_{jobs[-1].id}"}
            if status:
                query["status"] = status
            following = "/v1/narrations?" + urlencode(query)
        return {"narrations": [describe(j) for j in jobs], "next": following}

    @app.get("/v1/narrations/{id}")
    async def status(id: str):
        return describe(await run_in_threadpool(narrations.get, id))

    @app.delete("/v1/narrations/{id}", status_code=204)
    async def delete(id: str, request: Request):
        authorize(request)
        was = await run_in_threadpool(store.delete, id)
        if was is None:
            raise HTTPException(404, "no such narration")
        if was == "running":
            raise HTTPException(409, "the narration is running: delete it once it has ended")
        narrations.done.pop(id, None)
        return Response(status_code=204)

    @app.api_route("/v1/narrations/{id}/{name}", methods=["GET", "HEAD"])
    async def narration_file(id: str, name: str, request: Request):
        job = await narrations.get_done_or_any(id)
        if name == "meta.json":
            if job.status != "done":
                raise HTTPException(404, "the narration is not ready")
            return JSONResponse({"id": job.id, "title": job.title, "language": job.language,
                                 "duration": job.duration, "links": links(job.id)},
                                headers={"Cache-Control": MEDIA_CACHE})
        if name not in SIDE_FILES:
            raise HTTPException(404, "no such file")
        if job.status == "failed":
            raise HTTPException(404, f"the narration failed: {job.error}")
        if job.status != "done":
            raise HTTPException(404, "the narration is not ready")
        path = store.folder(job.id) / SIDE_FILES[name]
        if not confined(store.jobs_dir, path) or not path.is_file():
            raise HTTPException(404, "no such file")
        return file_response(request, path, cache_control=MEDIA_CACHE)

    def close() -> None:
        fetch_threads.shutdown(wait=False, cancel_futures=True)

    return close
