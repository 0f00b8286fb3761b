"""What wraps the FastAPI application (plain ASGI, around every route): the CORS policy and
the headers every response carries (`CORS`), and the trailing-slash redirect that never
echoes the request's Host (`Outer`)."""
from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import Response

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


class Outer:
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
