#!/usr/bin/env python3
"""`narrator serve` under load, on 127.0.0.1.

    python benchmarks/serve.py [--clients 50] [--seconds 20] [--range-bytes 65536]

1. Starts `narrator serve` (a temporary data folder, a token) as a user would.
2. POSTs the same article 20 times at once and checks it is narrated once: every answer has
   the same id, and the job's `attempts` is 1 when it is done.
3. Runs --clients concurrent clients for --seconds, each on its own keep-alive connection,
   fetching the audio with Range requests of --range-bytes at random offsets (as browsers
   do when seeking), and checks every answer is a 206 of the right length.
Prints requests/s, MB/s, p50 / p90 / p99 / max latency and the server's CPU time per request.
4. Registered sites (issue 14): a publisher site on 127.0.0.1 serves --site-page (the seed);
   the server registers it. Measures the time from a reader's first GET /v1/pages to playable
   audio (the first bytes of the MP3), polling every 50 ms, and when a player polling as
   player.js does (the server's retry_after hints) would show it; then --clients readers asking
   /v1/pages for that known page for --seconds (per-client limits off for this run: one
   machine plays all the readers).
The load generator (asyncio streams, a minimal HTTP/1.1 client, one keep-alive connection per
client) runs in this process, so on a small machine it shares the CPU with the server.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, *extra: str, env: dict | None = None
                 ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "NARRATOR_API_TOKEN": TOKEN,
           "NARRATOR_CACHE_DIR": str(data.parent / "cache"), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "narrator", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--data", str(data), "--quiet",
                             *(() if "--engine" in extra else ("--engine", "espeak")), *extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("narrator serve did not start")


async def post_same_article(url: str, page: str, times: int) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=times)) as c:
        answers = await asyncio.gather(*[c.post("/v1/narrations", json={"html": page},
                                                headers=AUTH) for _ in range(times)])
        ids = {a.json()["id"] for a in answers}
        codes = sorted({a.status_code for a in answers})
        print(f"POST x{times} concurrently: status codes {codes}, distinct ids {len(ids)}")
        if len(ids) != 1:
            raise SystemExit("FAIL: the same article got several ids")
        id = ids.pop()
        started = time.perf_counter()
        while True:
            state = (await c.get(f"/v1/narrations/{id}")).json()
            if state["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.2)
        print(f"narration {state['status']} in {time.perf_counter() - started:.1f} s, "
              f"{state['duration']:.0f} s of audio, attempts = {state['attempts']}"
              f" -> {'narrated once' if state['attempts'] == 1 else 'FAIL: narrated more than once'}")
        if state["status"] != "done" or state["attempts"] != 1:
            raise SystemExit(1)
        return id


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator must cost
    far less CPU than the server it measures (httpx costs several ms per request)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        body = await self.reader.readexactly(int(fields.get("content-length", 0)))
        return int(status_line.split()[1]), fields, body

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def client(host: str, port: int, path: str, size: int, span: int, deadline: float,
                 latencies: list, errors: list, seed: int) -> int:
    rng = random.Random(seed)
    transferred = 0
    conn = Connection(host, port)
    try:
        await conn.get(path, {"Range": "bytes=0-0"})  # connect before the clock matters
        while time.perf_counter() < deadline:
            start = rng.randrange(0, max(1, size - span))
            end = min(size, start + span) - 1
            t0 = time.perf_counter()
            try:
                status, _, body = await conn.get(path, {"Range": f"bytes={start}-{end}"})
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = Connection(host, port)
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 206 or len(body) != end - start + 1:
                errors.append(f"{status} {len(body)}")
            transferred += len(body)
    finally:
        conn.close()
    return transferred


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1] if len(values) > 1 else values[0]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, id: str, clients: int, seconds: float, span: int, pid: int) -> None:
    path = f"/v1/narrations/{id}/audio.mp3"
    size = int(httpx.head(url + path).headers["content-length"])
    latencies: list[float] = []
    errors: list[str] = []
    host, port = url.removeprefix("http://").split(":")
    cpu_before = cpu_seconds(pid)
    own_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    sent = await asyncio.gather(*[client(host, int(port), path, size, span, deadline,
                                         latencies, errors, i) for i in range(clients)])
    wall = time.perf_counter() - started
    own = time.process_time() - own_before
    cpu_after = cpu_seconds(pid)
    ms = [x * 1000 for x in latencies]
    print(f"{clients} clients x {seconds:.0f} s, Range requests of {span} bytes on a "
          f"{size / 1e6:.1f} MB MP3:")
    print(f"  requests: {len(latencies)} ({len(latencies) / wall:.0f} req/s), "
          f"{sum(sent) / wall / 1e6:.1f} MB/s, errors: {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    print(f"  latency ms: p50 {pct(ms, 50):.1f}  p90 {pct(ms, 90):.1f}  p99 {pct(ms, 99):.1f}"
          f"  max {max(ms):.1f}")
    if cpu_before is not None and cpu_after is not None and latencies:
        used = cpu_after - cpu_before
        print(f"  server process CPU: {used:.1f} s in {wall:.1f} s "
              f"({1000 * used / len(latencies):.2f} ms per request); load generator CPU: "
              f"{own:.1f} s (same machine)")


class Publisher:
    """The publisher's site: one article page, on 127.0.0.1."""

    def __init__(self, html: bytes, path: str = "/2026/11/mel-resilience"):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                found = self.path == path
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(html) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(html)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = self.origin + path
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


