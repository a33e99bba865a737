"""What the service records: Prometheus metrics (one registry per app) and the prediction log.

Metric names follow Prometheus conventions (`<package>_prediction_requests_total{model_version,status}`,
`<package>_prediction_request_duration_seconds`, `<package>_input_validation_failures_total{column,rule}`,
`<package>_model_info`); the exposition passes `promtool check metrics`. The prediction log is
append-only JSON lines, rotated by size, written by its own thread. One line per /predict request:

  ts            seconds since the epoch, from `now()` (the service's one clock)
  status        "success" | "invalid" | "error" (a line without it, from an older log: success)
  model_version the version that answered
  rows          rows in the request
  duration_ms   from the request's arrival to its answer
  records, predictions   success only: the rows and the model's answers
  violations    invalid only: [{"column", "rule", "count"}], count = rows that broke the rule; the
                rows themselves are not logged (a malformed body: column null, rule "schema")
  error         error only: the exception's type

`report` (usage.py) reads it back, rotated backups included.

Several processes (`serve --workers N`) append to one log: every write (and rotation) holds an `fcntl.flock`
on `<log>.lock`, takes the size from the open file and reopens the log first when another process rotated it
(the path's inode is no longer the open file's), so lines never interleave and rotation happens once.
In multiprocess mode (`PROMETHEUS_MULTIPROC_DIR` set, as `serve --workers N` does) `/metrics` sums the
counters and histograms of every worker (exited ones too, until the service restarts) and `model_info`
shows the versions that live workers serve (`livemax`); nothing is exposed per process.

The log never fails a prediction. A record it cannot write (a full disk, a read-only volume) is dropped,
counted in `<package>_prediction_log_dropped_total` and logged (one warning a minute at most); the file is
reopened at the next record. A start after a crash (SIGKILL mid-write) finds the torn last line and ends it
with a newline first, so the reader skips that one fragment and every new record stays whole.
"""

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from . import settings as S

log = logging.getLogger(__name__)


def now() -> float:
    """The prediction log's clock, seconds since the epoch: the one place the service reads the time."""
    return time.time()


