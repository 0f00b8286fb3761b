"""The server's security promises, tried over real HTTP on loopback: tokens, SSRF (a canary
server on loopback must never be reached), path traversal, XSS in article text, Range."""
from __future__ import annotations

import http.client
import os

import httpx
import pytest

from narrator.server import create_app
from narrator.server.fetch import FetchError, Fetcher, system_resolver
from narrator.server.jobs import job_id
from server_support import TOKEN, Canary, PageServer, ThreadServer, article_html, wait_done

AUTH = {"Authorization": f"Bearer {TOKEN}"}
XSS_TITLE = "<script>alert(1)</script>"
XSS_PAGE = article_html(
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    [(None, ["This article tests that text stays text in the player.",
             'It contains &lt;img src=x onerror=alert(1)&gt; as words.',
             '<img src="x" onerror="alert(2)"> A real image tag with a handler sits here.']),
     ("Second part &lt;b onmouseover=alert(3)&gt;", ["Short closing sentence here."])])


class StubDNS:
    """Name -> list of answers; a name with several answers gives the next one on each call
    (a rebinding DNS server). Other names go to the system resolver."""

    def __init__(self, names: dict):
        self.names = {k: list(v) for k, v in names.items()}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host in self.names:
            answers = self.names[host]
            return [answers.pop(0) if len(answers) > 1 else answers[0]]
        return system_resolver(host, port)


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="module")
def origin(canary):
    """An allowed origin on 127.0.0.2 (the allow-list has 127.0.0.2/32 only): an article,
    a redirect to the canary, a redirect to itself, and a non-HTML page."""
    pages = {}
    srv = PageServer(pages, host="127.0.0.2")
    pages["/article"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                         article_html("Fetched article", [(None, ["Fetched body text."])]).encode())
    pages["/to-canary"] = (302, {"Location": f"http://127.0.0.1:{canary.port}/"}, b"")
    pages["/to-canary-name"] = (301, {"Location": f"http://evil.example:{canary.port}/"}, b"")
    pages["/to-article"] = (307, {"Location": "/article"}, b"")
    pages["/image"] = (200, {"Content-Type": "image/png"}, b"\x89PNG....")
    pages["/big"] = (200, {"Content-Type": "text/html"}, b"<p>" + b"x" * 300_000)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def dns(canary):
    return StubDNS({"evil.example": ["127.0.0.1"], "meta.example": ["169.254.169.254"],
                    "rebind.example": ["127.0.0.2", "127.0.0.1"],
                    "public-then-private.example": ["93.184.215.14", "127.0.0.1"]})


@pytest.fixture(scope="module")
def server(tmp_path_factory, dns, origin):
    data = tmp_path_factory.mktemp("data")
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("NARRATOR_CACHE_DIR")
    os.environ["NARRATOR_CACHE_DIR"] = str(cache)
    fetcher = Fetcher(allow_networks=("127.0.0.2/32",), resolver=dns, max_bytes=200_000,
                      timeout_s=5)
    app = create_app(data, TOKEN, "espeak", synth_workers=1, fetcher=fetcher)
    with ThreadServer(app) as srv:
        srv.data = data
        srv.client = httpx.Client(base_url=srv.url, timeout=30)
        yield srv
        srv.client.close()
    if old is None:
        os.environ.pop("NARRATOR_CACHE_DIR", None)
    else:
        os.environ["NARRATOR_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def xss_job(server):
    r = server.client.post("/v1/narrations", json={"html": XSS_PAGE}, headers=AUTH)
    assert r.status_code == 202, r.text
    state = wait_done(server.client, r.json()["id"])
    assert state["status"] == "done", state
    return state


# ----------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": f"Bearer {TOKEN}x"},
                                     {"Authorization": "Bearer"}])
