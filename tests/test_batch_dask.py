"""The same batch on a Dask cluster: a real `distributed.LocalCluster` with worker processes,
the batch CLI connecting to its scheduler as it would to tcp://host:8786."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import feedparser
import pytest
from distributed import LocalCluster

from narrator.batch.executors import DaskExecutor
from narrator.errors import NarratorError
from test_batch import rows
from test_batch_archive import (check_outputs,
                                isolated_config)  # noqa: F401 (fixture)
from test_batch_sources import _warc, page

PAGES = 4


def test_warc_archive_on_a_dask_local_cluster(tmp_path):
    warc = tmp_path / "site.warc.gz"
    _warc(warc, [(f"https://news.example/{n}", 200, "text/html", page(n)) for n in range(PAGES)])
    outdir = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        worker_pids = _pids(cluster.scheduler_address)
        command = [sys.executable, "-c", "from narrator.cli import main; main()", "batch",
                   str(warc), "-o", str(outdir), "--json", "--engine", "espeak",
                   "--dask-scheduler", cluster.scheduler_address]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["backend"] == "dask" and report["workers"] == 2
        assert report["narrated"] == PAGES and not report["failed"], report
        # The narrations ran in the cluster's worker processes, not in the batch process.
        ran_in = {int(worker.rsplit(":", 1)[1]) for worker in report["peak_rss_mb"]}
        assert ran_in and ran_in <= worker_pids, (ran_in, worker_pids)

        again = json.loads(subprocess.run(command, capture_output=True, text=True,
                                          timeout=300).stdout)
        assert again["narrated"] == 0 and again["skipped"] == PAGES

        # Workers that cannot see OUTDIR (not shared storage): refused before any work.
        executor = DaskExecutor(cluster.scheduler_address)
        try:
            with pytest.raises(NarratorError, match="cannot see .* shared storage"):
                executor.check_outdir(tmp_path / "elsewhere" / ".batch.lock")
            executor.check_outdir(outdir / ".batch.lock")
        finally:
            executor.close()

    catalog = rows(outdir)
    assert len(catalog) == PAGES and all(r["status"] == "done" for r in catalog.values())
    for row in catalog.values():
        assert row["key"].startswith(f"{warc}#https://news.example/")
        check_outputs(outdir, row)
    assert not (outdir / ".staging").exists()
    assert len(feedparser.parse(str(outdir / "feed.xml")).entries) == PAGES


def _pids(address: str) -> set[int]:
    from distributed import Client

    with Client(address, timeout=30) as client:
        return set(client.run(os.getpid).values())


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(NarratorError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)
