"""Drift: the training reference profile and PSI of new data (and of predictions) against it.

Profile (JSON, written at training time next to the model):
  numeric features  -> ``cuts``: up to 9 unique decile cut points; buckets (-inf, c1], (c1, c2], ...,
                       (ck, inf) plus ``missing``; ``proportions`` has one entry per bucket.
  categorical       -> ``categories``: {value: proportion}, plus ``__unseen__`` (0 in the reference)
                       and ``__missing__``.
PSI = sum((cur - ref) * ln(cur / ref)) with proportions floored at EPS; warn at 0.10, alert at 0.25.

Reports (`drift FILE`): drift_report.md, drift_report.html and drift_report.json, the one `report`
reads: {"version": 1, "generated", "source", "model_version", "thresholds": {"warn", "alert"},
"status": worst of the features' ("ok" | "warn" | "alert"), "features": [{"feature", "kind", "psi"
(null for a column missing from the data), "status", "note"}]}, highest PSI first.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from . import settings as S

EPS = 1e-4
N_BINS = 10
MAX_CATEGORIES = 50
UNSEEN = "__unseen__"
MISSING = "__missing__"
OTHER = "__other__"
PREDICTION = "prediction"


def thresholds() -> tuple[float, float]:
    return float(S.env("PSI_WARN", "0.10") or 0.10), float(S.env("PSI_ALERT", "0.25") or 0.25)


def _is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def column_profile(values) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    s = pd.Series(values)
    n = max(len(s), 1)
    if _is_numeric(s):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        finite = x[np.isfinite(x)]
        if len(finite) == 0:
            cuts: list[float] = []
        else:
            q = np.quantile(finite, np.linspace(0, 1, N_BINS + 1)[1:-1])
            cuts = sorted({float(v) for v in q})
        return {
            "kind": "numeric",
            "cuts": cuts,
            "proportions": _numeric_props(x, cuts, n),
            "mean": float(np.mean(finite)) if len(finite) else None,
            "std": float(np.std(finite)) if len(finite) else None,
        }
    keys = s.map(lambda v: MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    freq = keys.value_counts()
    cats = {k: float(c) / n for k, c in freq.items() if k != MISSING}
    if len(cats) > MAX_CATEGORIES:
        top = dict(sorted(cats.items(), key=lambda kv: -kv[1])[:MAX_CATEGORIES])
        top[OTHER] = float(sum(v for k, v in cats.items() if k not in top))
        cats = top
    cats[UNSEEN] = 0.0
    cats[MISSING] = float(freq.get(MISSING, 0)) / n
    return {"kind": "categorical", "categories": cats}


def _numeric_props(x, cuts: list[float], n: int) -> list[float]:
    import numpy as np

    finite_mask = ~np.isnan(x)
    idx = np.searchsorted(np.asarray(cuts, dtype=float), x[finite_mask], side="left")
    counts = np.bincount(idx, minlength=len(cuts) + 1).astype(float)
    props = list(counts / n)
    props.append(float((~finite_mask).sum()) / n)  # missing bucket
    return [float(p) for p in props]


def current_props(ref: dict[str, Any], values) -> tuple[list[str], list[float], list[float]]:
    """Buckets, reference proportions and current proportions for one column."""
    import numpy as np
    import pandas as pd

    s = pd.Series(values)
    n = max(len(s), 1)
    if ref["kind"] == "numeric":
        cuts = ref["cuts"]
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cur = _numeric_props(x, cuts, n)
        labels = (
            [f"<= {cuts[0]:.4g}"]
            + [f"({a:.4g}, {b:.4g}]" for a, b in zip(cuts, cuts[1:], strict=False)]
            + [f"> {cuts[-1]:.4g}"]
            if cuts
            else ["all"]
        )
        return labels + ["missing"], list(ref["proportions"]), cur
    cats: dict[str, float] = ref["categories"]
    known = set(cats) - {UNSEEN, MISSING, OTHER}
    keys = s.map(lambda v: MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    freq = keys.value_counts()
    cur: dict[str, float] = {k: 0.0 for k in cats}
    for k, c in freq.items():
        if k in known or k == MISSING:
            cur[k] = cur.get(k, 0.0) + c / n
        elif OTHER in cats:
            cur[OTHER] += c / n  # a rare training category or a new one: cannot tell apart
        else:
            cur[UNSEEN] += c / n
    labels = list(cats)
    return labels, [cats[k] for k in labels], [cur[k] for k in labels]


def psi(ref: list[float], cur: list[float]) -> float:
    total = 0.0
    for e, a in zip(ref, cur, strict=True):
        e, a = max(e, EPS), max(a, EPS)
        total += (a - e) * math.log(a / e)
    return float(total)


def prediction_values(predictions, probabilities):
    """What is monitored for predictions: P(positive) for binary classifiers, else the predictions."""
    if probabilities is not None and getattr(probabilities, "ndim", 0) == 2 and probabilities.shape[1] == 2:
        return probabilities[:, 1]
    return predictions


def build_profile(X, predictions=None, probabilities=None, *, kind: str = "") -> dict[str, Any]:
    profile: dict[str, Any] = {
        "version": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017
        "candidate": kind,
        "n_rows": int(len(X)),
        "bins": N_BINS,
        "features": {str(c): column_profile(X[c]) for c in X.columns},
    }
    if predictions is not None:
        profile["prediction"] = column_profile(prediction_values(predictions, probabilities))
    return profile


# --------------------------------------------------------------------------- report
def compare(profile: dict[str, Any], df, pred_values=None) -> list[dict[str, Any]]:
    warn, alert = thresholds()
    rows = []
    items = list(profile["features"].items())
    if pred_values is not None and "prediction" in profile:
        items.append((PREDICTION, profile["prediction"]))
    for name, ref in items:
        if name == PREDICTION and pred_values is not None and ref is profile.get("prediction"):
            values = pred_values
        elif name in df.columns:
            values = df[name]
        else:
            rows.append(
                {
                    "feature": name,
                    "kind": ref["kind"],
                    "psi": math.inf,
                    "status": "alert",
                    "note": "column missing",
                    "labels": [],
                    "ref": [],
                    "cur": [],
                }
            )
            continue
        labels, r, c = current_props(ref, values)
        value = psi(r, c)
        status = "alert" if value >= alert else "warn" if value >= warn else "ok"
        rows.append(
            {
                "feature": name,
                "kind": ref["kind"],
                "psi": value,
                "status": status,
                "note": "",
                "labels": labels,
                "ref": r,
                "cur": c,
            }
        )
    rows.sort(key=lambda r: -r["psi"])
    return rows


def _plot(row: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = row["labels"]
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=80)
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], row["ref"], width=0.4, label="training")
    ax.bar([x + 0.2 for x in xs], row["cur"], width=0.4, label="current")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([lbl[:14] for lbl in labels], rotation=30, ha="right", fontsize=7)
    ax.set_title(f"{row['feature']}  PSI={row['psi']:.3f} ({row['status']})", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write_reports(rows, out_dir: Path, *, source: str, model_version: str, max_plots: int = 30) -> tuple[Path, Path]:
    warn, alert = thresholds()
    out_dir.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")  # noqa: UP017
    fmt = lambda v: "inf" if math.isinf(v) else f"{v:.4f}"  # noqa: E731
    md = [
        f"# Drift report: {S.PACKAGE}",
        "",
        f"- data: `{source}`",
        f"- model version: {model_version}",
        f"- generated: {now}",
        f"- thresholds: warn at PSI {warn}, alert at PSI {alert}",
        "",
        "| feature | kind | PSI | status | note |",
        "|---|---|---|---|---|",
    ]
    md += [f"| {r['feature']} | {r['kind']} | {fmt(r['psi'])} | {r['status']} | {r['note']} |" for r in rows]
    md_path = out_dir / "drift_report.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    worst = max((r["status"] for r in rows), key=("ok", "warn", "alert").index, default="ok")
    summary = {"version": 1, "generated": now, "source": source, "model_version": model_version,
               "thresholds": {"warn": warn, "alert": alert}, "status": worst,
               "features": [{"feature": r["feature"], "kind": r["kind"],
                             "psi": None if math.isinf(r["psi"]) else round(r["psi"], 6), "status": r["status"],
                             "note": r["note"]} for r in rows]}
    (out_dir / "drift_report.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    colour = {"ok": "#2e7d32", "warn": "#ef6c00", "alert": "#c62828"}
    body = [
        f"<h1>Drift report: {html.escape(S.PACKAGE)}</h1>",
        f"<p>data: <code>{html.escape(source)}</code> &middot; model version {html.escape(model_version)}"
        f" &middot; {now} &middot; warn at {warn}, alert at {alert}</p>",
        "<table><tr><th>feature</th><th>kind</th><th>PSI</th><th>status</th><th>note</th></tr>",
    ]
    for r in rows:
        body.append(
            f"<tr><td>{html.escape(r['feature'])}</td><td>{r['kind']}</td><td>{fmt(r['psi'])}</td>"
            f"<td style='color:{colour[r['status']]}'>{r['status']}</td><td>{html.escape(r['note'])}</td></tr>"
        )
    body.append("</table>")
    for r in [r for r in rows if r["labels"]][:max_plots]:
        body.append(
            f"<h3>{html.escape(r['feature'])}</h3><img alt='{html.escape(r['feature'])}' "
            f"src='data:image/png;base64,{_plot(r)}'/>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;border-bottom:1px solid #ddd}"
        "</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    html_path = out_dir / "drift_report.html"
    html_path.write_text(page, encoding="utf-8")
    return md_path, html_path
