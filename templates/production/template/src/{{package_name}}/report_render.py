"""The report (report.py's plain data) as markdown, JSON, or one self-contained HTML page.

The HTML page has no script and loads nothing: its plots are inline SVG (requests per day, latency
p50/p95 per day, PSI per feature), so it can be attached to an issue or kept as a CI artifact.
"""

from __future__ import annotations

import html
import json
from typing import Any

STATUS_COLOUR = {"ok": "#2e7d32", "met": "#2e7d32", "warn": "#ef6c00", "missed": "#c62828", "alert": "#c62828",
                 "no data": "#616161", "not yet due": "#616161", "needs a target": "#ef6c00",
                 "needs a data source": "#ef6c00"}


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def short(value: float | None) -> str:
    """A target or a measured value: 100, 0.05, 6.283."""
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _psi(value: Any) -> str:
    return "missing column" if value is None else f"{value:.4f}"


def sections(r: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """(title, table header, table rows, lines) per section: what both renderings show."""
    req, lat, reg, drift, sm = r["requests"], r["latency_ms"], r["models"]["registry"], r["drift"], r["success_metrics"]
    out = []
    out.append(("Usage", ["day (UTC)", "requests", "success", "invalid", "error", "rows", "p50 ms", "p95 ms"],
                [[d["date"], num(d["requests"]), num(d["success"]), num(d["invalid"]), num(d["error"]), num(d["rows"]),
                  num(d["latency_p50_ms"]), num(d["latency_p95_ms"])] for d in r["per_day"]],
                [f"{num(req['total'])} request(s) ({num(req['success'])} answered, {num(req['invalid'])} invalid, "
                 f"{num(req['error'])} failed) over {r['window']['days']} day(s); {num(req['rows'])} row(s) scored, "
                 f"{num(req['rows_rejected'])} rejected."]))
    rules = r["invalid"]["by_rule"]
    out.append(("Input quality", ["column", "rule", "requests", "rate", "rows"],
                [[str(b["column"] if b["column"] is not None else "(body)"), b["rule"], num(b["requests"]),
                  pct(b["rate"]), num(b["violations"])] for b in rules],
                [f"Invalid-input rate {pct(r['invalid']['rate'])}; error rate {pct(r['error_rate'])}."
                 + ("" if rules else " No contract rule was broken.")]))
    out.append(("Latency", [], [],
                [f"Successful requests ({num(lat['count'])}): p50 {num(lat['p50'])} ms, p95 {num(lat['p95'])} ms, "
                 f"p99 {num(lat['p99'])} ms." if lat["count"] else "No successful request with a duration."]))
    lines = [f"Served: {', '.join('v' + s['version'] + ' (' + num(s['requests']) + ')' for s in r['models']['served'])}"
             if r["models"]["served"] else "Served: no request in the window."]
    if reg["status"] == "ok":
        lines.append(f"Registry: champion v{reg['champion'] or '-'}, challenger v{reg['challenger'] or '-'}.")
        lines += [f"{e['ts']}: {e['action']} to v{e['version']}" + (f" (from v{e['from']})" if e["from"] else "")
                  for e in reg["events"]] or ["No promotion or rollback in the window."]
        lines += [f"{v['created']}: v{v['version']} registered ({v['candidate'] or '?'})" for v in reg["registered"]]
    else:
        lines.append(f"Registry ({reg['status']}): {reg['message']}")
    out.append(("Models", [], [], lines))
    if drift["status"] in ("none", "unreadable"):
        out.append(("Drift", [], [], [drift["message"]]))
    else:
        out.append(("Drift", ["feature", "kind", "PSI", "status", "note"],
                    [[f["feature"], f["kind"], _psi(f["psi"]), f["status"], f["note"] or ""]
                     for f in drift["features"]],
                    [f"Status {drift['status']} (report of {drift['generated']} on `{drift['source']}`, model version "
                     f"{drift['model_version']})."]))
    rows, lines = [], []
    for m in sm["metrics"]:
        cells = [m["name"], m["source"], m["direction"].replace("_", " ")]
        for ms in m["milestones"]:
            value = "" if ms["value"] is None else f" ({short(ms['value'])})"
            cells.append(f"{ms['status']}{value}, target {short(ms['target'])}")
        rows.append(cells)
        notes: dict[str, list[str]] = {}
        for ms in m["milestones"]:
            if ms["note"]:
                notes.setdefault(ms["note"], []).append(str(ms["day"]))
        lines += [f"{m['name']}: {m['note']}"] if m["note"] else []
        lines += [f"{m['name']}, day {', '.join(d)}: {note}" for note, d in notes.items()]
    anchor = sm["anchor"]
    head = [sm["message"]] if sm["message"] else []
    if anchor:
        head.append(f"Day 0: {anchor['date'] or '-'} ({anchor['note']}); each milestone is judged on the "
                    f"{sm['window_days']} days before it.")
    out.append(("Success metrics", ["metric", "source", "direction", "day 30", "day 60", "day 90"] if rows else [],
                rows, head + lines))
    log = r["log"]
    out.append(("Prediction log", [], [],
                [f"{len(log['files'])} file(s) from {log['path']}: {num(log['records'])} record(s) from {log['first']} "
                 f"to {log['last']}" + (f"; {log['skipped_lines']} unreadable line(s) skipped" if log["skipped_lines"]
                                        else "") + "."]))
    return out


def _title(r: dict[str, Any]) -> str:
    return f"Report: {r['package']}, {r['window']['since']} to {r['window']['until']}"


def markdown(r: dict[str, Any]) -> str:
    md = [f"# {_title(r)}", "", f"Generated {r['generated']}."]
    for title, header, rows, lines in sections(r):
        md += ["", f"## {title}", ""]
        md += [f"- {line}" for line in lines] if len(lines) > 1 else lines
        if header and rows:
            md += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            md += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(md) + "\n"


# --------------------------------------------------------------------------- SVG
def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
            f"aria-label='{html.escape(label)}' font-family='sans-serif' font-size='10'>"
            + "".join(body) + "</svg>")


