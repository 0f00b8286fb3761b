"""Batch narration of an archive: sources -> catalog -> workers (local pool or Dask) -> feed.

`run_batch(source, outdir, BatchOptions(...))` is the entry point; the CLI face is
narrator/cli/batch.py."""
from .runner import BatchOptions, Events, Report, run_batch

__all__ = ["BatchOptions", "Events", "Report", "run_batch"]
