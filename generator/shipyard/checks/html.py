"""The audit as one self-contained HTML file: a bar per family, then every check that did not pass, with its fix."""

from __future__ import annotations

from html import escape

from .registry import FAMILY_TITLES, ML_TEST_SCORE, Result
from .runner import Audit
from .scoring import shown

COLOURS = {Result.PASS: "#2e7d32", Result.PARTIAL: "#f9a825", Result.FAIL: "#c62828", Result.NOT_APPLICABLE: "#9e9e9e"}
STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border-bottom:1px solid #ddd;
padding:.35rem .5rem;text-align:left;vertical-align:top}code{background:#f3f3f3;padding:0 .2rem}.r{font-weight:600}
.fix{color:#444}.ev{color:#666;font-size:.85em}"""


def _bars(audit: Audit) -> str:
    """One horizontal bar per family: the share of points earned (ML Test Score sections out of their checks)."""
    rows = list(audit.families.items())
    width, label_w, bar_w, row_h = 760, 230, 440, 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_h * len(rows) + 10}" '
             f'role="img" aria-label="score per family">']
    for i, (family, score) in enumerate(rows):
        y = i * row_h + 5
        share = score.points / score.max_points if score.max_points else 0.0
        value = f"{score.points:g} / {score.max_points:g}" if family in ML_TEST_SCORE else f"{score.percent:g}%"
        colour = "#2e7d32" if share >= 0.75 else "#f9a825" if share >= 0.4 else "#c62828"
        parts.append(f'<text x="0" y="{y + 18}" font-size="13">{escape(FAMILY_TITLES.get(family, family))}</text>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="18" fill="#eee"/>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * share:.1f}" height="18" fill="{colour}">'
                     f'<title>{escape(value)}</title></rect>'
                     f'<text x="{label_w + bar_w + 8}" y="{y + 18}" font-size="13">{escape(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html(audit: Audit) -> str:
    not_passed = [r for r in audit.results if r.outcome.result in (Result.FAIL, Result.PARTIAL)]
    rows = []
    for r in not_passed:
        ev = "<br>".join(escape(e.where()) for e in r.outcome.evidence[:4])
        fix = f'<div class="fix">Fix: {escape(r.outcome.fix)}</div>' if r.outcome.fix else ""
        rows.append(f'<tr><td><code>{escape(r.check.id)}</code></td><td>{escape(r.check.title)}</td>'
                    f'<td class="r" style="color:{COLOURS[r.outcome.result]}">{r.outcome.result.value}</td>'
                    f'<td>{escape(r.outcome.message)}{fix}<div class="ev">{ev}</div></td></tr>')
    passed = [r for r in audit.results if r.outcome.result is Result.PASS]
    passed_rows = "".join(f"<tr><td><code>{escape(r.check.id)}</code></td><td>{escape(r.check.title)}</td>"
                          f"<td>{escape(r.outcome.message)}</td></tr>" for r in passed)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Production readiness: {escape(audit.root.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Production readiness: {escape(audit.root.name)}</h1>"
        f"<p>ML Test Score <b>{shown(audit.ml_test_score)}</b> (the lowest of its four sections): "
        f"{escape(audit.band)}</p>{_bars(audit)}"
        f"<h2>To do ({len(not_passed)})</h2><table><tr><th>Check</th><th>Question</th><th>Result</th>"
        f"<th>Finding and fix</th></tr>{''.join(rows)}</table>"
        f"<h2>Passed ({len(passed)})</h2><table>{passed_rows}</table>"
        f"<p class=\"ev\">{audit.files} files, {audit.notebooks} notebooks, {audit.seconds:.2f} s. "
        "Static audit: no code of the project was run.</p></body></html>\n"
    )