class PredictionLog:
    """Append-only JSON lines, rotated at `max_bytes` keeping `backups` old files."""

    WARN_EVERY = 60.0  # seconds between two warnings about dropped records

    def __init__(self, path: Path | None, max_bytes: int, backups: int, dropped: Any = None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = max(backups, 0)
        self.dropped = dropped  # a counter (anything with .inc(n)) of the records that could not be written
        self.drops = 0
        self._lock = threading.Lock()
        self._fh = None
        self._size = 0
        self._lock_fd: int | None = None  # `<log>.lock`, flock'ed around each write: shared by every process
        self._lockable = True  # False for a log that is not a regular file (a device): nothing to rotate or lock
        self._warned_at: float | None = None
        self._unwarned = 0

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # flushed after every write_many
        self._size = os.fstat(self._fh.fileno()).st_size
        if self._size > 0 and not self._ends_with_newline():
            self._fh.write("\n")  # a torn last record (a crash mid-write): ours starts on a line of its own
            self._fh.flush()
            self._size += 1

    def _ends_with_newline(self) -> bool:
        assert self.path is not None
        try:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                return fh.read(1) == b"\n"
        except OSError:  # not seekable (a device): nothing to mend
            return True

    def _drop(self, count: int, exc: BaseException) -> None:
        """Forget a broken file handle, count the lost records and warn (rate-limited)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass  # its buffer could not be written either: dropped with the rest
            self._fh = None
        self.drops += count
        if self.dropped is not None:
            self.dropped.inc(count)
        self._unwarned += count
        at = time.monotonic()
        if self._warned_at is None or at - self._warned_at >= self.WARN_EVERY:
            log.warning("prediction log %s: %s; %d record(s) dropped (predictions are unaffected)",
                        self.path, exc, self._unwarned)
            self._warned_at, self._unwarned = at, 0

    def _locked(self) -> int | None:
        """Take the cross-process lock (`<log>.lock`, opened once); None when the log is not a regular file."""
        import fcntl

        assert self.path is not None
        if self._lock_fd is None and self._lockable:
            if self.path.exists() and not self.path.is_file():
                self._lockable = False
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.path.with_name(self.path.name + ".lock"),
                                    os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        return self._lock_fd

    def _follow(self) -> None:
        """Under the lock: open the log, or reopen it when another process rotated it; size from the file."""
        if self._fh is None:
            self._open()
            return
        assert self.path is not None
        own = os.fstat(self._fh.fileno())
        try:
            now_at = os.stat(self.path)
            same = (now_at.st_ino, now_at.st_dev) == (own.st_ino, own.st_dev)
        except FileNotFoundError:  # renamed away and not yet recreated
            same = False
        if same:
            self._size = own.st_size
        else:
            self._fh.close()
            self._fh = None
            self._open()

    def _rotate(self) -> None:
        assert self.path is not None
        if self._fh:
            self._fh.close()
        for i in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        if self.backups:
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self._open()

    @property
    def enabled(self) -> bool:
        return self.path is not None and self.max_bytes > 0

    def write(self, entry: dict[str, Any]) -> None:
        self.write_many([entry])

    def write_many(self, entries: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        import fcntl

        with self._lock:
            fd = None
            try:
                lines = [json.dumps(entry, default=str) + "\n" for entry in entries]  # ASCII: len() is bytes
                fd = self._locked()
                self._follow()
                for line in lines:
                    if self._size + len(line) > self.max_bytes and self._size > 0:
                        self._rotate()
                    self._fh.write(line)
                    self._size += len(line)
                self._fh.flush()  # before the lock is released: another process appends after these lines
            except Exception as exc:  # logging must never break predictions: the whole batch counts as lost
                self._drop(len(entries), exc)
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._fh:
                try:
                    self._fh.close()
                except OSError as exc:
                    log.warning("prediction log %s: %s at close", self.path, exc)
                self._fh = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        p = S.PACKAGE
        self.registry = CollectorRegistry()
        self.requests = Counter(
            f"{p}_prediction_requests",
            "Prediction requests by model version and status",
            ["model_version", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{p}_prediction_request_duration_seconds",
            "Time to answer /predict",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.validation = Counter(
            f"{p}_input_validation_failures",
            "Rows rejected by the data contract",
            ["column", "rule"],
            registry=self.registry,
        )
        self.non_finite = Counter(
            f"{p}_non_finite_predictions", "Predictions that were NaN or infinite", registry=self.registry
        )
        self.rows = Counter(f"{p}_predicted_rows", "Rows scored", registry=self.registry)
        self.log_dropped = Counter(f"{p}_prediction_log_dropped",
                                   "Prediction-log records that could not be written (full disk, I/O error)",
                                   registry=self.registry)
        self.info = Gauge(f"{p}_model_info", "The model being served", ["version", "name"], registry=self.registry,
                          multiprocess_mode="livemax")  # several workers: 1 per version a live worker serves
        self._children: dict[tuple[str, str], Any] = {}

    def request(self, version: str, status: str):
        key = (version, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(model_version=version, status=status)
        return child


def multiprocess_dir() -> str | None:
    """prometheus-client's multiprocess directory (`PROMETHEUS_MULTIPROC_DIR`), or None in one process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(registry: Any) -> bytes:
    """/metrics: this process's registry, or in multiprocess mode every worker's files merged."""
    from prometheus_client import CollectorRegistry, generate_latest

    if multiprocess_dir() is None:
        return generate_latest(registry)
    from prometheus_client import multiprocess

    merged = CollectorRegistry()  # a fresh one per scrape, as prometheus-client requires
    multiprocess.MultiProcessCollector(merged)
    return generate_latest(merged)


def worker_started() -> None:
    """Multiprocess mode: forget the live gauges of workers that died without saying so (SIGKILL)."""
    path = multiprocess_dir()
    if path is None:
        return
    from prometheus_client import multiprocess

    for db in Path(path).glob("gauge_live*_*.db"):
        pid = db.stem.rpartition("_")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def worker_stopped() -> None:
    """Multiprocess mode: this worker's live gauges (model_info) go; its counters stay in the sums."""
    path = multiprocess_dir()
    if path is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), path)
