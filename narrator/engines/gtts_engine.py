"""Google Translate's voice through gTTS, hardened for archive-scale use.

gTTS itself builds the requests (`gTTS._prepare_requests`: the batchexecute form body, the
headers, the endpoint from `gtts.tts._translate_url`); narrator owns what gTTS 2.5.4 does not
do well at scale:

- splitting: each utterance is cut at clause boundaries under 100 characters
  (`text_split.split_text`), never into punctuation-only requests;
- a request-rate limit (`rate`, requests/s) shared by every thread and, on POSIX, by every
  narrator process of the user on this machine (`ratelimit.py`), and a bound on requests in
  flight (`max_workers`); the synthesize stage runs this engine in a thread pool
  (`concurrency = "thread"`), one instance shared by all threads;
- retries with exponential backoff and full jitter on 429, 5xx, timeouts, connection errors
  and answers without audio (gTTS raises at the first 429), then one clear EngineError;
- the endpoint: option `url` or env `NARRATOR_GTTS_URL` (a base URL, `{tld}` is replaced by
  the `tld` option), else Google's host for `tld` ("com", "co.uk", "fr", "com.au", ... give
  different accents).

Options: url, tld ("com"), slow (false), rate (requests/s, 5), max_workers (4), retries (8,
tries after the first), backoff (first wait in s, 0.5), max_backoff (s, 20), timeout (s, 10).
"""
from __future__ import annotations

import os
import random
import re
import threading
import time
from typing import ClassVar

from ..errors import EngineError, UnknownVoice
from ..model import Audio
from .base import Engine, VoiceInfo
from .gtts_protocol import (RPC_PATH, SAMPLE_RATE, Retryable, audio_from_answer, decode_mp3,
                            endpoint_url, prepared_request, retry_after_of)
from .ratelimit import RateLimiter, shared_limiter
from .text_split import split_text

ENV_URL = "NARRATOR_GTTS_URL"
MAX_CHARS = 100
_RETRY_STATUS = {408, 425, 429}
_TLD = re.compile(r"^[a-z]{2,}(\.[a-z]{2,})*$")

_DEFAULTS = {"tld": "com", "slow": False, "rate": 5.0, "max_workers": 4, "retries": 8,
             "backoff": 0.5, "max_backoff": 20.0, "timeout": 10.0}
_TYPES = {"tld": str, "url": str, "rate": float, "max_workers": int, "retries": int,
          "backoff": float, "max_backoff": float, "timeout": float}


def _as_bool(value) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if value.strip().lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(value)
    return bool(value)


