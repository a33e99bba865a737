"""The prediction log read back: every file of it, summed up over a time window (for `report`).

The log (metrics.py documents its lines) is `<log>` plus its rotated backups `<log>.1`, `<log>.2`, ...;
all of them are read, in any order (lines are placed by their own `ts`). A line that is not a JSON
object with a numeric `ts` (a write torn by a crash, a garbled byte) is skipped and counted, never
fatal. Lines written before the log had `status`/`rows`/`duration_ms` count as successful requests
of `len(records)` rows without a duration.

Measures over a window [since, until) (UTC; a day is a UTC calendar day):
  requests           every /predict call that reached the model's checks: success + invalid + error
  invalid_rate       invalid / requests; by rule: requests breaking (column, rule) / requests
  error_rate         error / requests
  latency (ms)       p50 / p95 / p99 of the successful requests' durations, linear interpolation
                     between the closest ranks (numpy's default); invalid requests answer faster and
                     would flatter it
  requests_per_day   requests / days in the window; active_days: days with at least one request
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProjectError

UTC = _dt.timezone.utc  # noqa: UP017
STATUSES = ("success", "invalid", "error")
DAY = 86400.0


@dataclass(frozen=True)
class Entry:
    ts: float
    status: str
    version: str
    rows: int
    duration_ms: float | None
    violations: tuple[tuple[str | None, str, int], ...] = ()


@dataclass(frozen=True)
class Log:
    path: Path
    files: tuple[Path, ...]
    entries: tuple[Entry, ...]  # sorted by ts
    skipped: int  # unreadable lines
    stamps: tuple[float, ...] = ()  # the entries' ts, for bisect

    @property
    def first_ts(self) -> float | None:
        return self.entries[0].ts if self.entries else None

    @property
    def last_ts(self) -> float | None:
        return self.entries[-1].ts if self.entries else None

    def between(self, since: float, until: float) -> list[Entry]:
        keys = self.stamps or tuple(e.ts for e in self.entries)
        return list(self.entries[bisect.bisect_left(keys, since) : bisect.bisect_left(keys, until)])


def log_files(path: Path) -> list[Path]:
    """`path` and its rotated backups `path.1`, `path.2`, ... that exist, newest first."""
    backups = [p for p in path.parent.glob(f"{path.name}.*") if p.suffix[1:].isdigit()] if path.parent.is_dir() else []
    backups.sort(key=lambda p: int(p.suffix[1:]))
    return ([path] if path.is_file() else []) + backups


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def parse_line(line: str) -> Entry | None:
    """One log line as an Entry, or None when it is not a usable record."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    ts = _number(obj.get("ts"))
    status = obj.get("status", "success")
    if ts is None or status not in STATUSES:
        return None
    rows = obj.get("rows")
    if isinstance(rows, bool) or not isinstance(rows, int):
        records = obj.get("records")
        rows = len(records) if isinstance(records, list) else 0
    violations = []
    for v in obj.get("violations") or ():
        if isinstance(v, dict) and v.get("rule") is not None:
            column = v.get("column")
            count = v.get("count")
            violations.append((None if column is None else str(column), str(v["rule"]),
                               count if isinstance(count, int) and not isinstance(count, bool) else 1))
    return Entry(ts, status, str(obj.get("model_version", "unknown")), rows, _number(obj.get("duration_ms")),
                 tuple(violations))


