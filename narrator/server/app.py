"""The HTTP face: `create_app(data_dir, token, engine, ...)` returns the FastAPI application.

    POST /v1/narrations              {"url": ...} or {"html": ..., "url": optional} + options
    GET  /v1/narrations              the jobs, newest first (token; ?status=, ?limit=, ?cursor=)
    GET  /v1/narrations/{id}         status, progress, error, links
    DELETE /v1/narrations/{id}       a job that is not running, and its files (token)
    GET  /v1/narrations/{id}/{file}  audio.mp3 | chapters.json | chapters.vtt | transcript.vtt
                                     | meta.json  (Range, ETag, Cache-Control; open CORS)
    GET  /embed/{id}                 the player page (strict CSP), iframe-able
    GET  /static/player.js|css       the widget for a publisher's own page
    /v1/pages, /v1/hooks/webflow, /sites/{host}/...   registered sites (pages_api.py)
"""
from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..assemble import check_bitrate
from ..errors import EngineError, InputError, NarratorError
from . import embed
from .accesslog import AccessLog
from .fetch import Fetcher
from .files import confined, file_response
from .jobs import (SIDE_FILES, STATUSES, Job, JobStore, WorkerPool, lock_data_folder,
                   valid_id)
from .pages import PageLimits, PageService
from .pages_api import add_page_routes
from .pagestore import PageStore
from .sites import SiteFetcher, Sites
from .voicecheck import check_voice

log = logging.getLogger("narrator.server")

MAX_BODY = 6 * 1024 * 1024
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
STATIC_CACHE = "public, max-age=3600"


def pipeline_runner(workers: int | None = None, job_timeout: float | None = None) -> Callable:
    """The default runner: each job in a narration process (see narrator.server.runner),
    `workers` synthesis workers in it, at most `job_timeout` seconds."""
    from .runner import ProcessRunner

    return ProcessRunner(synth_workers=workers, job_timeout=job_timeout)


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


class CORS:
    """Same origin for the API unless origins are configured; audio, sidecars, the widget open.
    Also adds the headers every response carries."""

    def __init__(self, app, api_origins: Iterable[str], page_origins: Iterable[str] = ()):
        self.app = app
        self.api_origins = set(api_origins)
        self.page_origins = set(page_origins)  # registered sites: their pages ask /v1/pages

    def _policy(self, path: str, origin: str) -> str | None:
        parts = path.strip("/").split("/")
        if parts[0] == "static" or (parts[:2] == ["v1", "narrations"] and len(parts) == 4):
            return "*"
        if parts == ["v1", "pages"] and origin in self.page_origins:
            return origin
        if parts[0] == "v1" and ("*" in self.api_origins or origin in self.api_origins):
            return origin
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        origin = headers.get("origin")
        allow = self._policy(scope["path"], origin) if origin else None
        if allow and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            hdrs = [(b"access-control-allow-origin", allow.encode()),
                    (b"access-control-allow-methods", b"GET, HEAD, POST, DELETE, OPTIONS"),
                    (b"access-control-allow-headers",
                     b"Authorization, Content-Type, Range, If-None-Match, If-Range"),
                    (b"access-control-max-age", b"600"), (b"vary", b"Origin")]
            await send({"type": "http.response.start", "status": 204, "headers": hdrs})
            return await send({"type": "http.response.body", "body": b""})

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in have]
                if allow:
                    extra += [(b"access-control-allow-origin", allow.encode()),
                              (b"access-control-expose-headers",
                               b"Content-Range, Content-Length, Accept-Ranges, ETag")]
                    if allow != "*":
                        extra.append((b"vary", b"Origin"))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        return await self.app(scope, receive, send_with_cors)


