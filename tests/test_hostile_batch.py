"""Hostile sources for `narrator batch` (issue 12): a gzip bomb, damaged WARCs, feeds that
point inside the network, pages that claim another site's canonical URL, a full disk, an
article stuck in C code. Real subprocesses, real HTTP servers on loopback."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hostile_corpus as corpus
from cli_support import NARRATOR, narrator
from cli_support import catalog_rows as rows
from server_support import PageServer
from test_batch_archive import build_archive, isolated_config  # noqa: F401 (fixture)

pytestmark = pytest.mark.hostile

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "mel-resilience.html"
BATCH = [*NARRATOR, "batch"]


def batch(*args, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return narrator("batch", *args, timeout=timeout, **kwargs)


class Site(PageServer):
    """Pages served on a loopback address; records the paths asked for (`hits`)."""

    def __init__(self, host: str = "127.0.0.1"):
        super().__init__({}, host)

    def add(self, path: str, body: bytes, kind: str = "text/html; charset=utf-8",
            status: int = 200, **headers) -> str:
        self.routes[path] = (status, {"Content-Type": kind, **headers}, body)
        return self.url + path


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def peak_rss_mb(command: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run `command` from a fresh interpreter that reports the largest RSS of its children."""
    wrapper = ("import json, resource, subprocess, sys\n"
               "done = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
               "sys.stdout.write(json.dumps([done.returncode, done.stdout, done.stderr,\n"
               "    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))\n")
    out = subprocess.run([sys.executable, "-c", wrapper, json.dumps(command)],
                         capture_output=True, text=True, timeout=600)
    code, stdout, stderr, rss = json.loads(out.stdout)
    return subprocess.CompletedProcess(command, code, stdout, stderr), rss


# ----------------------------------------------------------------------------- item 3


def test_a_gzip_bomb_sitemap_is_refused_at_the_size_cap_in_bounded_memory(tmp_path, site):
    bomb = corpus.sitemap_bomb()  # 518 KB that inflate to 512 MiB
    local = tmp_path / "sitemap.xml.gz"
    local.write_bytes(bomb)
    fetched = site.add("/sitemap.xml.gz", bomb, "application/gzip")
    for source, extra in ((local, []), (fetched, ["--allow-net", "127.0.0.0/8"])):
        done, rss = peak_rss_mb([*BATCH, str(source), "-o", str(tmp_path / "out"),
                                 "--engine", "espeak", *extra])
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "larger than 10000000 bytes once decompressed" in lines[0], \
            done.stderr[-500:]
        assert rss < 400, f"{rss:.0f} MB"  # before: the whole bomb in memory, twice


# ----------------------------------------------------------------------------- item 4


