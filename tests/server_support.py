"""Helpers for the server and player tests: real HTTP servers on loopback, nothing faked
below the HTTP layer."""
from __future__ import annotations

import email.utils
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-6f1c"


class ThreadServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread of the test process."""

    def __init__(self, app, host: str = "127.0.0.1"):
        self.host = host
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning",
                                                    lifespan="on", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


class Canary:
    """An HTTP server on loopback (IPv4 and, where possible, IPv6 ::1) that counts every
    request: SSRF tests point at it and assert it was never reached."""

    def __init__(self, body: bytes = b"<html><title>canary</title><p>secret</p></html>"):
        self.hits = 0
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                canary.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.v4 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.v4.server_address[1]
        self.servers = [self.v4]
        try:
            class V6(http.server.ThreadingHTTPServer):
                address_family = socket.AF_INET6
            self.v6 = V6(("::1", self.port), Handler)  # same port: [::1]:port hits it too
            self.servers.append(self.v6)
        except OSError:
            self.v6 = None
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


class PageServer:
    """Serves fixed pages and redirects on a given loopback address: path -> (status, headers,
    body)."""

    def __init__(self, routes: dict, host: str = "127.0.0.1", ssl_context=None):
        self.routes = routes
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if ssl_context is not None else "http"
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`narrator serve` as a user starts it, in its own process. Any still running when the
    test session ends (a test that failed before stopping it) is killed then (conftest.py)."""

    running: list["ServeProcess"] = []

    @classmethod
    def stop_all(cls) -> None:
        while cls.running:
            cls.running.pop().stop(kill=True)

    def __init__(self, data: Path, *extra: str, token: str | None = TOKEN, env: dict | None = None,
                 engine: str | None = "espeak"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, **(env or {})}
        environment.pop("NARRATOR_API_TOKEN", None)
        if token:
            environment["NARRATOR_API_TOKEN"] = token
        self.log = open(Path(data).parent / f"serve-{self.port}.log", "wb")
        # espeak-ng unless a test says otherwise: fast, and the same in every environment;
        # engine=None starts the server with its own default.
        engine = () if engine is None or "--engine" in extra else ("--engine", engine)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "narrator", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--data", str(data), *engine, *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT)
        ServeProcess.running.append(self)

    def wait_ready(self, timeout: float = 60) -> "ServeProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"narrator serve exited with {self.proc.returncode}: "
                                   f"{Path(self.log.name).read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("narrator serve did not answer in time")

    def stop(self, kill: bool = False):
        if self in ServeProcess.running:
            ServeProcess.running.remove(self)
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def wait_done(client: httpx.Client, id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/v1/narrations/{id}").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"narration {id} not finished in {timeout} s: {state}")


def article_html(title: str, sections: list[tuple[str | None, list[str]]], lang: str = "en",
                 raw_title: bool = False) -> str:
    """A small article page. Text is inserted as HTML as given (callers escape what they
    want to stay text)."""
    body = [f"<h1>{title}</h1>"]
    for heading, paragraphs in sections:
        if heading:
            body.append(f"<h2>{heading}</h2>")
        body += [f"<p>{p}</p>" for p in paragraphs]
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}'
            f'</title></head><body><header><nav>Home</nav></header><main><article>'
            + "\n".join(body) + "</article></main><footer>Footer</footer></body></html>")


class PublisherSite:
    """A publisher's site on loopback: path -> HTML (editable while it runs), with ETag and
    Last-Modified on each page and 304 answers to conditional requests, as web servers and
    CDNs give. `log` holds (path, status, If-None-Match) for every request."""

    def __init__(self, pages: dict[str, str], host: str = "127.0.0.1", delay: float = 0.0):
        self.pages = dict(pages)
        self.modified: dict[str, float] = {path: time.time() - 3600 for path in pages}
        self.redirects: dict[str, str] = {}
        self.log: list[tuple[str, int, str | None]] = []
        self.delay = delay
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                time.sleep(outer.delay)
                path = self.path
                inm = self.headers.get("If-None-Match")
                if path in outer.redirects:
                    outer.log.append((path, 302, inm))
                    self.send_response(302)
                    self.send_header("Location", outer.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                html = outer.pages.get(path)
                if html is None:
                    outer.log.append((path, 404, inm))
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = html.encode("utf-8")
                etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                status = 304 if inm == etag else 200
                outer.log.append((path, status, inm))
                self.send_response(status)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", email.utils.formatdate(
                    outer.modified.get(path, 0.0), usegmt=True))
                self.send_header("Cache-Control", "no-cache")
                if status == 200:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def edit(self, path: str, html: str) -> None:
        self.pages[path] = html
        self.modified[path] = time.time()

    def fetched(self, path: str) -> list[tuple[int, str | None]]:
        return [(status, inm) for p, status, inm in self.log if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
