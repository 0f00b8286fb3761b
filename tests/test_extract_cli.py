"""`narrator extract`: text and JSON output, --explain, --rules, stdin and http input, and
errors as one line on stderr with a non-zero exit."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

NARRATOR = str(Path(sys.executable).with_name("narrator"))
PAGE = ('<html lang="en"><head><meta charset="utf-8"><meta property="og:site_name" content="The Ledger">'
        '<title>Buses go free | The Ledger</title></head><body><nav><a href="/">Home</a></nav><article>'
        '<div class="kicker">TRANSPORT</div><h1>Buses go free for students</h1>'
        "<p>The transit authority will carry every student for free from September, after a two-year trial "
        "in three districts doubled ridership.</p><div class=\"share-bar\">Share this article</div>"
        "<blockquote>It turned out we were running a freedom program.</blockquote><p>- Dolores Whitcombe</p>"
        "<h2>What it costs</h2><p>The program will cost four million dollars a year, paid from the parking "
        "levy that the council raised last spring.</p></article></body></html>").encode()


def run(*args, stdin: bytes | None = None):
    return subprocess.run([NARRATOR, "extract", *args], input=stdin, capture_output=True, timeout=60)


@pytest.fixture()
def page_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(PAGE)
    return path


def test_text_output(page_file):
    proc = run(str(page_file))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert text == ("Buses go free for students\n\nThe transit authority will carry every student for free from "
                    "September, after a two-year trial in three districts doubled ridership.\n\n"
                    "“It turned out we were running a freedom program,” said Dolores Whitcombe.\n\n"
                    "What it costs\n\nThe program will cost four million dollars a year, paid from the parking "
                    "levy that the council raised last spring.\n")


def test_body_only_output_and_callable(page_file):
    from narrator.extract import extract_body_text, extract_text

    proc = run(str(page_file), "--body-only")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert text.startswith("The transit authority will carry every student")
    assert "Buses go free for students" not in text
    assert "What it costs\n\n" in text  # cross-heads stay: only the title line goes
    assert run(str(page_file)).stdout.decode() == "Buses go free for students\n\n" + text
    assert extract_body_text(PAGE) == text
    assert extract_text(PAGE) == "Buses go free for students\n\n" + text
    bad = run(str(page_file), "--body-only", "--format", "json")
    assert bad.returncode != 0 and b"--body-only" in bad.stderr and b"Traceback" not in bad.stderr


def test_json_output_and_explain(page_file):
    proc = run(str(page_file), "--format", "json", "--explain", "--url", "https://ledger.example/buses")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["title"] == "Buses go free for students" and data["language"] == "en"
    assert data["meta"]["site_name"] == "The Ledger"
    assert data["meta"]["source_url"] == "https://ledger.example/buses"
    assert [s["heading"] for s in data["sections"]] == [None, "What it costs"]
    quote = data["sections"][0]["blocks"][1]
    assert quote == {"type": "quote", "text": "It turned out we were running a freedom program.",
                     "attribution": "Dolores Whitcombe"}
    dropped = {d["text"]: d["rule"] for d in data["explain"]["dropped"]}
    assert any("TRANSPORT" in t for t in dropped)
    assert any("Share this article" in t for t in dropped)


def test_explain_text_goes_to_stderr(page_file):
    proc = run(str(page_file), "--explain")
    assert proc.returncode == 0
    assert b"Share this article" not in proc.stdout
    assert b"dropped" in proc.stderr and b"Share this article" in proc.stderr


def test_stdin_and_rules(tmp_path):
    rules = tmp_path / "ledger.toml"
    rules.write_text('[drop.phrases]\nen = ["What it costs"]\n', "utf-8")
    proc = run("-", "--rules", str(rules), stdin=PAGE)
    assert proc.returncode == 0, proc.stderr
    assert b"What it costs" not in proc.stdout and b"parking levy" in proc.stdout


def test_http_input():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/article":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(PAGE)
            else:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(b"\x89PNG\r\n\x1a\n" + bytes(200))

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        proc = run(base + "/article", "--format", "json")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["meta"]["source_url"] == base + "/article"
        proc = run(base + "/logo.png")
        assert proc.returncode != 0
        assert proc.stderr.decode().strip() == "narrator: error: not an HTML page (Content-Type: image/png)"
    finally:
        server.shutdown()


@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.7 binary", "not an HTML page (binary data)"),
    (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text found on the page"),
    (b"", "page is empty"),
])
def test_errors_are_one_line(tmp_path, content, message):
    path = tmp_path / "bad.html"
    path.write_bytes(content)
    proc = run(str(path))
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"narrator: error: {message}\n"
    assert proc.stdout == b""


def test_missing_file_and_bad_format(tmp_path):
    proc = run(str(tmp_path / "nope.html"))
    assert proc.returncode != 0 and b"Traceback" not in proc.stderr and b"no such file" in proc.stderr
    path = tmp_path / "p.html"
    path.write_bytes(PAGE)
    proc = run(str(path), "--format", "xml")
    assert proc.returncode != 0 and b"is not one of 'text', 'json'" in proc.stderr


def test_size_cap_option(page_file):
    proc = run(str(page_file), "--max-size", "100")
    assert proc.returncode == 2
    assert b"larger than" in proc.stderr or b"size cap" in proc.stderr


def test_rules_from_config_file(tmp_path, monkeypatch, page_file):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ledger.toml").write_text('[drop.phrases]\nen = ["What it costs"]\n', "utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[extract]\nrules = ["rules/ledger.toml"]\n', "utf-8")
    monkeypatch.setenv("NARRATOR_CONFIG", str(config))
    proc = run(str(page_file), "--explain")
    assert proc.returncode == 0, proc.stderr
    assert b"What it costs" not in proc.stdout
    assert b"ledger" in proc.stderr
