"""`report`: is the model used, fed clean data, fast, stable, and on track for its success metrics?

Collects, for the window [since, until) (UTC), from what the project itself writes:
  - the prediction log and its rotated backups (usage.py): requests per day, rows, invalid-input rate
    overall and by (column, rule), error rate, latency p50/p95/p99, the model versions that answered;
  - the registry (registry.py): champion and challenger, promotions and rollbacks in the window
    (the `champion_events` tag) and versions registered in it; an unreachable or empty registry is
    reported as such;
  - the latest drift report, reports/drift_report.json (drift.py): PSI and status per feature;
  - OWNERSHIP.yaml `success_metrics` (success.py): each tracked metric at day 30, 60 and 90.
The rendering (markdown, html, json) is report_render.py; this module only collects.

Window: `--until` (default now; a date means 00:00 UTC of that day) and `--since`: `Nd`, `Nh`,
`Nw` before it, or an ISO date (00:00 UTC). Per-day figures are by UTC calendar day; the first and
last day of a window that does not start and end at midnight are partial.

JSON (`--format json`; keys are stable, absent values are null):
  schema_version 1; package; generated
  window        {since, until, days}
  log           {path, files, records (readable lines in all files), skipped_lines, first, last}
  requests      {total, success, invalid, error, rows (scored), rows_rejected}
  per_day       [{date, requests, success, invalid, error, rows, latency_p50_ms, latency_p95_ms}]
  invalid       {rate, by_rule: [{column, rule, requests, violations (rows), rate}]}
  error_rate; latency_ms {count, p50, p95, p99}   (successful requests only)
  models        {served: [{version, requests, first, last}], registry: {status ("ok" | "empty" |
                "unreachable" | "unavailable"), message, champion, challenger, events: [{ts, action,
                version, from}], registered: [{version, created, candidate}]}}
  drift         {status ("ok" | "warn" | "alert" | "none" | "unreadable"), message, path, generated,
                source, model_version, thresholds, features: [{feature, kind, psi, status, note}]}
  success_metrics {anchor: {date, source ("go_live" | "first_request" | null), note}, window_days,
                metrics: [{name, source, direction, reported_by, note, milestones: [{day, date, since,
                until, target, value, status, note}]}], message}
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from pathlib import Path
from typing import Any

from . import settings as S
from .errors import ProjectError
from .usage import UTC, iso, read_log, summarize

RELATIVE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
UNITS = {"h": _dt.timedelta(hours=1), "d": _dt.timedelta(days=1), "w": _dt.timedelta(weeks=1)}
FORMATS = ("markdown", "html", "json")


def _when(text: str, option: str) -> _dt.datetime:
    """An ISO date (00:00 UTC) or date-time (UTC unless it says otherwise)."""
    try:
        value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProjectError(f"{option} {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
                           + (", or Nd, Nh, Nw" if option == "--since" else ""), exit_code=2) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(since: str = "7d", until: str | None = None) -> tuple[_dt.datetime, _dt.datetime]:
    """[since, until) as UTC datetimes from the command's options."""
    end = _when(until, "--until") if until else _dt.datetime.now(UTC)
    match = RELATIVE.match(since or "7d")
    if match:
        start = end - int(match.group(1)) * UNITS[match.group(2).lower()]
    else:
        start = _when(since, "--since")
    if start >= end:
        raise ProjectError(f"--since {since} is not before --until {iso(end.timestamp())}", exit_code=2)
    return start, end


def _registry_empty(message: str) -> dict[str, Any]:
    return {"status": "empty", "message": message, "champion": None, "challenger": None, "events": [],
            "registered": []}


