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


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "NARRATOR_API_TOKEN": TOKEN,
           "NARRATOR_CACHE_DIR": str(data.parent / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "narrator", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--data", str(data)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--range-bytes", type=int, default=65536)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--page", type=Path, default=ROOT / "samples" / "en-city-heat.html")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPU(s); python {sys.version.split()[0]}")
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
