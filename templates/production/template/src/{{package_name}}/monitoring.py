"""`drift FILE`: a data file (and the champion's predictions on it) against the champion's training profile.

The PSI itself and the reports are drift.py; this module fetches what they compare: the champion
from the registry and the file, read the way the project reads its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import settings as S
from .drift import compare, prediction_values, write_reports


@dataclass
class DriftResult:
    rows: list[dict[str, Any]]
    md_path: Path
    html_path: Path
    model_version: str
    scoring_error: str = ""

    @property
    def json_path(self) -> Path:
        """drift_report.json, what `report` reads (next to the other two)."""
        return self.md_path.with_name("drift_report.json")

    def alerts(self) -> list[str]:
        return [r["feature"] for r in self.rows if r["status"] == "alert"]

    def warnings(self) -> list[str]:
        return [r["feature"] for r in self.rows if r["status"] == "warn"]


def run(path: str, report_dir: str | None = None) -> DriftResult:
    """PSI of ``path`` (and of its predictions) against the champion's training profile; writes the reports."""
    from . import datasets, registry
    from .errors import ProjectError

    settings = S.Settings.load()
    bundle = registry.load_bundle(settings)
    df = datasets.read(path)
    profile = bundle.profile
    if not profile:
        raise ProjectError(f"model version {bundle.version} has no reference profile", "retrain it", exit_code=2)
    pred_values = None
    scoring_error = ""
    try:
        preds, proba = bundle.predict(bundle.frame_from_df(df))
        pred_values = prediction_values(preds, proba)
    except Exception as exc:  # report feature drift even when scoring fails
        scoring_error = str(exc)[:200]
    rows = compare(profile, df, pred_values)
    out = Path(report_dir) if report_dir else settings.root / "reports"
    md_path, html_path = write_reports(rows, out, source=str(path), model_version=str(bundle.version))
    return DriftResult(rows, md_path, html_path, str(bundle.version), scoring_error)