def _json_error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(data_dir: Path, token: str | None, engine: str = "espeak", *,
               workers: int = 1, synth_workers: int | None = None,
               fetcher: Fetcher | None = None, runner: Callable | None = None,
               cors_origins: Iterable[str] = (), frame_ancestors: str = "*",
               start_workers: bool = True, job_timeout: float | None = 900.0,
               access_log: bool = False, sites: Sites | None = None,
               page_limits: PageLimits = PageLimits(),
               public_url: str | None = None) -> FastAPI:
    """`token` None means no authentication (only with `--no-auth`). `access_log`: one line
    per request on the `narrator.access` logger."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    # The folder lock first: a second server stops here, before it touches (or migrates) the
    # job database.
    lock = lock_data_folder(data_dir) if start_workers else None
    store = JobStore(data_dir)
    pool = WorkerPool(store, runner or pipeline_runner(synth_workers, job_timeout),
                      workers=workers)
    fetcher = fetcher or Fetcher()
    sites = sites or Sites()
    pages = PageService(store, pool, PageStore(data_dir), sites,
                        SiteFetcher.around(fetcher, sites), engine, page_limits)
    js, css = embed.player_js().encode(), embed.player_css().encode()
    static = {"player.js": (js, "text/javascript; charset=utf-8"),
              "player.css": (css, "text/css; charset=utf-8")}
    static_gz = {k: gzip.compress(v[0], 9, mtime=0) for k, v in static.items()}
    static_etags = {k: '"%s"' % hashlib.sha256(v[0]).hexdigest()[:16] for k, v in static.items()}

    fetch_threads = ThreadPoolExecutor(FETCH_SLOTS, thread_name_prefix="narrator-fetch")
    fetch_slots = threading.BoundedSemaphore(FETCH_SLOTS)

    @asynccontextmanager
    async def lifespan(app):
        if start_workers:
            pool.start()
        yield
        fetch_threads.shutdown(wait=False, cancel_futures=True)
        pages.close()
        pool.stop()
        if lock is not None:
            lock.close()

    app = FastAPI(title="narrator", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, redirect_slashes=False)  # see _Outer: no Host echoed
    app.state.store, app.state.pool, app.state.fetcher = store, pool, fetcher
    app.state.pages = pages

    def authorize(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(),
                                                                 token.encode()):
            raise HTTPException(401, "a valid bearer token is required",
                                headers={"WWW-Authenticate": 'Bearer realm="narrator"'})

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        return _json_error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    def links(id: str) -> dict:
        base = f"/v1/narrations/{id}"
        return {"self": base, "embed": f"/embed/{id}", "audio": f"{base}/audio.mp3",
                "chapters": f"{base}/chapters.json", "chapters_vtt": f"{base}/chapters.vtt",
                "transcript": f"{base}/transcript.vtt", "meta": f"{base}/meta.json"}

    def describe(job: Job) -> dict:
        return {"id": job.id, "status": job.status, "progress": job.progress,
                "utterances": {"done": job.done, "total": job.total}, "error": job.error,
                "title": job.title, "language": job.language, "duration": job.duration,
                "attempts": job.attempts, "url": job.url,
                "cache": ({"hits": job.cache_hits, "misses": job.cache_misses}
                          if job.cache_hits is not None else None),
                "links": links(job.id) if job.status == "done" else {"self": links(job.id)["self"]}}

    async def read_body(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            raise HTTPException(413, f"the request is larger than {MAX_BODY} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise HTTPException(413, f"the request is larger than {MAX_BODY} bytes")
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            raise HTTPException(400, "the body must be JSON") from None
        except RecursionError:
            raise HTTPException(400, "the body's JSON is nested too deeply") from None
        if not isinstance(payload, dict):
            raise HTTPException(400, "the body must be a JSON object")
        if not _unicode_text(payload):
            raise HTTPException(400, "the body's JSON holds a string that is not Unicode "
                                "text (a lone surrogate such as \\ud800)")
        return payload

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
                return _json_error(503, "too many pages are being fetched; retry shortly",
                                   {"Retry-After": "5"})
            try:
                fetched = await asyncio.get_running_loop().run_in_executor(
                    fetch_threads, fetcher.fetch, url)
            except NarratorError as exc:
                return _json_error(400, str(exc))
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

    done: dict[str, Job] = {}  # finished jobs never change: file requests skip the database

    def get_job(id: str) -> Job:
        job = store.get(id) if valid_id(id) else None
        if job is None:
            raise HTTPException(404, "no such narration")
        if job.status == "done" and len(done) < 100_000:
            done[id] = job
        return job

    async def get_done_or_any(id: str) -> Job:
        return done.get(id) or await run_in_threadpool(get_job, id)

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
        return describe(await run_in_threadpool(get_job, id))

    @app.delete("/v1/narrations/{id}", status_code=204)
    async def delete(id: str, request: Request):
        authorize(request)
        was = await run_in_threadpool(store.delete, id)
        if was is None:
            raise HTTPException(404, "no such narration")
        if was == "running":
            raise HTTPException(409, "the narration is running: delete it once it has ended")
        done.pop(id, None)
        return Response(status_code=204)

    @app.api_route("/v1/narrations/{id}/{name}", methods=["GET", "HEAD"])
    async def narration_file(id: str, name: str, request: Request):
        job = await get_done_or_any(id)
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

    @app.get("/embed/{id}", response_class=HTMLResponse)
    async def embed_page(id: str):
        job = await run_in_threadpool(get_job, id)
        csp = embed.EMBED_CSP.format(ancestors=frame_ancestors)
        if job.status == "failed":  # final: no refresh
            return HTMLResponse(embed.failed_page(job.error or ""), status_code=404,
                                headers={"Content-Security-Policy": csp,
                                         "Cache-Control": "no-store"})
        if job.status != "done":
            return HTMLResponse("<!doctype html><meta http-equiv=refresh content=5>"
                                "<title>narrator</title><p>Not ready yet.</p>",
                                status_code=503, headers={"Retry-After": "5",
                                                          "Content-Security-Policy": csp})
        page = embed.embed_page(job.id, title=job.title or "", language=job.language or "en")
        return HTMLResponse(page, headers={"Content-Security-Policy": csp,
                                           "Cache-Control": "public, max-age=300"})

    @app.get("/static/{name}")
    async def static_file(name: str, request: Request):
        if name not in static:
            raise HTTPException(404, "no such file")
        body, media_type = static[name]
        headers = {"ETag": static_etags[name], "Cache-Control": STATIC_CACHE,
                   "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == static_etags[name]:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = static_gz[name]
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=media_type, headers=headers)

    add_page_routes(app, pages, authorize=authorize, read_body=read_body,
                    public_url=public_url)

    @app.get("/healthz")
    async def health():
        return {"ok": True}

    outer = CORS(app, cors_origins, [site.origin for site in sites])
    return _Outer(AccessLog(outer) if access_log else outer, app)


def _unicode_text(payload) -> bool:
    """Whether every string in a parsed JSON value (keys too) can be encoded as UTF-8."""
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class _Outer:
    """The ASGI app with CORS around it; `.fastapi` and `.state` stay reachable.

    It also answers a path with a trailing slash that names a route without it: 307 to that
    path, as a relative reference. Starlette's own redirect builds an absolute URL from the
    request's Host header, which would send a client wherever the request said."""

    def __init__(self, asgi, fastapi: FastAPI):
        self._asgi, self.fastapi, self.state = asgi, fastapi, fastapi.state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            target = self._without_slash(scope)
            if target is not None:
                query = scope.get("query_string", b"")
                location = target + ("?" + query.decode("latin-1") if query else "")
                response = Response(status_code=307, headers={"Location": location})
                return await response(scope, receive, send)
        await self._asgi(scope, receive, send)

    def _without_slash(self, scope) -> str | None:
        path = scope["path"]
        target = path.rstrip("/")
        if path == target or not target.startswith("/") or target.startswith("//"):
            return None
        from starlette.routing import Match

        probe = {**scope, "path": target}
        if any(route.matches(probe)[0] != Match.NONE for route in self.fastapi.router.routes):
            return quote(target)
        return None
