"""An audit as text: a terminal table, JSON, Markdown and SARIF 2.1.0 (HTML is :mod:`.html`)."""

from __future__ import annotations

import json
from typing import Any

from .registry import FAMILY_TITLES, ML_TEST_SCORE, Result
from .runner import Audit
from .scoring import shown

MARK = {Result.PASS: "pass", Result.PARTIAL: "part", Result.FAIL: "FAIL", Result.NOT_APPLICABLE: "n/a"}


def render(audit: Audit, fmt: str, *, verbose: bool = False) -> str:
    if fmt == "json":
        return json.dumps(audit.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return markdown(audit)
    if fmt == "sarif":
        return json.dumps(sarif(audit), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from .html import html

        return html(audit)
    return table(audit, verbose=verbose)


def _score_line(audit: Audit) -> list[str]:
    lines = []
    for family, score in audit.families.items():
        if family in ML_TEST_SCORE:
            value = f"{score.points:g} / {score.max_points:g}"
        else:
            value = f"{score.percent:g}% ({score.points:g} / {score.max_points:g})"
        lines.append(f"  {FAMILY_TITLES.get(family, family):<28} {value}")
    return lines


def table(audit: Audit, *, verbose: bool = False) -> str:
    out = [f"shipyard doctor: {audit.root}  ({audit.files} files, {audit.notebooks} notebooks, "
           f"{audit.seconds:.2f} s)", ""]
    family = None
    for r in audit.results:
        if r.check.family != family:
            family = r.check.family
            out.append(f"{FAMILY_TITLES.get(family, family)}")
        out.append(f"  {MARK[r.outcome.result]:<4}  {r.check.id:<20} {r.check.title}")
        if r.outcome.result is not Result.PASS or verbose:
            out.append(f"        {r.outcome.message}")
            if r.outcome.fix:
                out.append(f"        fix: {r.outcome.fix}")
            if verbose:
                out += [f"        at {e.where()}" for e in r.outcome.evidence]
    out += ["", "Scores", *_score_line(audit),
            f"  {'ML Test Score (min of 4)':<28} {shown(audit.ml_test_score)}: {audit.band}"]
    for error in audit.plugin_errors:
        out.append(f"warning: plugin {error.name} did not load: {error.message}")
    for reason in audit.below_floor():
        out.append(f"below the floor: {reason}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(audit: Audit) -> str:
    out = ["# Production readiness", "",
           f"ML Test Score: **{shown(audit.ml_test_score)}** ({audit.band})", "",
           "| Family | Score |", "|---|---|"]
    for family, score in audit.families.items():
        value = f"{score.points:g} / {score.max_points:g}" if family in ML_TEST_SCORE else f"{score.percent:g}%"
        out.append(f"| {FAMILY_TITLES.get(family, family)} | {value} |")
    out += ["", "| Check | Result | Finding | Evidence |", "|---|---|---|---|"]
    for r in audit.results:
        finding = r.outcome.message + (f" Fix: {r.outcome.fix}" if r.outcome.fix else "")
        where = ", ".join(e.where() for e in r.outcome.evidence[:3])
        out.append(f"| `{r.check.id}` {_cell(r.check.title)} | {r.outcome.result.value} | {_cell(finding)} | "
                   f"{_cell(where)} |")
    return "\n".join(out) + "\n"


_LEVEL = {Result.FAIL: "error", Result.PARTIAL: "warning", Result.PASS: "none", Result.NOT_APPLICABLE: "none"}
_KIND = {Result.FAIL: "fail", Result.PARTIAL: "review", Result.PASS: "pass", Result.NOT_APPLICABLE: "notApplicable"}


def sarif(audit: Audit) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per check, one result per check that ran (pass and n/a as kind, not level)."""
    from .. import __version__

    rules = [{"id": r.check.id, "name": r.check.func.__name__,
              "shortDescription": {"text": r.check.title},
              "fullDescription": {"text": r.check.description},
              "help": {"text": f"{r.check.description} See docs/doctor-checks.md#{r.check.id} in Shipyard's "
                               "documentation."},
              "properties": {"family": r.check.family, "origin": r.check.origin}}
             for r in audit.results]
    results = []
    for index, r in enumerate(audit.results):
        text = r.outcome.message + (f" Fix: {r.outcome.fix}" if r.outcome.fix else "")
        item: dict[str, Any] = {"ruleId": r.check.id, "ruleIndex": index, "kind": _KIND[r.outcome.result],
                                "level": _LEVEL[r.outcome.result], "message": {"text": text},
                                "properties": {"score": r.score, "result": r.outcome.result.value}}
        locations = []
        for e in r.outcome.evidence[:5]:
            physical: dict[str, Any] = {"artifactLocation": {"uri": e.path, "uriBaseId": "%SRCROOT%"}}
            if e.line and e.cell is None:  # in a notebook the line is within a cell, not of the .ipynb file
                physical["region"] = {"startLine": e.line}
            locations.append({"physicalLocation": physical})
        if not locations:  # code scanning wants a location: the file the fix goes into, else a root file
            anchor = next((n for n in ("OWNERSHIP.yaml", "pyproject.toml", "README.md")
                           if (audit.root / n).is_file()), "README.md")
            locations.append({"physicalLocation": {"artifactLocation": {"uri": anchor, "uriBaseId": "%SRCROOT%"}}})
        item["locations"] = locations
        results.append(item)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "shipyard-doctor", "version": __version__, "rules": rules}},
            "results": results,
            "properties": {"scores": audit.scores, "band": audit.band},
        }],
    }
