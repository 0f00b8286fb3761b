"""The player's routes: the embeddable page of a narration and the widget's files.

    GET  /embed/{id}                 the player page (strict CSP), iframe-able
    GET  /static/player.js|css       the widget for a publisher's own page (gzip, ETag)
"""
from __future__ import annotations

import gzip
import hashlib

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from . import embed
from .narrations_api import Narrations

STATIC_CACHE = "public, max-age=3600"


def add_player_routes(app: FastAPI, narrations: Narrations, *, frame_ancestors: str) -> None:
    js, css = embed.player_js().encode(), embed.player_css().encode()
    static = {"player.js": (js, "text/javascript; charset=utf-8"),
              "player.css": (css, "text/css; charset=utf-8")}
    static_gz = {k: gzip.compress(v[0], 9, mtime=0) for k, v in static.items()}
    static_etags = {k: '"%s"' % hashlib.sha256(v[0]).hexdigest()[:16] for k, v in static.items()}

    @app.get("/embed/{id}", response_class=HTMLResponse)
    async def embed_page(id: str):
        job = await run_in_threadpool(narrations.get, id)
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