def test_feed_entries_pointing_inside_the_network_are_not_fetched(tmp_path, site):
    secret = site.add("/admin", corpus.page("<p>Internal only.</p>", title="Internal"))
    origin = Site("127.0.0.2")
    try:
        hop = origin.add("/hop", b"", status=302, Location=secret)  # allowed, then a redirect
        rss = tmp_path / "feed.xml"
        rss.write_text(f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><link>{secret}</link></item><item><link>http://2130706433:{
            site.port}/admin</link></item>
            <item><link>{hop}</link></item></channel></rss>""")
        out = tmp_path / "out"
        done = batch(rss, "-o", out, "--engine", "espeak", "--json", "--allow-net", "127.0.0.2/32")
        report = json.loads(done.stdout)
        assert done.returncode == 1 and report["narrated"] == 0, report
        assert len(report["failed"]) == 3
        assert all("is not public" in f["error"] for f in report["failed"]), report["failed"]
        assert site.hits == [] and "/hop" in origin.hits  # never reached the secret
        assert "Internal" not in (out / "feed.xml").read_text()

        # The escape hatch, as for the server: the network is allowed, the page fetched.
        done = batch(rss, "-o", out, "--engine", "espeak", "--json", "--allow-net", "127.0.0.0/8")
        report = json.loads(done.stdout)
        assert report["narrated"] >= 1 and not report["failed"], report
        assert "/admin" in site.hits
    finally:
        origin.close()


def test_a_page_cannot_take_another_sites_article_by_its_canonical_url(tmp_path):
    a, b = Site("127.0.0.2"), Site("127.0.0.3")
    try:
        real = a.url + "/story"
        a.add("/story", corpus.page("<p>The real story.</p>", title="The real story",
                                    head=f'<link rel="canonical" href="{real}">'))
        spoof = b.add("/copy", corpus.page("<p>Someone else's words.</p>", title="A spoof",
                                           head=f'<link rel="canonical" href="{real}">'))
        out = tmp_path / "out"
        for source, host in ((tmp_path / "a.txt", a), (tmp_path / "b.txt", b)):
            source.write_text(host.url + ("/story" if host is a else "/copy") + "\n")
        done = batch(tmp_path / "a.txt", "-o", out, "--engine", "espeak", "--allow-net",
                     "127.0.0.0/8")
        assert done.returncode == 0, done.stderr
        before = rows(out)[real]
        done = batch(tmp_path / "b.txt", "-o", out, "--engine", "espeak", "--allow-net",
                     "127.0.0.0/8")
        assert done.returncode == 0, done.stderr
        assert f"its canonical URL {real} is on another site" in done.stderr
        catalog = rows(out)
        assert catalog[real] == before  # A's article, audio and guid untouched
        assert catalog[spoof]["title"] == "A spoof"
    finally:
        a.close()
        b.close()


def test_same_site_follows_the_public_suffix_list():
    from narrator.batch.identity import same_site

    assert same_site("https://www.bbc.co.uk/a", "https://news.bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk/a", "https://other.co.uk/a")
    assert not same_site("https://alice.github.io/a", "https://bob.github.io/a")
    assert same_site("http://127.0.0.2:80/a", "http://127.0.0.2:8080/b")
    assert not same_site("http://127.0.0.2/a", "http://127.0.0.3/a")
    assert not same_site("http://[::1/a", "http://[::1]/a")


# ----------------------------------------------------------------------------- item 5: WARC


@pytest.mark.parametrize("name", ["damaged.warc.gz", "damaged.warc"])
def test_a_damaged_warc_record_is_skipped_reported_and_the_batch_goes_on(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(corpus.damaged_warc(name.endswith(".gz")))
    out = tmp_path / "out"
    done = batch(path, "-o", out, "--engine", "espeak", "--workers", "2", timeout=600)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "\x1b" not in done.stdout + done.stderr  # the terminal escape is shown escaped
    assert "\\x1b[2J" in done.stdout + done.stderr
    assert "damaged WARC record at byte" in done.stdout
    catalog = rows(out)
    narrated = {r["id"] for r in catalog.values() if r["status"] == "done"}
    assert len(narrated) == 4, sorted(narrated)
    assert "https://news.example/\x1b[2J\x1b[31mowned" in narrated  # (up to the newline)
    failed = [r for r in catalog.values() if r["status"] == "failed"]
    assert len(failed) == 1 and "damaged WARC record" in failed[0]["error"]


# ----------------------------------------------------------------------------- item 5: ENOSPC


def _disk_full_runs(tmp_path: Path) -> list[subprocess.CompletedProcess] | None:
    """Two batch runs on a real 300 KB tmpfs (the disk fills during the first), the second
    after it has grown to 50 MB; None where no mount namespace can be had here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    disk = tmp_path / "disk"
    disk.mkdir()
    results = tmp_path / "results"
    results.mkdir()
    batch_line = " ".join(f"'{a}'" for a in [*BATCH, str(SAMPLE), "-o", str(disk / "out"),
                                             "--engine", "espeak", "--workers", "1"])
    script = (f"mount -t tmpfs -o size=300k tmpfs '{disk}' || exit 97\n"
              f"{batch_line} >'{results}/1.out' 2>'{results}/1.err'; echo $? >'{results}/1.rc'\n"
              f"mount -o remount,size=50m '{disk}'\n"
              f"{batch_line} >'{results}/2.out' 2>'{results}/2.err'; echo $? >'{results}/2.rc'\n"
              f"ls -A '{disk}/out' '{disk}/out/audio' >'{results}/ls' 2>&1\n")
    done = subprocess.run([unshare, "-rm", "sh", "-c", script], capture_output=True, text=True,
                          timeout=600)
    if done.returncode == 97 or not (results / "1.rc").exists():
        return None
    return [subprocess.CompletedProcess([], int((results / f"{n}.rc").read_text()),
                                        (results / f"{n}.out").read_text(),
                                        (results / f"{n}.err").read_text()) for n in (1, 2)]