def _axis(top: float, left: int, bottom: int, right: int, unit: str) -> list[str]:
    return [f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#999'/>",
            f"<text x='{left - 4}' y='{bottom}' text-anchor='end'>0</text>",
            f"<text x='{left - 4}' y='18' text-anchor='end'>{short(top) if top >= 10 else num(top)}{unit}</text>",
            f"<line x1='{left}' y1='14' x2='{right}' y2='14' stroke='#eee'/>"]


def bars(labels: list[str], values: list[float], title: str) -> str:
    w, h, left, bottom = max(360, 40 + 22 * len(labels)), 200, 50, 160
    top = max(values, default=0) or 1
    step = (w - left - 10) / max(len(values), 1)
    body = _axis(top, left, bottom, w - 10, "")
    for i, (lbl, v) in enumerate(zip(labels, values, strict=True)):
        bh = (bottom - 14) * v / top
        x = left + i * step + step * 0.15
        body.append(f"<rect x='{x:.1f}' y='{bottom - bh:.1f}' width='{step * 0.7:.1f}' height='{bh:.1f}' "
                    f"fill='#1565c0'><title>{html.escape(lbl)}: {num(v)}</title></rect>")
        if len(labels) <= 31:
            body.append(f"<text x='{x + step * 0.35:.1f}' y='{bottom + 12}' text-anchor='end' "
                        f"transform='rotate(-45 {x + step * 0.35:.1f} {bottom + 12})'>{html.escape(lbl[5:])}</text>")
    return _svg(w, h, body, title)