def test_writes_need_the_token(server, headers):
    r = server.client.post("/v1/narrations", json={"html": "<p>Hello there.</p>"},
                           headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    would_be = job_id(b"<p>Hello there.</p>", {"engine": "espeak"})
    assert server.client.get(f"/v1/narrations/{would_be}").status_code == 404


def test_serve_refuses_to_start_without_a_token(tmp_path):
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "NARRATOR_API_TOKEN"}
    r = subprocess.run([sys.executable, "-m", "narrator", "serve", "--data", str(tmp_path),
                        "--port", "0"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0
    assert "NARRATOR_API_TOKEN" in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- SSRF


def ssrf_urls(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}/", f"http://localhost:{port}/", f"http://[::1]:{port}/",
            f"http://0.0.0.0:{port}/", f"http://2130706433:{port}/",
            f"http://0x7f000001:{port}/", f"http://0177.0.0.1:{port}/", f"http://127.1:{port}/",
            f"http://[::ffff:127.0.0.1]:{port}/", f"http://[0:0:0:0:0:ffff:7f00:1]:{port}/",
            "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
            "http://100.100.100.200/", "http://224.0.0.1/", "http://240.0.0.1/",
            f"http://[64:ff9b::7f00:1]:{port}/", f"http://[2002:7f00:1::]:{port}/",
            f"http://evil.example:{port}/", "http://meta.example/latest/meta-data/",
            "file:///etc/passwd", f"ftp://127.0.0.1:{port}/", "gopher://127.0.0.1:70/",
            f"http://user:pw@127.0.0.2:{port}/", "javascript:alert(1)", "//127.0.0.1/"]


def test_ssrf_targets_are_refused_and_the_canary_never_hit(server, canary):
    for url in ssrf_urls(canary.port):
        r = server.client.post("/v1/narrations", json={"url": url}, headers=AUTH)
        assert r.status_code == 400, (url, r.status_code, r.text)
        assert r.json()["error"], url
    assert canary.hits == 0


def test_redirects_are_checked_at_every_hop(server, canary, origin):
    for path in ("/to-canary", "/to-canary-name"):
        r = server.client.post("/v1/narrations", json={"url": origin.url + path}, headers=AUTH)
        assert r.status_code == 400, r.text
        assert "not public" in r.json()["error"]
    assert canary.hits == 0
    assert "/to-canary" in origin.hits  # the allowed first hop was fetched, the second not


def test_allowed_origin_is_fetched_through_redirect_and_content_type_checked(server, origin):
    r = server.client.post("/v1/narrations", json={"url": origin.url + "/to-article"},
                           headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["url"] == origin.url + "/article"
    r = server.client.post("/v1/narrations", json={"url": origin.url + "/image"}, headers=AUTH)
    assert r.status_code == 400 and "not an HTML page" in r.json()["error"]
    r = server.client.post("/v1/narrations", json={"url": origin.url + "/big"}, headers=AUTH)
    assert r.status_code == 400 and "larger than" in r.json()["error"]


def test_dns_rebinding_cannot_switch_the_address_after_the_check(dns, origin, canary):
    """The name resolves to the allowed origin once, then to the canary: the connection must
    go to the address that was checked, and the name is resolved once per hop only."""
    port = origin.url.rsplit(":", 1)[1]
    fetcher = Fetcher(allow_networks=("127.0.0.2/32",), resolver=dns)
    dns.names["rebind.example"] = ["127.0.0.2", "127.0.0.1", "127.0.0.1"]
    before = dns.calls.count("rebind.example")
    page = fetcher.fetch(f"http://rebind.example:{port}/article")
    assert b"Fetched body text" in page.body
    assert dns.calls.count("rebind.example") == before + 1
    with pytest.raises(FetchError, match="not public"):  # the next answer is the canary
        fetcher.fetch(f"http://rebind.example:{port}/article")
    assert canary.hits == 0


def test_a_name_with_any_private_answer_is_refused(canary):
    fetcher = Fetcher(resolver=lambda host, port: ["93.184.215.14", "127.0.0.1"])
    with pytest.raises(FetchError, match="not public"):
        fetcher.fetch(f"http://mixed.example:{canary.port}/")
    assert canary.hits == 0


# ----------------------------------------------------------------------------- files


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """A request with the path exactly as written (no client-side normalisation)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def test_path_traversal_never_leaves_the_data_folder(server, xss_job):
    id = xss_job["id"]
    paths = ["/v1/narrations/../jobs.sqlite3", "/v1/narrations/..%2Fjobs.sqlite3/audio.mp3",
             "/v1/narrations/..%2F..%2F..%2Fetc%2Fpasswd/audio.mp3",
             f"/v1/narrations/{id}/..%2F..%2Fjobs.sqlite3", f"/v1/narrations/{id}/../../jobs.sqlite3",
             f"/v1/narrations/{id}/%2e%2e%2f%2e%2e%2fjobs.sqlite3",
             f"/v1/narrations/{id}/source.html", f"/v1/narrations/{id}/..%2Fsource.html",
             f"/v1/narrations/{id}%2F..%2F..%2Fjobs.sqlite3/audio.mp3",
             f"/v1/narrations/{id.upper()}/audio.mp3", f"/v1/narrations/{id}x/audio.mp3",
             "/static/..%2Fapp.py", "/static/../server/app.py", "/static/%2e%2e%2fapp.py",
             "/embed/..%2F..%2Fjobs.sqlite3", "/embed/../jobs.sqlite3",
             "/v1/narrations/%00/audio.mp3", f"/v1/narrations/{id}/audio.mp3%00.txt"]
    secret_bytes = [b"SQLite format", b"root:", b"def create_app", b"This article tests"]
    for path in paths:
        status, body = raw_get(server.url, path)
        assert status in (400, 404), (path, status)
        assert not any(s in body for s in secret_bytes), path


def test_range_returns_exactly_the_bytes_asked(server, xss_job):
    id = xss_job["id"]
    audio = (server.data / "narrations" / id / "audio.mp3").read_bytes()
    assert len(audio) > 2000
    url = f"/v1/narrations/{id}/audio.mp3"
    r = server.client.get(url, headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206
    assert len(r.content) == 1000 and r.content == audio[1000:2000]
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(audio)}"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "audio/mpeg"
    r = server.client.get(url, headers={"Range": "bytes=-500"})
    assert r.status_code == 206 and r.content == audio[-500:]
    r = server.client.get(url, headers={"Range": f"bytes={len(audio)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(audio)}"
    full = server.client.get(url)
    assert full.status_code == 200 and full.content == audio
    etag = full.headers["etag"]
    assert "max-age" in full.headers["cache-control"]
    assert server.client.get(url, headers={"If-None-Match": etag}).status_code == 304
    stale = server.client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and len(stale.content) == len(audio)
    head = server.client.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(audio))


def test_cors_open_for_media_same_origin_for_api(server, xss_job):
    id = xss_job["id"]
    foreign = {"Origin": "https://publisher.example"}
    r = server.client.get(f"/v1/narrations/{id}/transcript.vtt", headers=foreign)
    assert r.headers["access-control-allow-origin"] == "*"
    r = server.client.get(f"/v1/narrations/{id}", headers=foreign)
    assert "access-control-allow-origin" not in r.headers
    r = server.client.options("/v1/narrations", headers={
        **foreign, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_api_origins_are_configurable(tmp_path):
    app = create_app(tmp_path / "d", TOKEN, start_workers=False,
                     cors_origins=["https://cms.example"])
    with ThreadServer(app) as srv:
        ok = httpx.options(srv.url + "/v1/narrations", headers={
            "Origin": "https://cms.example", "Access-Control-Request-Method": "POST"})
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == "https://cms.example"
        assert "Authorization" in ok.headers["access-control-allow-headers"]
        other = httpx.get(srv.url + "/v1/narrations/" + "0" * 32,
                          headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# ----------------------------------------------------------------------------- XSS


def test_article_text_is_escaped_in_the_embed_page(server, xss_job):
    assert xss_job["title"] == XSS_TITLE  # the page's text, kept as text
    r = server.client.get(f"/embed/{xss_job['id']}")
    assert r.status_code == 200
    page = r.text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # only the player script
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    transcript = server.client.get(f"/v1/narrations/{xss_job['id']}/transcript.vtt").text
    assert "<img" not in transcript and "<script" not in transcript
    assert "&lt;img src=x onerror=alert(1)&gt;" in transcript
    meta = server.client.get(f"/v1/narrations/{xss_job['id']}/meta.json")
    assert meta.headers["content-type"].startswith("application/json")
    assert meta.json()["title"] == XSS_TITLE


def test_snippet_keeps_article_strings_out_of_markup(xss_job, server, tmp_path):
    from narrator.server import embed
    folder = server.data / "narrations" / xss_job["id"]
    html = embed.snippet(audio_src='x.mp3"><script>alert(4)</script>',
                         chapters={"title": XSS_TITLE, "chapters": [
                             {"startTime": 0, "title": "</script><script>alert(5)</script>"}]},
                         transcript=(folder / "audio.transcript.vtt").read_text(),
                         title=XSS_TITLE, language="en", key="k")
    assert html.count("<script") == 2  # the data block and the player, nothing injected
    assert "</script><script>alert(5)" not in html and "<script>alert(4)" not in html
    assert "\\u003c/script\\u003e" in html


# ----------------------------------------------------------------------------- TLS pinning


def test_https_connects_to_the_checked_address_and_verifies_the_name(tmp_path, canary):
    """The connection goes to the pinned IP while SNI and the certificate check use the name:
    a certificate for another name is refused."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=pinned.test", "-addext", "subjectAltName=DNS:pinned.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    seen_sni = []
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    tls = PageServer({"/": (200, {"Content-Type": "text/html"}, b"<p>over tls</p>")},
                     host="127.0.0.2", ssl_context=server_ctx)
    port = tls.port
    client_ctx = ssl.create_default_context(cafile=str(cert))
    dns = StubDNS({"pinned.test": ["127.0.0.2", "127.0.0.1"], "other.test": ["127.0.0.2"]})
    fetcher = Fetcher(allow_networks=("127.0.0.2/32",), resolver=dns, ssl_context=client_ctx)
    try:
        page = fetcher.fetch(f"https://pinned.test:{port}/")
        assert b"over tls" in page.body and seen_sni == ["pinned.test"]
        with pytest.raises(FetchError):  # the certificate is not for this name
            fetcher.fetch(f"https://other.test:{port}/")
    finally:
        tls.close()
    assert canary.hits == 0
