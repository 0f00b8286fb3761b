"""Batch narration of an archive: sources -> catalog -> workers (local pool or Dask) -> feed.

`run_batch(source, outdir, BatchOptions(...))` is the entry point; the CLI face is
narrator/cli/batch.py."""
from .options import BatchOptions, Events, Report
from .runner import run_batch

__all__ = ["BatchOptions", "Events", "Report", "run_batch"]
