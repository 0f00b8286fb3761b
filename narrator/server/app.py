"""The HTTP face: `create_app(data_dir, token, engine, ...)` returns the ASGI application.

It assembles the parts: the job store and its worker pool, the registered sites' pages, the
routes (narrations_api.py: /v1/narrations...; player_api.py: /embed, /static;
pages_api.py: /v1/pages, /v1/hooks/webflow, /sites/{host}/...), the bearer-token check they
share, and what wraps them all (middleware.py: CORS and security headers, slash redirects;
accesslog.py).
"""
from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable, Iterable

from fastapi import FastAPI, HTTPException, Request

from .accesslog import AccessLog
from .fetch import Fetcher
from .jobs import JobStore
from .jsonbody import read_body
from .middleware import CORS, Outer
from .narrations_api import Narrations, add_narration_routes, json_error
from .pages import PageLimits, PageService
from .pages_api import add_page_routes
from .pagestore import PageStore
from .player_api import add_player_routes
from .sites import SiteFetcher, Sites
from .workers import WorkerPool, lock_data_folder



def pipeline_runner(workers: int | None = None, job_timeout: float | None = None) -> Callable:
    """The default runner: each job in a narration process (see narrator.server.runner),
    `workers` synthesis workers in it, at most `job_timeout` seconds."""
    from .runner import ProcessRunner

    return ProcessRunner(synth_workers=workers, job_timeout=job_timeout)


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
    closing: list[Callable[[], None]] = []

    @asynccontextmanager
    async def lifespan(app):
        if start_workers:
            pool.start()
        yield
        for close in closing:
            close()
        pages.close()
        pool.stop()
        if lock is not None:
            lock.close()

    app = FastAPI(title="narrator", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, redirect_slashes=False)  # see Outer: no Host echoed
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
        return json_error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    narrations = Narrations(store)
    closing.append(add_narration_routes(app, narrations, pool, engine=engine, fetcher=fetcher,
                                        authorize=authorize))
    add_player_routes(app, narrations, frame_ancestors=frame_ancestors)
    add_page_routes(app, pages, authorize=authorize, read_body=read_body,
                    public_url=public_url)

    @app.get("/healthz")
    async def health():
        return {"ok": True}

    outer = CORS(app, cors_origins, [site.origin for site in sites])
    return Outer(AccessLog(outer) if access_log else outer, app)
