"""Scores: points per family, the ML Test Score (the minimum over its four sections) and its band."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .registry import FAMILIES, ML_TEST_SCORE, SCORE, Result

# The rubric's interpretation of the final score (Breck et al., 2017, table 5).
BANDS = (
    (0.0, "More of a research project than a productionized system."),
    (1.0, "Not totally untested, but it is worth considering the possibility of serious holes in reliability."),
    (2.0, "There's been first pass at basic productionization, but additional investment may be needed."),
    (3.0, "Reasonably tested, but it's possible that more of those tests and procedures may be automated."),
    (5.0, "Strong levels of automated testing and monitoring, appropriate for mission-critical systems."),
    (float("inf"), "Exceptional levels of automated testing and monitoring."),
)


def band(score: float | None) -> str:
    """The rubric's wording for a final score: 0, (0,1], (1,2], (2,3], (3,5], above 5."""
    if score is None:
        return "not scored: not all four ML Test Score sections were audited"
    for upper, text in BANDS:
        if score <= upper:
            return text
    return BANDS[-1][1]


def shown(score: float | None) -> str:
    return "-" if score is None else f"{score:g}"


@dataclass(frozen=True, kw_only=True)
class FamilyScore:
    family: str
    points: float
    max_points: float  # the applicable checks (a not-applicable one counts neither way)
    passed: int
    partial: int
    failed: int
    not_applicable: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.points / self.max_points, 1) if self.max_points else 0.0

    def to_json(self) -> dict[str, object]:
        return {"points": self.points, "max": self.max_points, "percent": self.percent, "pass": self.passed,
                "partial": self.partial, "fail": self.failed, "n/a": self.not_applicable}


def family_scores(results: Iterable[tuple[str, Result]]) -> dict[str, FamilyScore]:
    tally: dict[str, list[Result]] = {}
    for family, result in results:
        tally.setdefault(family, []).append(result)
    out: dict[str, FamilyScore] = {}
    for family in [*[f for f in FAMILIES if f in tally], *sorted(set(tally) - set(FAMILIES))]:
        items = tally[family]
        points = sum(SCORE[r] or 0.0 for r in items)
        out[family] = FamilyScore(
            family=family, points=points, max_points=float(sum(1 for r in items if r is not Result.NOT_APPLICABLE)),
            passed=items.count(Result.PASS), partial=items.count(Result.PARTIAL), failed=items.count(Result.FAIL),
            not_applicable=items.count(Result.NOT_APPLICABLE))
    return out


def ml_test_score(families: dict[str, FamilyScore]) -> float | None:
    """The final ML Test Score: the minimum of the four sections' sums (None unless all four were audited)."""
    if not all(f in families for f in ML_TEST_SCORE):
        return None
    return min(families[f].points for f in ML_TEST_SCORE)


def summary(families: dict[str, FamilyScore]) -> dict[str, float | None]:
    """The flat scores of the JSON output: section points, the final score, governance and delivery in percent
    (None for a family --select left out)."""
    flat: dict[str, float | None] = {f: families[f].points if f in families else None for f in ML_TEST_SCORE}
    flat["ml_test_score"] = ml_test_score(families)
    for family in ("governance", "delivery"):
        flat[family] = families[family].percent if family in families else None
    for family, score in families.items():
        if family not in ML_TEST_SCORE:
            flat[family] = score.percent
    return flat
