"""A local stand-in for Google Translate's TTS endpoint, speaking gTTS's batchexecute protocol.

It parses the form POST that gTTS sends to `/_/TranslateWebserverUi/data/batchexecute`
(`f.req` = JSON `[[["jQ1olc", "<JSON [text, lang, slow, \"null\"]>", null, "generic"]]]`),
answers like Google (`)]}'`, then length-prefixed JSON chunks, the `wrb.fr` / `jQ1olc` one
carrying the base64 MP3), with real MP3 bytes: the request's text spoken by narrator's espeak
engine and encoded by ffmpeg (mono, 24 kHz, 32 kb/s like Google's). It records every request
and injects failures: 429, 500, 503, "timeout" (no answer for `hang` seconds), "empty" (a 200
whose jQ1olc result holds no audio, as Google answers for text it will not speak), "blank"
(a 200 with an empty body) and "garbage" (a 200 whose "MP3" is random bytes). Texts over `max_chars` get a 400, as a too-long request would.

In tests:   with GttsStandin(fail_rate=0.3) as server: ... server.url ... server.requests
By hand:    python tests/gtts_standin.py --port 8765 --fail-rate 0.3
"""
from __future__ import annotations

import argparse
import base64
import json
import random
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RPC_PATH = "/_/TranslateWebserverUi/data/batchexecute"
FAILURES = ("429", "500", "503", "timeout", "empty", "blank", "garbage")


@dataclass(frozen=True)
class Request:
    text: str
    lang: str
    slow: bool
    path: str
    time: float          # time.monotonic() when the request arrived
    outcome: str         # "ok", one of FAILURES, or "bad" for a malformed request


class _Speaker:
    """Real MP3 for a text: espeak-ng PCM, encoded by ffmpeg. Cached per (text, lang)."""

    def __init__(self, speak: bool):
        import imageio_ffmpeg

        self.ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        self.speak = speak
        self._lock = threading.Lock()          # libespeak-ng is not thread-safe
        self._cache: dict[tuple[str, str], bytes] = {}
        self._clip = self._mp3(*self._pcm("Bonjour.", "fr"))

    def _pcm(self, text: str, lang: str) -> tuple[bytes, int]:
        from narrator.engines.espeak import EspeakEngine

        engine = EspeakEngine()
        voice = lang.split("-")[0].lower()
        with self._lock:
            try:
                audio = engine.synthesize(text, language=voice)
            except Exception:
                audio = engine.synthesize(text, language="en")
        return audio.pcm, audio.sample_rate

    def _mp3(self, pcm: bytes, rate: int) -> bytes:
        done = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate),
             "-ac", "1", "-i", "pipe:0", "-ar", "24000", "-b:a", "32k", "-write_xing", "0",
             "-id3v2_version", "0", "-f", "mp3", "pipe:1"],
            input=pcm, capture_output=True, check=True)
        return done.stdout

    def mp3(self, text: str, lang: str) -> bytes:
        if not self.speak:
            return self._clip
        key = (text, lang)
        if key not in self._cache:
            self._cache[key] = self._mp3(*self._pcm(text, lang))
        return self._cache[key]


def google_answer(mp3: bytes | None) -> bytes:
    """The body Google sends back, with `mp3` (None: a result without audio)."""
    result = json.dumps([base64.b64encode(mp3).decode("ascii")]) if mp3 is not None else None
    chunks = [
        [["wrb.fr", "jQ1olc", result, None, None, None if mp3 is not None else [3], "generic"],
         ["di", 57], ["af.httprm", 56, "-4452343417208435231", 1]],
        [["e", 4, None, None, 1234]],
    ]
    body = ")]}'\n"
    for chunk in chunks:
        text = json.dumps(chunk, separators=(",", ":"))
        body += f"\n{len(text) + 1}\n{text}"
    return (body + "\n").encode("utf-8")