class GttsEngine(Engine):
    name = "gtts"
    concurrency: ClassVar[str] = "thread"

    def __init__(self, **options):
        super().__init__(**options)
        settings = dict(_DEFAULTS)
        for key, value in options.items():
            if key not in _TYPES and key != "slow":
                raise EngineError(f"gtts: unknown option {key!r}"
                                  f" (known: {', '.join(sorted([*_TYPES, 'slow']))})")
            try:
                settings[key] = _as_bool(value) if key == "slow" else _TYPES.get(key, str)(value)
            except (TypeError, ValueError):
                raise EngineError(f"gtts: bad value {value!r} for option {key!r}") from None
        self.tld = str(settings["tld"]).strip().lstrip(".").lower()
        if not _TLD.match(self.tld):
            raise EngineError(f"gtts: bad tld {self.tld!r} (like com, co.uk, fr)")
        self.slow = bool(settings["slow"])
        self.base_url = settings.get("url") or os.environ.get(ENV_URL) or None
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise EngineError(f"gtts: the endpoint URL must start with http:// or https://,"
                              f" not {self.base_url!r}")
        self.url = endpoint_url(self.base_url, self.tld)
        self.retries = settings["retries"]
        self.backoff, self.max_backoff = settings["backoff"], settings["max_backoff"]
        self.timeout = settings["timeout"]
        self.max_workers = settings["max_workers"]
        rate = settings["rate"]
        if rate <= 0 or self.max_workers < 1 or self.retries < 0 or self.timeout <= 0:
            raise EngineError("gtts: rate and timeout must be > 0, max_workers >= 1,"
                              " retries >= 0")
        self.limiter = shared_limiter(self.url, rate)
        self._in_flight = threading.BoundedSemaphore(self.max_workers)
        self._local = threading.local()          # one requests.Session per thread
        # On an instance (an engine that will read), the probe is a request like any other:
        # this endpoint and accent, this engine's retries and backoff.
        self.unavailable_reason = self._probe

    # -- availability ---------------------------------------------------------------------

    @classmethod
    def unavailable_reason(cls, url: str | None = None, tld: str = "com",
                           timeout: float = 3.0, tries: int = 2,
                           limiter: RateLimiter | None = None) -> str | None:
        """None when the endpoint speaks a one-word probe within `timeout` seconds (two
        tries: one 429 or 5xx is no proof that the service is down). An engine's probes
        count against its rate limit like any other request."""
        missing = _missing_module()
        if missing:
            return missing
        import requests

        target = endpoint_url(url or os.environ.get(ENV_URL), tld)
        reason = None
        for _ in range(tries):
            try:
                request = prepared_request("Test", "en", False, tld, target)
                if limiter is not None:
                    limiter.acquire()
                with requests.Session() as session:
                    settings = session.merge_environment_settings(target, {}, None, None, None)
                    answer = session.send(request, timeout=timeout, **settings)
            except requests.Timeout:
                reason = f"endpoint did not answer within {timeout:g} s ({target})"
                continue
            except requests.RequestException as exc:
                return f"endpoint unreachable ({target}: {type(exc).__name__})"
            if answer.status_code == 200:
                try:
                    audio_from_answer(answer.text)
                    return None
                except Retryable:
                    reason = f"endpoint answered without audio ({target})"
            else:
                reason = f"endpoint answered HTTP {answer.status_code} ({target})"
        return reason

    def _probe(self) -> str | None:
        """None when this engine gets audio for a one-word request, through the same retry
        policy as every utterance (a 500 or two at the start is not an outage)."""
        missing = _missing_module()
        if missing:
            return missing
        try:
            # An endpoint that answers 500 or 429, or slowly, is up and gets the full policy;
            # one that cannot be connected to twice in a row (no network, no such host,
            # nothing listening) is not waited for.
            self._fetch("Test", "en", decode=False, unconnected_tries=2)
        except EngineError as exc:
            return str(exc)
        return None

    # -- voices ---------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        from gtts.lang import tts_langs

        return [VoiceInfo(id=code, languages=(code.split("-")[0].lower(),),
                          description=f"Google Translate {name}")
                for code, name in sorted(tts_langs().items())]

    def default_voice(self, language: str) -> str:
        from gtts.lang import tts_langs

        langs = tts_langs()
        for candidate in (language, language.split("-")[0].lower()):
            if candidate in langs:
                return candidate
        raise UnknownVoice(f"engine 'gtts' has no voice for language {language!r}")

    def settings(self) -> dict:
        # What changes the sound; rate, retries and workers do not. A non-default endpoint
        # may be another service, so it is part of the cache key.
        out = {"tld": self.tld, "slow": self.slow}
        if self.base_url:
            out["url"] = self.base_url
        return out

    # -- synthesis ------------------------------------------------------------------------

    def requests_for(self, text: str) -> list[str]:
        """The texts this engine sends for one utterance."""
        return split_text(text, MAX_CHARS)

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Audio:
        lang = voice or self.default_voice(language)
        parts = [self._fetch(part, lang) for part in self.requests_for(text)]
        if not parts:   # nothing speakable: a short pause rather than a request
            return Audio(pcm=b"\0\0" * (SAMPLE_RATE // 10), sample_rate=SAMPLE_RATE)
        return Audio(pcm=b"".join(p.pcm for p in parts), sample_rate=SAMPLE_RATE)

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = self._local.session = requests.Session()
        return session

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def _fetch(self, text: str, lang: str, decode: bool = True,
               unconnected_tries: int | None = None) -> Audio | None:
        """The audio of one request, retried; EngineError after the last try, or after
        `unconnected_tries` tries in a row that could not connect."""
        tries = self.retries + 1
        last, retry_after, unconnected = "", None, 0
        for attempt in range(tries):
            if unconnected_tries is not None and unconnected >= unconnected_tries:
                tries = attempt
                break
            if attempt:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                wait = random.uniform(wait / 2, wait)          # jitter: threads desynchronise
                time.sleep(max(wait, min(self.max_backoff, retry_after or 0.0)))
            retry_after = None
            try:
                return self._try(text, lang, decode)
            except Retryable as exc:
                last, retry_after = str(exc), exc.retry_after
                unconnected = 0 if exc.connected else unconnected + 1
        raise EngineError(f"gtts: no audio for {text[:40]!r} after {tries} tries"
                          f" ({last}; endpoint {self.url})")

    def _try(self, text: str, lang: str, decode: bool = True) -> Audio | None:
        import requests

        request = prepared_request(text, lang, self.slow, self.tld, self.url)
        session = self._session()
        with self._in_flight:
            self.limiter.acquire()
            try:
                settings = session.merge_environment_settings(request.url, {}, None, None, None)
                answer = session.send(request, timeout=self.timeout, **settings)
            except requests.Timeout:
                raise Retryable(f"no answer within {self.timeout:g} s") from None
            except requests.RequestException as exc:
                raise Retryable(f"connection failed: {type(exc).__name__}",
                                 connected=False) from None
        status = answer.status_code
        if status in _RETRY_STATUS or status >= 500:
            raise Retryable(f"HTTP {status} {answer.reason}", retry_after_of(answer))
        if status != 200:
            raise EngineError(f"gtts: endpoint {self.url} refused the request:"
                              f" HTTP {status} {answer.reason}")
        mp3 = audio_from_answer(answer.text)
        if not mp3:
            raise Retryable("answer with empty audio")
        return decode_mp3(mp3) if decode else None


def _missing_module() -> str | None:
    for module in ("gtts", "imageio_ffmpeg", "requests"):
        try:
            __import__(module)
        except ImportError:
            return f"not installed (pip install {module})"
    return None


__all__ = ["GttsEngine", "RPC_PATH", "endpoint_url", "prepared_request"]