def fill_the_disk(job: dict) -> dict:
    """In a worker: the MP3 encoder's writes fail as on a full disk (ENOSPC)."""
    from narrator.assemble import encode
    from narrator.batch.worker import narrate_job

    if not (Path(job["outdir"]).parent / "disk-is-free").exists():
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        encode.Mp3Encoder.write = full
    return narrate_job(job)


def test_a_full_disk_is_a_transient_one_line_failure_retried_by_a_plain_rerun(tmp_path):
    runs = _disk_full_runs(tmp_path)
    if runs is not None:  # a real full file system
        first, second = runs
        lines = first.stdout.strip().splitlines()
        assert first.returncode == 1 and "Traceback" not in first.stderr
        assert any("no space left on the device" in line and "internal error" not in line
                   for line in lines), first.stdout
        assert second.returncode == 0, second.stdout + second.stderr
        assert "1 narrated" in second.stdout  # no --retry-failed needed
        return
    # No mount namespace on this machine: the same failure raised where the MP3 is written.
    from narrator.batch import BatchOptions, run_batch
    from narrator.batch.executors import LocalExecutor

    out = tmp_path / "out"
    report = run_batch(str(SAMPLE), out, BatchOptions(engine="espeak", workers=1),
                       executor=LocalExecutor(1, job_function=fill_the_disk))
    (failure,) = report.failed
    assert "no space left on the device" in failure["error"] and "\n" not in failure["error"]
    (tmp_path / "disk-is-free").touch()
    report = run_batch(str(SAMPLE), out, BatchOptions(engine="espeak", workers=1),
                       executor=LocalExecutor(1, job_function=fill_the_disk))
    assert report.narrated == 1 and not report.still_failed, report


# ----------------------------------------------------------------------------- item 2: batch


def stuck_in_c(job: dict) -> dict:
    """libxml2 given 300,000 attributes directly, on a marked page: minutes in C code that
    the worker's alarm cannot interrupt."""
    from narrator.batch.worker import narrate_job

    if b"STUCK-IN-C" in job["html"]:
        import lxml.html

        lxml.html.document_fromstring("<div " + " ".join(f"a{i}" for i in range(300_000)) + ">")
    return narrate_job(job)


def test_an_article_stuck_in_c_code_is_stopped_at_its_limit(tmp_path):
    from narrator.batch import BatchOptions, run_batch
    from narrator.batch.executors import LocalExecutor
    outside_grace = 5.0  # narrator.timelimit.OUTSIDE_GRACE_S

    archive = tmp_path / "archive"
    build_archive(archive, 2)
    page = sorted(archive.rglob("*.html"))[0].read_bytes()
    (archive / "stuck.html").write_bytes(page.replace(b"?part=0", b"?part=stuck")
                                         .replace(b"</body>", b"<!-- STUCK-IN-C --></body>"))
    limit = 3.0
    started = time.monotonic()
    report = run_batch(str(archive), tmp_path / "out",
                       BatchOptions(engine="espeak", workers=2, article_timeout=limit),
                       executor=LocalExecutor(2, job_function=stuck_in_c))
    took = time.monotonic() - started
    assert report.narrated == 2, report.failed
    (failure,) = report.failed
    assert failure["id"].endswith("?part=stuck")
    assert "TimeLimitError" in failure["error"] and "worker process was stopped" in \
        failure["error"]
    # 2 short articles beside it, run again alone if they shared the killed pool
    assert took < limit + outside_grace + 30, took
    assert not (tmp_path / "out" / ".staging").exists()
