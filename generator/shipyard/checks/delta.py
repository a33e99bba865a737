"""Readiness before and after a change (what ``adopt`` did), per family, for ADOPTION.md and ``--json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .registry import FAMILY_TITLES, ML_TEST_SCORE, Result
from .runner import Audit
from .scoring import shown


@dataclass(frozen=True, kw_only=True)
class Readiness:
    before: Audit
    after: Audit

    def deltas(self) -> dict[str, float]:
        """Per family: points gained (ML Test Score sections) or percentage points gained (the others)."""
        out: dict[str, float] = {}
        for family, after in self.after.families.items():
            before = self.before.families.get(family)
            if family in ML_TEST_SCORE:
                out[family] = after.points - (before.points if before else 0.0)
            else:
                out[family] = round(after.percent - (before.percent if before else 0.0), 1)
        a, b = self.after.ml_test_score, self.before.ml_test_score
        out["ml_test_score"] = a - b if a is not None and b is not None else 0.0
        return out

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before.scores, "after": self.after.scores, "delta": self.deltas(),
                "band_before": self.before.band, "band_after": self.after.band}

    def markdown(self) -> list[str]:
        d = self.deltas()
        lines = ["## Production readiness", "",
                 "Measured by `shipyard doctor` on the repository before adoption and on the files this adoption "
                 "writes (static: nothing was run). Points per ML Test Score section (0 to 7), percent for the "
                 "others.", "",
                 "| Family | Before | After | Change |", "|---|---|---|---|"]
        for family, after in self.after.families.items():
            before = self.before.families.get(family)
            if family in ML_TEST_SCORE:
                b, a = (f"{before.points:g}" if before else "0"), f"{after.points:g}"
                change = f"{d[family]:+g}"
            else:
                b, a = (f"{before.percent:g}%" if before else "0%"), f"{after.percent:g}%"
                change = f"{d[family]:+g} pts"
            lines.append(f"| {FAMILY_TITLES.get(family, family)} | {b} | {a} | {change} |")
        lines.append(f"| **ML Test Score** (lowest section) | {shown(self.before.ml_test_score)} | "
                     f"{shown(self.after.ml_test_score)} | {d['ml_test_score']:+g} |")
        lines += ["", f"Now: {self.after.band}", ""]
        todo = [r for r in self.after.results if r.outcome.result is Result.FAIL][:12]
        if todo:
            lines += ["What still fails (run `shipyard doctor` for the whole list and the evidence):", ""]
            lines += [f"- `{r.check.id}` {r.check.title}: {r.outcome.message}" +
                      (f" Fix: {r.outcome.fix}." if r.outcome.fix else "") for r in todo]
            lines.append("")
        return lines
