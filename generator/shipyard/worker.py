"""A second process for the halves of adopt that import pandas and jupytext, while copier loads here.

Inspection peeks at the data and the contract is inferred with pandas (about 0.3 s to import);
copier takes about as long to import and render. A forked worker runs the pandas half while this
process runs copier, so adopt uses both cores. Where fork is not available (or the worker dies),
the work runs here instead: the result is the same, only slower.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .errors import ShipyardError


class Job:
    def __init__(self, worker: Worker, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.future = None
        if worker.pool is not None:
            try:
                self.future = worker.pool.submit(fn, *args, **kwargs)
            except RuntimeError:  # the pool broke earlier
                self.future = None

    def result(self, timeout: float = 600) -> Any:
        if self.future is not None:
            try:
                return self.future.result(timeout=timeout)
            except ShipyardError:
                raise
            except Exception:  # the worker died (killed, out of memory) or hung: do the work here
                pass
        return self.fn(*self.args, **self.kwargs)


class Worker:
    """One forked worker process (Linux), or none: then every job runs in this process."""

    def __init__(self) -> None:
        self.pool = None
        if sys.platform.startswith("linux"):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            try:
                self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            except (OSError, ValueError):
                self.pool = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        return Job(self, fn, args, kwargs)

    def stop(self) -> None:
        """Shut down without waiting for a worker that is still busy (or hung)."""
        if self.pool is None:
            return
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None