async def widget(c: httpx.AsyncClient, page_url: str, started: float) -> float:
    """Polls as the player does (player.js `later`): the server's retry_after, at least
    0.5 s and a twentieth of the wait so far. Returns when it would show the player."""
    delay = 0.0
    while True:
        body = (await c.get("/v1/pages", params={"url": page_url})).json()
        if body["status"] != "preparing":
            return time.perf_counter() - started
        waited = time.perf_counter() - started
        delay = body.get("retry_after") or min(60.0, delay * 1.6 if delay else 2.0)
        await asyncio.sleep(min(60.0, max(0.5, waited / 20, delay)))


async def first_listen(url: str, page_url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        started = time.perf_counter()
        first = await c.get("/v1/pages", params={"url": page_url})
        answered = time.perf_counter() - started
        shown = asyncio.create_task(widget(c, page_url, started))
        while True:
            body = (await c.get("/v1/pages", params={"url": page_url})).json()
            if body["status"] != "preparing":
                break
            await asyncio.sleep(0.05)
        ready = time.perf_counter() - started
        if body["status"] != "ready":
            raise SystemExit(f"FAIL: the page was not narrated: {body}")
        audio = await c.get(body["links"]["audio"], headers={"Range": "bytes=0-65535"})
        playable = time.perf_counter() - started
        if audio.status_code != 206:
            raise SystemExit(f"FAIL: audio answered {audio.status_code}")
        seen = await shown
    print(f"reader's first request -> playable audio ({body['duration']:.0f} s of audio): "
          f"{playable:.2f} s (first answer {first.status_code} in {answered * 1000:.0f} ms, "
          f"narrated at {ready:.2f} s); a player polling as player.js does shows it at "
          f"{seen:.2f} s")


async def pages_load(url: str, page_url: str, clients: int, seconds: float, pid: int) -> None:
    from urllib.parse import quote

    path = "/v1/pages?url=" + quote(page_url, safe="")
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: list[str] = []

    async def reader() -> None:
        conn = Connection(host, int(port))
        try:
            await conn.get(path, {})
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                status, _, body = await conn.get(path, {})
                latencies.append(time.perf_counter() - t0)
                if status != 200 or b'"ready"' not in body:
                    errors.append(f"{status} {body[:80]!r}")
        finally:
            conn.close()

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*[reader() for _ in range(clients)])
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds(pid)
    ms = [x * 1000 for x in latencies]
    print(f"{clients} readers x {seconds:.0f} s asking GET /v1/pages for the known page:")
    print(f"  requests: {len(latencies)} ({len(latencies) / wall:.0f} req/s), errors: "
          f"{len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"  latency ms: p50 {pct(ms, 50):.1f}  p90 {pct(ms, 90):.1f}  p99 {pct(ms, 99):.1f}"
          f"  max {max(ms):.1f}")
    if cpu_before is not None and cpu_after is not None and latencies:
        print(f"  server process CPU: {1000 * (cpu_after - cpu_before) / len(latencies):.2f} ms"
              f" per request")


def sites(args) -> None:
    publisher = Publisher(args.site_page.read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[server.pages]\nclient_rate = 0\n[[server.sites]]\n'
                          f'origin = "{publisher.origin}"\n')
        proc, url = start_server(Path(tmp) / "data", "--allow-net", "127.0.0.1/32",
                                 env={"NARRATOR_CONFIG": str(config)})
        try:
            asyncio.run(first_listen(url, publisher.url))
            asyncio.run(pages_load(url, publisher.url, args.clients, args.seconds, proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--range-bytes", type=int, default=65536)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--page", type=Path, default=ROOT / "samples" / "en-city-heat.html")
    ap.add_argument("--site-page", type=Path, default=ROOT / "samples" / "mel-resilience.html")
    ap.add_argument("--only", choices=("audio", "sites"), help="run one part only")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPU(s); python {sys.version.split()[0]}; load average "
          f"{os.getloadavg()[0]:.1f}")
    if args.only != "audio":
        sites(args)
    if args.only == "sites":
        return
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "data")
        try:
            page = args.page.read_text(encoding="utf-8")
            id = asyncio.run(post_same_article(url, page, args.posts))
            asyncio.run(load(url, id, args.clients, args.seconds, args.range_bytes, proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