def lines_plot(labels: list[str], series: dict[str, list[float | None]], title: str) -> str:
    w, h, left, bottom = max(360, 40 + 22 * len(labels)), 200, 50, 160
    top = max((v for vs in series.values() for v in vs if v is not None), default=0) or 1
    step = (w - left - 10) / max(len(labels) - 1, 1)
    body = _axis(top, left, bottom, w - 10, " ms")
    for (name, values), colour in zip(series.items(), ("#1565c0", "#c62828", "#2e7d32"), strict=False):
        runs: list[list[tuple[float, float]]] = [[]]  # a day without a value breaks the line
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((left + i * step, bottom - (bottom - 14) * v / top))
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
            body += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='{colour}'/>" for x, y in run]
        body.append(f"<text x='{w - 12}' y='{14 + 12 * list(series).index(name) + 10}' text-anchor='end' "
                    f"fill='{colour}'>{html.escape(name)}</text>")
    for i, lbl in enumerate(labels):
        if len(labels) <= 31:
            x = left + i * step
            body.append(f"<text x='{x:.1f}' y='{bottom + 12}' text-anchor='end' "
                        f"transform='rotate(-45 {x:.1f} {bottom + 12})'>{html.escape(lbl[5:])}</text>")
    return _svg(w, h, body, title)


def psi_bars(features: list[dict[str, Any]], thresholds: dict[str, float] | None, title: str) -> str:
    """Horizontal PSI bars, coloured by status; a missing column gets a full-length bar."""
    shown = features[:30]
    w, left, right, row, head = 600, 160, 110, 16, 22
    h = head + row * len(shown) + 8
    warn, alert = (thresholds or {}).get("warn", 0.1), (thresholds or {}).get("alert", 0.25)
    top = max([f["psi"] for f in shown if f["psi"] is not None] + [alert * 1.6])
    scale = (w - left - right) / top
    body = [f"<text x='{left}' y='12'>PSI; dashed lines: warn {warn}, alert {alert}</text>"]
    for t in (warn, alert):
        x = left + t * scale
        body.append(f"<line x1='{x:.1f}' y1='{head - 4}' x2='{x:.1f}' y2='{h - 4}' stroke='#999' "
                    "stroke-dasharray='3,3'/>")
    for i, f in enumerate(shown):
        y = head + i * row
        value = top if f["psi"] is None else f["psi"]
        colour = STATUS_COLOUR.get(f["status"], "#616161")
        body.append(f"<text x='{left - 6}' y='{y + 11}' text-anchor='end'>{html.escape(str(f['feature'])[:28])}</text>")
        body.append(f"<rect x='{left}' y='{y + 2}' width='{max(value * scale, 1):.1f}' height='{row - 4}' "
                    f"fill='{colour}'/>")
        body.append(f"<text x='{left + value * scale + 4:.1f}' y='{y + 11}'>{_psi(f['psi'])}</text>")
    return _svg(w, h, body, title)


# --------------------------------------------------------------------------- HTML
def _table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        colour = next((c for s, c in STATUS_COLOUR.items() if text == s or text.startswith(s + " ")
                       or text.startswith(s + ",")), None)
        style = f" style='color:{colour}'" if colour else ""
        return f"<td{style}>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>" + "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows) \
        + "</table>"


def page(r: dict[str, Any]) -> str:
    days = [d["date"] for d in r["per_day"]]
    plots = {
        "Usage": bars(days, [float(d["requests"]) for d in r["per_day"]], "requests per day"),
        "Latency": lines_plot(days, {"p50": [d["latency_p50_ms"] for d in r["per_day"]],
                                     "p95": [d["latency_p95_ms"] for d in r["per_day"]]}, "latency per day (ms)"),
    }
    if r["drift"]["features"]:
        plots["Drift"] = psi_bars(r["drift"]["features"], r["drift"]["thresholds"], "PSI per feature")
    body = [f"<h1>{html.escape(_title(r))}</h1>", f"<p>Generated {html.escape(r['generated'])}.</p>"]
    for title, header, rows, lines in sections(r):
        body.append(f"<h2>{html.escape(title)}</h2>")
        body += [f"<p>{html.escape(line)}</p>" for line in lines]
        if title in plots:
            body.append(f"<figure>{plots[title]}</figure>")
        if header and rows:
            body.append(_table(header, rows))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(_title(r))}</title><style>body{{font-family:sans-serif;margin:2em;max-width:72em}}"
            "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}p{margin:.3em 0}"
            "figure{margin:.5em 0}</style></head><body>" + "\n".join(body) + "</body></html>\n")


def render(report: dict[str, Any], fmt: str) -> str:
    return {"markdown": markdown, "html": page, "json": as_json}[fmt](report)