def read_log(path: Path) -> Log:
    """Every record of the log at `path` and its backups; exit 2 when there is none of them."""
    files = log_files(path)
    if not files:
        raise ProjectError(f"no prediction log at {path}: serve the model first or pass --log", exit_code=2)
    entries: list[Entry] = []
    skipped = 0
    for file in files:
        with open(file, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                entry = parse_line(line)
                if entry is None:
                    skipped += 1
                else:
                    entries.append(entry)
    entries.sort(key=lambda e: e.ts)
    return Log(path, tuple(files), tuple(entries), skipped, tuple(e.ts for e in entries))


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile of sorted `values` (linear interpolation), None when empty."""
    if not values:
        return None
    k = (len(values) - 1) * q / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _latency(entries: list[Entry]) -> dict[str, Any]:
    values = sorted(e.duration_ms for e in entries if e.status == "success" and e.duration_ms is not None)
    return {"count": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99)}


def _counts(entries: list[Entry]) -> dict[str, int]:
    out = {"total": len(entries), **{s: 0 for s in STATUSES}, "rows": 0, "rows_rejected": 0}
    for e in entries:
        out[e.status] += 1
        out["rows" if e.status == "success" else "rows_rejected"] += e.rows
    return out


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def days(since: float, until: float) -> list[_dt.date]:
    """The UTC dates the window [since, until) touches (the first and last may be partial)."""
    first = _dt.datetime.fromtimestamp(since, UTC).date()
    last = _dt.datetime.fromtimestamp(max(until - 1e-6, since), UTC).date()
    return [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]


def summarize(log: Log, since: float, until: float) -> dict[str, Any]:
    """Requests, input quality, latency and served versions over [since, until)."""
    entries = log.between(since, until)
    counts = _counts(entries)
    by_day: dict[_dt.date, list[Entry]] = {d: [] for d in days(since, until)}
    rules: dict[tuple[str | None, str], list[int]] = {}
    versions: dict[str, dict[str, Any]] = {}
    for e in entries:
        by_day.setdefault(_dt.datetime.fromtimestamp(e.ts, UTC).date(), []).append(e)
        for column, rule, count in e.violations:
            seen = rules.setdefault((column, rule), [0, 0])
            seen[0] += 1
            seen[1] += count
        v = versions.setdefault(e.version, {"version": e.version, "requests": 0, "first": e.ts, "last": e.ts})
        v["requests"] += 1
        v["last"] = e.ts
    per_day = []
    for day, todays in sorted(by_day.items()):
        c, lat = _counts(todays), _latency(todays)
        per_day.append({"date": day.isoformat(), "requests": c["total"], "success": c["success"],
                        "invalid": c["invalid"], "error": c["error"], "rows": c["rows"],
                        "latency_p50_ms": lat["p50"], "latency_p95_ms": lat["p95"]})
    by_rule = [{"column": column, "rule": rule, "requests": n, "violations": rows, "rate": _ratio(n, counts["total"])}
               for (column, rule), (n, rows) in sorted(rules.items(), key=lambda kv: (-kv[1][0], str(kv[0])))]
    served = sorted(versions.values(), key=lambda v: v["first"])
    return {
        "requests": counts,
        "per_day": per_day,
        "invalid": {"rate": _ratio(counts["invalid"], counts["total"]), "by_rule": by_rule},
        "error_rate": _ratio(counts["error"], counts["total"]),
        "latency_ms": _latency(entries),
        "served": [{**v, "first": iso(v["first"]), "last": iso(v["last"])} for v in served],
    }


#: What a success metric's `source` can be, with the direction that is better by default.
MEASURES = {
    "requests_per_day": "at_least",
    "rows_per_day": "at_least",
    "active_days": "at_least",
    "invalid_input_rate": "at_most",
    "error_rate": "at_most",
    "latency_p50_ms": "at_most",
    "latency_p95_ms": "at_most",
    "latency_p99_ms": "at_most",
}


def measure(log: Log, source: str, since: float, until: float) -> float | None:
    """One of MEASURES over [since, until); None when the window has no request to measure it on."""
    entries = log.between(since, until)
    span = (until - since) / DAY
    counts = _counts(entries)
    if source == "requests_per_day":
        return counts["total"] / span
    if source == "rows_per_day":
        return counts["rows"] / span
    if source == "active_days":
        return float(len({_dt.datetime.fromtimestamp(e.ts, UTC).date() for e in entries}))
    if source == "invalid_input_rate":
        return _ratio(counts["invalid"], counts["total"])
    if source == "error_rate":
        return _ratio(counts["error"], counts["total"])
    if source.startswith("latency_p") and source.endswith("_ms"):
        return _latency(entries)[source[len("latency_"):-len("_ms")]]
    raise KeyError(source)
