"""The synthesis cache on real files and a real SQLite index, shared by real processes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from narrator.cache import SynthesisCache, cache_key
from narrator.model import Audio


def _audio(n: int, rate: int = 22050, seed: int = 1) -> Audio:
    return Audio(pcm=bytes((i * seed) % 256 for i in range(2 * n)), sample_rate=rate)


def test_key_changes_with_every_part_and_ignores_settings_order():
    base = cache_key("espeak", "fr", {"rate": 170, "pitch": 50}, "Bonjour.")
    assert base == cache_key("espeak", "fr", {"pitch": 50, "rate": 170}, "Bonjour.")
    others = {
        cache_key("piper", "fr", {"rate": 170, "pitch": 50}, "Bonjour."),
        cache_key("espeak", "en", {"rate": 170, "pitch": 50}, "Bonjour."),
        cache_key("espeak", "fr", {"rate": 171, "pitch": 50}, "Bonjour."),
        cache_key("espeak", "fr", {"rate": 170}, "Bonjour."),
        cache_key("espeak", "fr", {"rate": 170, "pitch": 50}, "Bonjour !"),
        cache_key("espeak", None, {"rate": 170, "pitch": 50}, "Bonjour."),
    }
    assert base not in others and len(others) == 6
    assert len(base) == 64 and int(base, 16) >= 0


def test_put_then_get_roundtrip_and_counters(tmp_path):
    cache = SynthesisCache(tmp_path / "c", max_bytes=10_000_000)
    key = cache_key("espeak", "fr", {}, "Une phrase.")
    assert cache.get(key) is None
    audio = _audio(5000, rate=16000)
    cache.put(key, audio)
    got = cache.get(key)
    assert got == audio and got.sample_rate == 16000
    assert cache.stats() == {"hits": 1, "misses": 1, "errors": 0}
    # A second cache object (another narrate) sees the entry.
    again = SynthesisCache(tmp_path / "c", max_bytes=10_000_000)
    assert again.get(key) == audio and again.hits == 1
    # Empty audio (an utterance of silence) is a valid entry too.
    empty = cache_key("espeak", "fr", {}, "")
    cache.put(empty, Audio(pcm=b"", sample_rate=22050))
    assert cache.get(empty) == Audio(pcm=b"", sample_rate=22050)
    assert not list((tmp_path / "c").rglob(".tmp-*"))


def test_eviction_keeps_the_total_bounded_and_drops_least_recently_used(tmp_path):
    entry = 10_000  # bytes of PCM per entry
    cache = SynthesisCache(tmp_path, max_bytes=5 * entry + 500)
    keys = [cache_key("e", "v", {}, f"sentence {i}") for i in range(5)]
    for i, key in enumerate(keys):
        cache.put(key, _audio(entry // 2, seed=i + 1))
        time.sleep(0.01)
    assert all(key in cache for key in keys)
    cache.get(keys[0])  # used recently: must survive the next eviction
    time.sleep(0.01)
    for i in range(3):
        cache.put(cache_key("e", "v", {}, f"new {i}"), _audio(entry // 2, seed=9))
        time.sleep(0.01)
    assert keys[0] in cache
    assert keys[1] not in cache and keys[2] not in cache
    assert cache.total_bytes() <= cache.max_bytes
    on_disk = sum(p.stat().st_size for p in (tmp_path / "objects").rglob("*.pcm"))
    assert on_disk == cache.total_bytes()


def test_damaged_entry_is_a_miss_and_is_replaced(tmp_path):
    cache = SynthesisCache(tmp_path, max_bytes=10**7)
    key = cache_key("e", "v", {}, "text")
    cache.put(key, _audio(100))
    file = next((tmp_path / "objects").rglob(f"{key}.pcm"))
    file.write_bytes(file.read_bytes()[:-10])  # truncated
    assert cache.get(key) is None
    cache.put(key, _audio(100))
    assert cache.get(key) == _audio(100)


def test_unwritable_cache_never_breaks_a_narration(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cache = SynthesisCache(tmp_path / "file" / "cache", max_bytes=10**7)
    key = cache_key("e", "v", {}, "text")
    cache.put(key, _audio(10))
    assert cache.get(key) is None
    assert cache.errors == 1 and cache.misses == 1


def test_many_processes_share_one_cache(tmp_path):
    """Four processes put and get the same keys at once; every read is whole and right."""
    script = textwrap.dedent(f"""
        import sys
        from narrator.cache import SynthesisCache, cache_key
        from narrator.model import Audio
        cache = SynthesisCache({str(tmp_path)!r}, max_bytes=100_000)
        bad = 0
        for round in range(3):
            for i in range(40):
                key = cache_key("e", "v", {{}}, f"sentence {{i}}")
                pcm = bytes([i]) * (2000 + 100 * i)
                got = cache.get(key)
                if got is not None and got.pcm != pcm:
                    bad += 1
                cache.put(key, Audio(pcm=pcm, sample_rate=22050))
        print(bad, cache.hits, cache.errors)
    """)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env=env) for _ in range(4)]
    results = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(bad == "0" and errors == "0" for bad, _hits, errors in results)
    assert sum(int(hits) for _b, hits, _e in results) > 0
    cache = SynthesisCache(tmp_path, max_bytes=100_000)
    assert cache.total_bytes() <= 100_000
    assert not list(tmp_path.rglob(".tmp-*"))


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "ABCDEF0123"])
def test_bad_keys_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        SynthesisCache(tmp_path, 100).get(bad)
