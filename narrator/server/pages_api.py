"""The routes of registered sites (see pages.py):

    GET  /v1/pages?url=URL        public: the page's narration (200 ready / unavailable),
                                  or 202 while it is being made; 403 for another site
    POST /v1/pages                token: {"url": URL} or {"site": ORIGIN}, checked now
    POST /v1/hooks/webflow        Webflow's site_publish webhook, signed with the site's secret
    GET  /sites/{host}/feed.xml   the site's podcast feed; /sites/{host}/artwork.png
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import InputError
from .pages import PageService
from .sites import SiteError, parse_origin
from .sitefeed import artwork, site_feed, site_title

WEBFLOW_MAX_AGE_S = 300  # Webflow's advice: a signed request older than this may be a replay


def add_page_routes(app: FastAPI, service: PageService, *,
                    authorize: Callable[[Request], None],
                    read_body: Callable[[Request], Awaitable[dict]],
                    public_url: str | None) -> None:

    def answer(result) -> JSONResponse:
        code, body, headers = result
        return JSONResponse(body, status_code=code, headers=headers)

    async def call(function, *args) -> JSONResponse:
        try:
            return answer(await run_in_threadpool(function, *args))
        except SiteError as exc:
            raise HTTPException(403, str(exc)) from None
        except InputError as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/v1/pages")
    async def page(request: Request, url: str | None = None):
        return await call(service.request, url, request.client.host if request.client else None)

    @app.post("/v1/pages")
    async def publish(request: Request):
        authorize(request)
        payload = await read_body(request)
        if set(payload) - {"url", "site"} or len(payload) != 1:
            raise HTTPException(400, 'give {"url": PAGE} or {"site": ORIGIN}')
        if "url" in payload:
            return await call(service.publish, payload["url"])
        try:
            origin = parse_origin(payload["site"])
        except InputError as exc:
            raise HTTPException(400, str(exc)) from None
        site = service.sites.by_origin.get(origin)
        if site is None:
            raise HTTPException(403, "this site is not registered with this server")
        return await call(service.publish_site, site)

    @app.post("/v1/hooks/webflow")
    async def webflow(request: Request):
        body = await request.body()
        if len(body) > 64 * 1024:
            raise HTTPException(413, "the request is too large")
        stamp = request.headers.get("x-webflow-timestamp", "")
        signature = request.headers.get("x-webflow-signature", "")
        if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > WEBFLOW_MAX_AGE_S * 1000:
            raise HTTPException(401, "missing or stale x-webflow-timestamp")
        signed = stamp.encode() + b":" + body
        sites = [s for s in service.sites if s.webflow_secret and hmac.compare_digest(
            hmac.new(s.webflow_secret.encode(), signed, hashlib.sha256).hexdigest(), signature)]
        if not sites:
            raise HTTPException(401, "the signature matches no site's webflow_secret")
        try:
            payload = json.loads(body)
            domains = {str(d).lower() for d in payload["payload"].get("domains", [])}
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise HTTPException(400, "not a Webflow site_publish payload") from None
        if payload.get("triggerType") != "site_publish":
            return JSONResponse({"ignored": payload.get("triggerType")}, status_code=200)
        checking = 0
        for site in sites:  # the secret's sites, and of those the domains just published
            if not domains or site.host.split(":")[0] in domains:
                checking += (await run_in_threadpool(service.publish_site, site))[1]["checking"]
        return JSONResponse({"checking": checking}, status_code=202)

    def site_or_404(host: str):
        site = service.sites.by_host(host)
        if site is None:
            raise HTTPException(404, "no such site")
        return site

    @app.get("/sites/{host}/feed.xml")
    async def feed(host: str, request: Request):
        site = site_or_404(host)
        base = public_url or _own_address(request)
        xml = await run_in_threadpool(site_feed, site, service.pages, service.jobs, base)
        return Response(xml, media_type="application/rss+xml; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300"})

    @app.get("/sites/{host}/artwork.png")
    async def feed_artwork(host: str):
        site = site_or_404(host)
        png = await run_in_threadpool(artwork, site_title(site))
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})


def _own_address(request: Request) -> str:
    """This server's address as the connection reached it (the socket's, not the Host header:
    a feed is cached publicly, so a forged Host must not put its name into the links).
    Behind a proxy, --public-url gives the address readers use."""
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    shown = f"[{host}]" if ":" in host else host
    return f"{request.url.scheme}://{shown}:{port}/"