def registry_summary(settings: S.Settings, since: float, until: float) -> dict[str, Any]:
    """Champion, challenger and what changed in the window; never raises."""
    from importlib.util import find_spec

    out = _registry_empty("")
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file():
        return _registry_empty(f"no registry yet (no {Path(uri[len('sqlite:///'):]).name}): "
                               f"run `python -m {S.PACKAGE} train` and `promote`")
    if find_spec("mlflow") is None:
        return {**out, "status": "unavailable", "message": "mlflow is not installed: the registry was not read"}
    # A weekly report must not hang on a tracking server that is down.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    try:
        from mlflow.exceptions import MlflowException

        from . import registry

        c = registry.client(settings)
        try:
            rm = c.get_registered_model(settings.model_name)
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return _registry_empty(f"no registered model {settings.model_name} yet: "
                                       f"run `python -m {S.PACKAGE} train` and `promote`")
            raise
        aliases = {str(k): str(v) for k, v in (rm.aliases or {}).items()}
        events = []
        for e in registry.champion_events(rm):
            try:
                ts = _when(str(e.get("ts")), "ts").timestamp()
            except ProjectError:
                continue
            if since <= ts < until:
                events.append({"ts": iso(ts), "action": str(e.get("action")), "version": e.get("version"),
                               "from": e.get("from")})
        registered = []
        for mv in c.search_model_versions(f"name='{settings.model_name}'"):
            created = (mv.creation_timestamp or 0) / 1000
            if since <= created < until:
                registered.append({"version": str(mv.version), "created": iso(created),
                                   "candidate": (mv.tags or {}).get("candidate")})
        registered.sort(key=lambda v: v["created"])
    except Exception as exc:  # a server that is down or refuses: say so, report the rest
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)[:200]
        return {**out, "status": "unreachable", "message": f"the registry could not be read: {first}"}
    return {"status": "ok", "message": "", "champion": aliases.get(registry.CHAMPION),
            "challenger": aliases.get(registry.CHALLENGER), "events": events, "registered": registered}


def drift_summary(path: Path) -> dict[str, Any]:
    """The latest drift report (drift_report.json), or what to run to get one."""
    out: dict[str, Any] = {"status": "none", "message": "", "path": str(path), "generated": None, "source": None,
                           "model_version": None, "thresholds": None, "features": []}
    if not path.is_file():
        older = " (drift_report.md is older: run drift again)" if path.with_suffix(".md").is_file() else ""
        return {**out, "message": f"no drift report yet: run `python -m {S.PACKAGE} drift FILE`{older}"}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = [f for f in data.get("features", []) if isinstance(f, dict)]
    except (ValueError, AttributeError, OSError) as exc:
        return {**out, "status": "unreadable", "message": f"cannot read {path}: {exc}"}
    statuses = [f.get("status") for f in features]
    status = next((s for s in ("alert", "warn") if s in statuses), "ok")
    return {**out, "status": status, "generated": data.get("generated"), "source": data.get("source"),
            "model_version": data.get("model_version"), "thresholds": data.get("thresholds"),
            "features": [{k: f.get(k) for k in ("feature", "kind", "psi", "status", "note")} for f in features]}


def build(settings: S.Settings | None = None, *, since: str = "7d", until: str | None = None,
          log_path: str | None = None, drift_path: str | None = None) -> dict[str, Any]:
    """The report as plain data (the JSON format, see the module docstring)."""
    from . import success
    from .ownership import load_ownership

    settings = settings or S.Settings.load()
    start, end = window(since, until)
    if log_path:
        path = Path(log_path)
    elif settings.prediction_log is not None:
        path = settings.prediction_log
    else:
        raise ProjectError(f"the prediction log is turned off ({S.ENV_PREFIX}_PREDICTION_LOG is empty): pass --log",
                           exit_code=2)
    log = read_log(path)
    t0, t1 = start.timestamp(), end.timestamp()
    usage = summarize(log, t0, t1)
    try:
        ownership = load_ownership(settings.ownership_path)
        ownership_error = ""
    except Exception as exc:  # a YAML error: report the rest
        ownership, ownership_error = {}, f"cannot read {settings.ownership_path.name}: {str(exc).splitlines()[0]}"
    metrics = success.evaluate(ownership, log, t1, S.PACKAGE)
    if ownership_error:
        metrics["message"] = ownership_error
    drift_file = Path(drift_path) if drift_path else settings.root / "reports" / "drift_report.json"
    return {
        "schema_version": 1,
        "package": S.PACKAGE,
        "generated": iso(_dt.datetime.now(UTC).timestamp()),
        "window": {"since": iso(t0), "until": iso(t1), "days": len(usage["per_day"])},
        "log": {"path": str(path), "files": [str(f) for f in log.files], "records": len(log.entries),
                "skipped_lines": log.skipped, "first": iso(log.first_ts), "last": iso(log.last_ts)},
        "requests": usage["requests"],
        "per_day": usage["per_day"],
        "invalid": usage["invalid"],
        "error_rate": usage["error_rate"],
        "latency_ms": usage["latency_ms"],
        "models": {"served": usage["served"], "registry": registry_summary(settings, t0, t1)},
        "drift": drift_summary(drift_file),
        "success_metrics": metrics,
    }
