"""The success metrics of OWNERSHIP.yaml against their day-30/60/90 targets, measured from the prediction log.

OWNERSHIP.yaml, under `success_metrics:`:

    go_live: 2030-01-01            # or "TODO: YYYY-MM-DD": then the day of the first logged request
    tracked:
      - name: adoption
        source: requests_per_day   # one of usage.MEASURES, or external
        direction: at_least        # at_least | at_most (default: the better way for the source)
        target_30: 20
        target_60: 50
        target_90: 100
        reported_by: python -m <package> report

Milestone day D (30, 60, 90) is the anchor date (00:00 UTC) plus D days. The metric is measured on
the WINDOW_DAYS (7) days before it, [day D - 7, day D), so day 30 is judged on days 23 to 29 after
go-live. Status, in this order:
  needs a data source   `source: external` (a business KPI) or a source the report cannot compute
  needs a target        target_D is missing or not a number
  not yet due           day D is after the end of the report (`--until`, default now)
  no data               no go-live date and nothing logged yet, or a rate/latency with no request
                        in the window (a count, e.g. requests_per_day, is then 0)
  met / missed          the value against target_D in the metric's direction
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .usage import DAY, MEASURES, UTC, Log, iso, measure

MILESTONES = (30, 60, 90)
WINDOW_DAYS = 7
DIRECTIONS = ("at_least", "at_most")


def _date(value: Any) -> _dt.date | None:
    """A go-live date written as a YAML date, a datetime or an ISO string; None for TODO or junk."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _target(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def anchor(section: dict[str, Any], log: Log) -> dict[str, Any]:
    """Day 0 of the milestones: go_live when it is a date, else the UTC day of the first logged request."""
    go_live = _date(section.get("go_live"))
    if go_live is not None:
        return {"date": go_live.isoformat(), "source": "go_live",
                "note": "success_metrics.go_live in OWNERSHIP.yaml"}
    if log.first_ts is not None:
        first = _dt.datetime.fromtimestamp(log.first_ts, UTC).date()
        return {"date": first.isoformat(), "source": "first_request",
                "note": "success_metrics.go_live is not a date: counting from the first logged request "
                        f"({iso(log.first_ts)}); set go_live in OWNERSHIP.yaml"}
    return {"date": None, "source": None,
            "note": "success_metrics.go_live is not a date and nothing is logged yet: set go_live in OWNERSHIP.yaml"}


def _milestone(log: Log, item: dict[str, Any], source: str, direction: str, day: int, start: _dt.date | None,
               until: float, package: str) -> dict[str, Any]:
    out: dict[str, Any] = {"day": day, "date": None, "since": None, "until": None, "target": None, "value": None,
                           "status": "", "note": ""}
    target = _target(item.get(f"target_{day}"))
    out["target"] = target
    if start is not None:
        due = _dt.datetime.combine(start + _dt.timedelta(days=day), _dt.time(), UTC).timestamp()
        out.update(date=iso(due)[:10], since=iso(due - WINDOW_DAYS * DAY), until=iso(due))
    if source == "external" or source not in MEASURES:
        out["status"] = "needs a data source"
        out["note"] = (f"`{source}` is not measured by the report: give it a `source:` the report can compute "
                       f"({', '.join(MEASURES)}), or report it by hand in `reported_by:` (OWNERSHIP.yaml)"
                       if source != "external" else
                       "a business KPI the prediction log cannot measure: report it by hand (`reported_by:`), or "
                       f"give it a `source:` `python -m {package} report` computes ({', '.join(MEASURES)})")
        return out
    if target is None:
        out["status"] = "needs a target"
        out["note"] = f"set target_{day} in OWNERSHIP.yaml to a number"
        return out
    if start is None:
        out["status"] = "no data"
        out["note"] = "no go-live date and no request logged yet"
        return out
    if due > until:
        out["status"] = "not yet due"
        return out
    value = measure(log, source, due - WINDOW_DAYS * DAY, due)
    out["value"] = value
    if len(log.files) > 1 and log.first_ts is not None and log.first_ts > due - WINDOW_DAYS * DAY:
        out["note"] = f"the rotated log begins at {iso(log.first_ts)}: older requests may have been rotated away"
    if value is None:
        out["status"] = "no data"
        what = "successful request" if source.startswith("latency") else "request"
        out["note"] = out["note"] or f"no {what} in the window"
        return out
    met = value >= target if direction == "at_least" else value <= target
    out["status"] = "met" if met else "missed"
    return out


def evaluate(ownership: dict[str, Any] | None, log: Log, until: float, package: str) -> dict[str, Any]:
    """Every tracked metric with its three milestones; `message` says what is missing, if anything."""
    section = (ownership or {}).get("success_metrics")
    section = section if isinstance(section, dict) else {}
    tracked = section.get("tracked")
    result: dict[str, Any] = {"anchor": None, "window_days": WINDOW_DAYS, "metrics": [], "message": None}
    if ownership is None:
        result["message"] = "no OWNERSHIP.yaml: the success metrics live in its success_metrics.tracked"
        return result
    if not isinstance(tracked, list) or not tracked:
        result["message"] = ("no success metric declared: list them under success_metrics.tracked in OWNERSHIP.yaml "
                             "(name, source, direction, target_30, target_60, target_90, reported_by)")
        return result
    result["anchor"] = anchor(section, log)
    start = _date(result["anchor"]["date"])
    for i, item in enumerate(tracked):
        item = item if isinstance(item, dict) else {}
        source = str(item.get("source") or "external").strip()
        direction = str(item.get("direction") or MEASURES.get(source, "at_least")).strip()
        note = ""
        if direction not in DIRECTIONS:
            note = f"direction {direction!r} is not at_least or at_most: using {MEASURES.get(source, 'at_least')}"
            direction = MEASURES.get(source, "at_least")
        result["metrics"].append({
            "name": str(item.get("name") or f"metric {i + 1}"),
            "source": source,
            "direction": direction,
            "reported_by": str(item.get("reported_by") or ""),
            "note": note,
            "milestones": [_milestone(log, item, source, direction, day, start, until, package) for day in MILESTONES],
        })
    return result
