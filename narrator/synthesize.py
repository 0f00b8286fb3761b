"""Utterances -> PCM, in parallel, delivered in order, with bounded memory.

Engines declare how they parallelise: `concurrency = "process"` (CPU-bound, possibly not
thread-safe, like libespeak-ng) runs in a process pool whose workers each create their own
engine; `"thread"` (network-bound, like gTTS) shares one engine across a thread pool.
At most `2 * workers` results wait in memory, so a 70-minute article streams through.

With a synthesis cache (narrator.cache), the parent looks each utterance up before dispatching
it and stores what the workers return: only the misses reach the engine.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from .cache import SynthesisCache, cache_key
from .engines import Engine, create_engine
from .lifeline import watch_parent
from .model import Audio
from .errors import EngineError

Progress = Callable[[int, int], None]

# Below this many utterances a pool costs more than it saves.
_MIN_PARALLEL = 6


@dataclass(frozen=True)
class EngineSpec:
    """Everything a worker process needs to build the same engine as the parent."""

    name: str
    options: dict = field(default_factory=dict)

    def create(self) -> Engine:
        return create_engine(self.name, **self.options)


_worker_engine: Engine | None = None


def _init_worker(spec: EngineSpec, parent: int) -> None:
    global _worker_engine
    watch_parent(parent)  # a narration process that dies (crash, terminate) takes these along
    _worker_engine = spec.create()


def _synthesize_in_worker(text: str, language: str, voice: str) -> Audio:
    assert _worker_engine is not None
    return _worker_engine.synthesize(text, language=language, voice=voice)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def _executor(engine: Engine, spec: EngineSpec, workers: int) -> tuple[Executor, Callable]:
    concurrency = getattr(engine, "concurrency", "process")
    if concurrency == "thread":
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts")
        return pool, lambda text, language, voice: engine.synthesize(
            text, language=language, voice=voice)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(spec, os.getpid()))
    return pool, _synthesize_in_worker


def synthesize_stream(texts: Sequence[str], *, engine: Engine, spec: EngineSpec, language: str,
                      voice: str, workers: int | None = None,
                      progress: Progress | None = None,
                      cache: SynthesisCache | None = None,
                      voices: Sequence[str] | None = None) -> Iterator[Audio]:
    """Yield one Audio per text, in order. Engine errors propagate (no silent fallback).
    `voices`, when given, is one voice per text (a second voice for quotes)."""
    total = len(texts)
    voices = list(voices) if voices is not None else [voice] * total
    keys = ([cache_key(engine.name, v, engine.settings(), text) for text, v in zip(texts, voices)]
            if cache is not None else [None] * total)
    # Only the utterances missing from the cache need workers.
    to_make = total if cache is None else sum(1 for key in keys if key not in cache)
    workers = min(workers or int(getattr(engine, "max_workers", 0) or default_workers()),
                  max(1, to_make))
    if workers <= 1 or to_make < _MIN_PARALLEL:
        for i, text in enumerate(texts):
            audio = cache.get(keys[i]) if cache is not None else None
            if audio is None:
                audio = engine.synthesize(text, language=language, voice=voices[i])
                if cache is not None:
                    cache.put(keys[i], audio)
            yield audio
            if progress:
                progress(i + 1, total)
        return
    pool, call = _executor(engine, spec, workers)
    # Each entry: (cache key to store the result under, or None; a Future or a cached Audio).
    pending: deque[tuple[str | None, Future | Audio]] = deque()
    window = 2 * workers
    try:
        next_index = 0
        for done in range(total):
            while next_index < total and len(pending) < window:
                key = keys[next_index]
                cached = cache.get(key) if cache is not None else None
                if cached is not None:
                    pending.append((None, cached))
                else:
                    pending.append((key, pool.submit(call, texts[next_index], language,
                                                     voices[next_index])))
                next_index += 1
            key, item = pending.popleft()
            audio = item if isinstance(item, Audio) else item.result()
            if key is not None:
                cache.put(key, audio)
            yield audio
            if progress:
                progress(done + 1, total)
    except BrokenProcessPool:  # from result() or from submit() once the pool is broken
        raise EngineError(f"a {engine.name} synthesis worker process died "
                          "(killed, or crashed in the engine's library)") from None
    finally:
        for _key, future in pending:
            if isinstance(future, Future):
                future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
