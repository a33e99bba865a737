"""Splitting, metrics and the comparison of candidates (the notebook's model, the baseline, a model file)."""

from __future__ import annotations

import logging
import math

from . import settings as S

log = logging.getLogger(__name__)


def split_positions(y, task: str, time_values=None):
    import numpy as np

    n = len(y)
    positions = np.arange(n)
    if time_values is not None:
        order = np.argsort(np.asarray(time_values), kind="stable")
        cut = max(1, min(n - 1, int(round(n * (1 - S.TEST_SIZE)))))
        return order[:cut], order[cut:]
    from sklearn.model_selection import train_test_split

    stratify = None
    if task == "classification":
        counts = y.value_counts()
        if len(counts) > 1 and counts.min() >= 2:
            stratify = y
    return train_test_split(positions, test_size=S.TEST_SIZE, random_state=S.SEED, stratify=stratify)


def time_values_for(X, frames: list, time_column: str = S.TIME_COLUMN):
    """Sortable time values aligned with X, from X itself or a frame that holds the column."""
    import pandas as pd

    if not time_column:
        return None
    source = None
    if time_column in X.columns:
        source = X[time_column]
    else:
        for frame in frames:
            if isinstance(frame, pd.DataFrame) and time_column in frame.columns and X.index.isin(frame.index).all():
                source = frame.loc[X.index, time_column]
                break
    if source is None:
        log.warning("time column `%s` not found; using a random split", time_column)
        return None
    if pd.api.types.is_numeric_dtype(source):
        return source.to_numpy()
    return pd.to_datetime(source, errors="coerce").to_numpy()


def evaluate(model, X, y, task: str = S.TASK) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as M

    out: dict[str, float] = {}
    if task == "classification":
        pred = model.predict(X)
        out["accuracy"] = float(M.accuracy_score(y, pred))
        out["f1_macro"] = float(M.f1_score(y, pred, average="macro"))
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X)
            classes = list(model.classes_)
            try:
                if len(classes) == 2:
                    out["roc_auc"] = float(M.roc_auc_score(np.asarray(y) == classes[1], proba[:, 1]))
                else:
                    out["roc_auc"] = float(M.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
            except ValueError:
                out["roc_auc"] = float("nan")
            try:
                out["log_loss"] = float(M.log_loss(y, proba, labels=classes))
            except ValueError:
                out["log_loss"] = float("nan")
    else:
        pred = np.asarray(model.predict(X), dtype=float)
        out["r2"] = float(M.r2_score(y, pred))
        out["rmse"] = float(math.sqrt(M.mean_squared_error(y, pred)))
        out["mae"] = float(M.mean_absolute_error(y, pred))
    return out


def score_of(metrics: dict[str, float], metric: str = S.PRIMARY_METRIC) -> float:
    """Primary metric oriented so that higher is better (NaN -> -inf)."""
    value = metrics.get(metric, float("nan"))
    if value is None or math.isnan(value):
        return float("-inf")
    return -value if metric in S.LOWER_IS_BETTER else value


def comparison_table(candidates: list) -> str:
    keys: list[str] = []
    for c in candidates:
        keys += [k for k in c.metrics if k not in keys]
    keys.sort(key=lambda k: (k != S.PRIMARY_METRIC, k))
    header = f"{'candidate':<10} {'model':<36} " + " ".join(f"{k:>10}" for k in keys)
    lines = [header, "-" * len(header)]
    for c in candidates:
        name = c.label
        vals = " ".join(f"{c.metrics.get(k, float('nan')):>10.4f}" for k in keys)
        lines.append(f"{c.kind:<10} {name[:36]:<36} {vals}")
    return "\n".join(lines)


