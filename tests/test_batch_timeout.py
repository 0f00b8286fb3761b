"""--article-timeout: an article that takes too long fails alone; the batch goes on."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from test_batch import narrator, rows
from test_batch_archive import build_archive, check_outputs, isolated_config  # noqa: F401 (fixture)


def hang_on_marker(job: dict) -> dict:
    """A job function whose extraction never returns on one page, as a pathological page
    stuck in a Python loop would (it reports no progress either)."""
    import narrator.pipeline as pipeline
    from narrator.batch.worker import narrate_job

    if b"HANG-IN-EXTRACTION" not in job["html"]:
        return narrate_job(job)
    real = pipeline.extract

    def stuck(*args, **kwargs):
        while True:
            time.sleep(0.01)

    pipeline.extract = stuck
    try:
        return narrate_job(job)
    finally:
        pipeline.extract = real


def test_a_stuck_article_fails_with_the_time_limit_and_the_others_are_narrated(tmp_path):
    from narrator.batch import BatchOptions, run_batch
    from narrator.batch.executors import LocalExecutor

    archive = tmp_path / "archive"
    build_archive(archive, 3)
    page = sorted(archive.rglob("*.html"))[0].read_bytes()
    (archive / "stuck.html").write_bytes(
        page.replace(b"?part=0", b"?part=stuck")
        .replace(b"</body>", b"<!-- HANG-IN-EXTRACTION --></body>"))
    started = time.monotonic()
    report = run_batch(str(archive), tmp_path / "out",
                       BatchOptions(engine="espeak", workers=2, article_timeout=3),
                       executor=LocalExecutor(2, job_function=hang_on_marker))
    assert time.monotonic() - started < 60
    assert report.narrated == 3, report.failed
    (failure,) = report.failed
    assert failure["id"].endswith("?part=stuck")
    assert "TimeLimitError: narration took longer than 3 s" in failure["error"], failure
    catalog = rows(tmp_path / "out")
    for row in catalog.values():
        if row["status"] == "done":
            check_outputs(tmp_path / "out", row)
    assert not list((tmp_path / "out" / "audio").glob("*stuck*"))


def test_in_a_thread_the_limit_is_checked_between_utterances(tmp_path):
    """A Dask worker runs jobs on threads, where no alarm can be set."""
    from narrator.batch.layout import STAGING_DIR
    from narrator.batch.runner import BatchOptions
    from narrator.batch.worker import narrate_job

    archive = tmp_path / "archive"
    build_archive(archive, 1)
    page = next(archive.rglob("*.html")).read_bytes()
    outdir = tmp_path / "out"
    (outdir / "audio").mkdir(parents=True)
    job = dict(id="a", slug="a", html=page, url=None, content_type=None, outdir=str(outdir),
               options=BatchOptions(engine="espeak").narrate_options(), timeout=1e-6)
    results = []
    thread = threading.Thread(target=lambda: results.append(narrate_job(job)))
    thread.start()
    thread.join(60)
    (result,) = results
    assert not result["ok"] and "narration took longer than" in result["error"], result
    assert not list((outdir / "audio").iterdir())
    assert not list((outdir / STAGING_DIR).iterdir())

    job["timeout"] = None  # no limit: the same job succeeds on a thread
    thread = threading.Thread(target=lambda: results.append(narrate_job(job)))
    thread.start()
    thread.join(120)
    assert results[1]["ok"], results[1]
    assert sorted(p.suffix for p in (outdir / "audio").iterdir()) == [".json", ".mp3", ".vtt",
                                                                      ".vtt"]


def test_cli_article_timeout_fails_every_article_cleanly(tmp_path):
    archive = tmp_path / "archive"
    build_archive(archive, 2)
    outdir = tmp_path / "out"
    result = narrator("batch", str(archive), "-o", str(outdir), "--engine", "espeak",
                      "--workers", "1", "--article-timeout", "0.001", "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    import json
    report = json.loads(result.stdout)
    assert report["narrated"] == 0 and len(report["failed"]) == 2
    assert all("took longer than 0.001 s (--article-timeout)" in f["error"]
               for f in report["failed"])
    assert not list(Path(outdir / "audio").glob("*.mp3"))
    # The same archive with the default limit narrates both (failed pages are retried on ask).
    result = narrator("batch", str(archive), "-o", str(outdir), "--engine", "espeak",
                      "--workers", "1", "--retry-failed", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["narrated"] == 2
