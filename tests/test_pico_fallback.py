"""Where py-nanotts has no wheel (macOS today), Pico is skipped with its reason and espeak-ng
reads: shown with a `py_nanotts` that fails to import, in real `narrator` processes."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_support import isolated_env, narrator
from narrator.engines import pico


def _narrator(*args, env):
    return narrator(*args, env=env, timeout=120)


@pytest.fixture
def env(tmp_path):
    return isolated_env(tmp_path)


def test_without_py_nanotts_pico_is_skipped_with_its_reason_and_espeak_reads(env, tmp_path):
    # A `py_nanotts` that fails to import, first on the path: a platform with no wheel (macOS).
    fake = tmp_path / "fake" / "py_nanotts"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('NanoTTS native extension failed to load')\n")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(fake.parent), env.get("PYTHONPATH")]))
    listing = _narrator("voices", "--lang", "fr", env=env)
    assert listing.returncode == 0, listing.stderr
    pico = next(line for line in listing.stdout.splitlines() if line.startswith("pico  "))
    assert pico.startswith("pico  (unavailable: not installed (")
    assert "auto for 'fr': espeak voice (default) -- espeak-ng, offline fallback (" in listing.stdout
    assert "pico: not installed (" in listing.stdout

    seed = Path(__file__).resolve().parent.parent / "samples" / "mel-resilience.html"
    done = _narrator("narrate", str(seed), "-o", str(tmp_path / "mel.mp3"), "-v", env=env)
    assert done.returncode == 0, done.stderr
    assert "engine auto: espeak voice fr (espeak-ng, offline fallback (" in done.stdout
    assert "pico: not installed (" in done.stdout
    assert (tmp_path / "mel.mp3").stat().st_size > 100_000

    refused = _narrator("narrate", str(seed), "-o", str(tmp_path / "p.mp3"), "--engine", "pico",
                        env=env)
    assert refused.returncode != 0
    assert refused.stderr.startswith("narrator: error: engine 'pico' is unavailable: not installed")
    assert "Traceback" not in refused.stderr and not (tmp_path / "p.mp3").exists()


def test_the_reason_names_the_platform_without_a_wheel(monkeypatch):
    for system, machine, hint in (("Darwin", "arm64", "py-nanotts has no wheel for Darwin arm64"),
                                  ("Linux", "riscv64", "py-nanotts has no wheel for Linux riscv64"),
                                  ("Linux", "x86_64", "pip install py-nanotts"),
                                  ("Windows", "AMD64", "pip install py-nanotts")):
        monkeypatch.setattr(pico.platform, "system", lambda: system)
        monkeypatch.setattr(pico.platform, "machine", lambda: machine)
        assert pico._install_hint() == hint
