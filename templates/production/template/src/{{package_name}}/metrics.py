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

    def __init__(self, path: Path | None, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = max(backups, 0)
        self._lock = threading.Lock()
        self._fh = None
        self._size = 0

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # flushed after every write_many
        self._size = self._fh.tell()

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
        with self._lock:
            try:
                for entry in entries:
                    line = json.dumps(entry, default=str) + "\n"
                    if self._fh is None:
                        self._open()
                    if self._size + len(line) > self.max_bytes and self._size > 0:
                        self._rotate()
                    self._fh.write(line)
                    self._size += len(line)
                if self._fh is not None:
                    self._fh.flush()
            except Exception as exc:  # logging must never break predictions
                log.warning("prediction log: %s", exc)

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None


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
        self.info = Gauge(f"{p}_model_info", "The model being served", ["version", "name"], registry=self.registry)
        self._children: dict[tuple[str, str], Any] = {}

    def request(self, version: str, status: str):
        key = (version, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(model_version=version, status=status)
        return child