class GttsStandin:
    """The stand-in server, on 127.0.0.1 in a background thread.

    fail_rate: share of requests answered with a failure drawn from `failures`;
    plan: outcomes ("ok" or a failure) for the first requests, before the random draws;
    hang: seconds a "timeout" request waits before answering (beyond the client's timeout);
    delay: seconds every answer takes (network and synthesis latency); `max_in_flight` then
    shows how many requests the client had open at once.
    """

    def __init__(self, *, port: int = 0, fail_rate: float = 0.0,
                 failures: tuple[str, ...] = ("429", "500"), plan: list[str] | None = None,
                 seed: int = 1234, hang: float = 3.0, max_chars: int = 100,
                 speak: bool = True, retry_after: float | None = None, delay: float = 0.0,
                 log: bool = False):
        unknown = set(failures) - set(FAILURES)
        if unknown:
            raise ValueError(f"unknown failure kinds {sorted(unknown)}; known: {FAILURES}")
        self.fail_rate, self.failures = fail_rate, tuple(failures)
        self.plan = list(plan or [])
        self.hang, self.max_chars, self.retry_after, self.log = hang, max_chars, retry_after, log
        self.delay = delay
        self.requests: list[Request] = []
        self.in_flight = self.max_in_flight = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._speaker = _Speaker(speak)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ok_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.outcome == "ok"]

    def start(self) -> "GttsStandin":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="gtts-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "GttsStandin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _outcome(self) -> str:
        with self._lock:
            if self.plan:
                return self.plan.pop(0)
            if self.fail_rate and self._random.random() < self.fail_rate:
                return self._random.choice(self.failures)
            return "ok"

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
        if self.log:
            print(f"{request.outcome:>7} {len(request.text):3d} {request.text!r}", flush=True)

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):       # quiet: the stand-in records requests itself
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict | None = None):
                self._answered()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass                        # the client gave up (its timeout)

            def do_GET(self):
                self._send(405, b"POST only")

            def do_POST(self):
                with standin._lock:
                    standin.in_flight += 1
                    standin.max_in_flight = max(standin.max_in_flight, standin.in_flight)
                self._counted = True
                try:
                    self._post()
                finally:
                    self._answered()

            def _answered(self):
                # A request stops being in flight when its answer starts: the client may
                # send its next one the moment it has read this answer, before this
                # thread gets the CPU back to count down.
                if getattr(self, "_counted", False):
                    self._counted = False
                    with standin._lock:
                        standin.in_flight -= 1

            def _post(self):
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                path = urllib.parse.urlsplit(self.path).path
                if not path.endswith(RPC_PATH):
                    standin._record(Request("", "", False, path, arrived, "bad"))
                    return self._send(404, b"Not Found")
                try:
                    (freq,) = urllib.parse.parse_qs(body, strict_parsing=False)["f.req"]
                    rpc_id, payload, _, _ = json.loads(freq)[0][0]
                    text, lang, slow, _ = json.loads(payload)
                    if rpc_id != "jQ1olc" or not isinstance(text, str):
                        raise ValueError(rpc_id)
                except (KeyError, ValueError, TypeError, IndexError):
                    standin._record(Request("", "", False, path, arrived, "bad"))
                    return self._send(400, b"Bad Request")
                if len(text) > standin.max_chars:
                    standin._record(Request(text, lang, bool(slow), path, arrived, "bad"))
                    return self._send(400, b"Bad Request: text too long")
                outcome = standin._outcome()
                standin._record(Request(text, lang, bool(slow), path, arrived, outcome))
                if standin.delay:
                    standin._stopping.wait(standin.delay)
                if outcome in ("429", "500", "503"):
                    headers = ({"Retry-After": f"{standin.retry_after:g}"}
                               if outcome == "429" and standin.retry_after is not None else {})
                    return self._send(int(outcome), b"error", headers)
                if outcome == "timeout":
                    standin._stopping.wait(standin.hang)
                elif outcome == "empty":
                    return self._send(200, google_answer(None))
                elif outcome == "blank":
                    return self._send(200, b"")
                elif outcome == "garbage":
                    return self._send(200, google_answer(random.Random(text).randbytes(2000)))
                self._send(200, google_answer(standin._speaker.mp3(text, lang)))

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--failures", default="429,500",
                        help=f"comma-separated kinds among {','.join(FAILURES)}")
    parser.add_argument("--hang", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--no-speak", action="store_true",
                        help="answer every request with the same short clip (faster)")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args()
    server = GttsStandin(port=args.port, fail_rate=args.fail_rate,
                         failures=tuple(k for k in args.failures.split(",") if k),
                         hang=args.hang, seed=args.seed, speak=not args.no_speak,
                         log=not args.quiet)
    print(f"gTTS stand-in on {server.url} (NARRATOR_GTTS_URL={server.url})", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._stopping.set()
        server._server.server_close()


if __name__ == "__main__":
    main()
