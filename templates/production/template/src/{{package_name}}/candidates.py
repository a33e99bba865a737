"""The candidates `train` compares on one held-out split: the notebook's model, the baseline, a model file.

The notebook's model: the notebook runs in its sandbox (notebook.py); its estimator is found in the
namespace with the frame it was fitted on and its target, and a clone (of the tuned estimator, for a
search) is re-fitted on the training split. The baseline: the data file's own columns (baseline.py).
A committed model file: loaded as it is and evaluated, no re-fit (`train --from-file`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S
from .baseline import build_baseline, raw_feature_columns
from .errors import ProjectError
from .evaluate import evaluate, split_positions, time_values_for

log = logging.getLogger(__name__)
TARGET_NAMES = ("y", "y_all", "y_full", "labels", "label", "target")
UNSUPPORTED_FRAMEWORKS = frozenset({"torch", "keras", "tensorflow"})
FRAMEWORK_NAMES = {"torch": "PyTorch", "keras": "Keras", "tensorflow": "Keras", "statsmodels": "statsmodels"}


@dataclass
class Candidate:
    kind: str  # "notebook" | "baseline" | "file"
    model: Any
    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    X_all: Any
    y_all: Any
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def label(self) -> str:
        """A short name for tables, params and tags."""
        model = self.model
        if getattr(model, "framework", "") == "statsmodels":
            return model.name
        if hasattr(model, "steps"):
            return f"Pipeline[{type(model.steps[-1][1]).__name__}]"
        return type(model).__name__


def split(cand_kind: str, model, X, y, positions, note: str = "") -> Candidate:
    train_pos, test_pos = positions
    return Candidate(cand_kind, model, X.iloc[train_pos], X.iloc[test_pos], y.iloc[train_pos], y.iloc[test_pos],
                     X, y, note=note)


# --------------------------------------------------------------------------- the notebook's model
def unsupported_message(kind: str, module_rel: str) -> str:
    """Exactly what to write, and where, for a model `train` cannot re-fit by itself."""
    name = FRAMEWORK_NAMES.get(kind, kind)
    variable = S.MODEL_VARIABLE or "model"
    proba = ("        def predict_proba(self, X: pandas.DataFrame) -> numpy.ndarray  # (n_rows, n_classes)\n"
             if S.TASK == "classification" else "")
    return (
        f"the notebook's model is a {name} object, which `train` cannot re-fit and log automatically.\n"
        f"In {module_rel}, define a scikit-learn compatible class around it and assign a fitted instance "
        f"to the top-level variable `{variable}`:\n"
        f"    class NotebookModel(sklearn.base.BaseEstimator):\n"
        f"        def __init__(self, <hyper-parameters as keyword arguments with defaults>)\n"
        f"        def fit(self, X: pandas.DataFrame, y: pandas.Series) -> 'NotebookModel'  # trains from scratch\n"
        f"        def predict(self, X: pandas.DataFrame) -> numpy.ndarray  # one value per row\n"
        f"{proba}"
        f"    {variable} = NotebookModel().fit(X, y)  # X: the feature DataFrame (raw columns), y: `{S.TARGET}`\n"
        f"(get_params comes from BaseEstimator; set classes_ in fit for a classifier.) "
        f"Meanwhile `python -m {S.PACKAGE} train --baseline` trains and registers the baseline"
    )


def is_sklearn_compatible(est) -> bool:
    return all(hasattr(est, a) for a in ("fit", "predict", "get_params"))


def feature_names(estimator) -> list[str] | None:
    """The columns an estimator was fitted on: scikit-learn's `feature_names_in_`, CatBoost's `feature_names_`."""
    for attribute in ("feature_names_in_", "feature_names_"):
        names = getattr(estimator, attribute, None)
        if names is not None and len(names) and all(isinstance(n, str) for n in names):
            return [str(n) for n in names]
    return None


def frames_with_the_columns(namespace: dict[str, Any], estimator) -> list:
    """DataFrames of the namespace holding the estimator's feature columns (as those columns), longest first;
    the fit call's own features variable (MODEL_FEATURES, recorded at adoption) first of all."""
    import pandas as pd

    names = feature_names(estimator)
    if names is None:
        n = getattr(estimator, "n_features_in_", None)
        raise ProjectError(
            "the estimator was fitted on an array" + (f" of {n} columns" if n else "")
            + ", not a DataFrame, so the columns a request must carry are unknown",
            "in the module, fit it on a pandas DataFrame (for text or other features, put the transformer and "
            f"the model in one sklearn Pipeline fitted on the raw frame), or run `python -m {S.PACKAGE} train "
            "--baseline`",
        )
    ranked = []
    for key, value in namespace.items():
        if key.startswith("_") or not isinstance(value, pd.DataFrame):
            continue
        cols = [str(c) for c in value.columns]
        if not set(names) <= set(cols):
            continue
        exact = 0 if cols == names else 1 if set(cols) == set(names) else 2
        ranked.append((key != S.MODEL_FEATURES, exact, -len(value), key, value if exact == 0 else value[names]))
    if not ranked:
        raise ProjectError(
            f"no DataFrame in the notebook's namespace has the estimator's columns {names[:6]}...",
            f"keep the feature frame in a top-level variable, or run `python -m {S.PACKAGE} train --baseline`",
        )
    return [frame for *_, frame in sorted(ranked, key=lambda t: t[:4])]


def find_frames(namespace: dict[str, Any], estimator):
    """(X, y): the feature frame and the target it was fitted with, found together, so that a test
    frame of the same columns (one row longer, say) is not taken for the training frame."""
    first_error = None
    for X in frames_with_the_columns(namespace, estimator):
        try:
            return X, find_target(namespace, X)
        except ProjectError as exc:
            first_error = first_error or exc
    raise first_error  # type: ignore[misc]


def find_target(namespace: dict[str, Any], X, target: str = S.TARGET):
    """The target the estimator was fitted with: a Series, array or one-column frame as long as X."""
    import numpy as np
    import pandas as pd

    n = len(X)
    scored = []
    for key, value in namespace.items():
        if key.startswith("_"):
            continue
        if isinstance(value, pd.DataFrame) and value.shape[1] == 1 and len(value) == n and key.lower().startswith("y"):
            value = value.iloc[:, 0]
        if isinstance(value, pd.Series) and len(value) == n:
            score = 4 * (value.name in (target, S.TARGET_SOURCE)) + 3 * (key in (target, *TARGET_NAMES))
            score += 5 * (key == S.MODEL_TARGET)
            score += 2 * bool(value.index.equals(X.index))
            if score:
                scored.append((score, key, value.set_axis(X.index).rename(target)))
        elif isinstance(value, np.ndarray) and value.ndim == 1 and len(value) == n and (
                key in (target, *TARGET_NAMES) or key == S.MODEL_TARGET):
            scored.append((3 + 5 * (key == S.MODEL_TARGET), key, pd.Series(value, index=X.index, name=target)))
    if scored:
        scored.sort(key=lambda t: t[0], reverse=True)
        return scored[0][2]
    for value in namespace.values():
        if isinstance(value, pd.DataFrame) and target in value.columns and X.index.isin(value.index).all():
            return value.loc[X.index, target]
    raise ProjectError(f"cannot find the target `{target}` the estimator was fitted with",
                       "keep it in a top-level variable named `y` or after the target column")


def fresh_copy(est):
    """An unfitted estimator with the same parameters (sklearn's clone), or a copy to re-fit when the
    estimator does not follow sklearn's constructor rules (CatBoost with cat_features, say)."""
    import copy

    from sklearn.base import clone

    try:
        return clone(est)
    except (RuntimeError, TypeError, ValueError):
        return copy.deepcopy(est)


def aligned_rows(raw, X):
    """The data file's rows the notebook's frame was made from (by index), or None when they do not line up.

    The index must point at the same rows: at least half of the columns the two share (the ones the
    notebook did not transform) hold the same values row by row.
    """
    if not raw.index.is_unique or not X.index.isin(raw.index).all():
        return None
    sub = raw.loc[X.index]
    shared = [c for c in X.columns if c in sub.columns][:30]
    same = 0
    for c in shared:
        a, b = X[c], sub[c]
        try:
            same += bool(((a == b) | (a.isna() & b.isna())).all())
        except (TypeError, ValueError):
            continue
    return sub if shared and same >= max(1, len(shared) // 2) else None


def notebook_candidate(namespace: dict[str, Any], raw, module_rel: str, deadline) -> tuple[Candidate, Any, Any]:
    """(candidate, split positions, raw rows aligned with its frame) from the notebook's namespace."""
    from .statsmodels_adapter import statsmodels_results

    if S.MODEL_VARIABLE not in namespace:
        raise ProjectError(f"{module_rel} ran but defined no `{S.MODEL_VARIABLE}`",
                           f"assign the fitted estimator to `{S.MODEL_VARIABLE}`, or run `train --baseline`")
    est = namespace[S.MODEL_VARIABLE]
    results = statsmodels_results(namespace, est)
    if results is not None:
        return statsmodels_candidate(results, namespace, raw, module_rel)
    if not is_sklearn_compatible(est):
        raise ProjectError(unsupported_message(type(est).__module__.split(".")[0], module_rel), exit_code=2)
    X, y = find_frames(namespace, est)
    positions = split_positions(y, S.TASK, time_values_for(X, list(namespace.values()) + [raw]))
    tuned = getattr(est, "best_estimator_", None)  # a search: re-fit the tuned estimator, not the search
    cand = split("notebook", fresh_copy(tuned if tuned is not None else est), X, y, positions,
                 note="the search's best estimator, re-fitted" if tuned is not None else "")
    with deadline("re-fitting the notebook's estimator on the training split"):
        try:
            cand.model.fit(cand.X_train, cand.y_train)
        except Exception as exc:  # the estimator's own error on the split: say so, the baseline still trains
            first = next((line for line in str(exc).splitlines() if line.strip()), "")[:200]
            raise ProjectError(f"re-fitting the notebook's {type(est).__name__} on the training split failed: "
                               f"{type(exc).__name__}: {first}",
                               f"check the model in {module_rel}, or run `python -m {S.PACKAGE} train --baseline`"
                               ) from None
    cand.metrics = evaluate(cand.model, cand.X_test, cand.y_test)
    return cand, positions, aligned_rows(raw, X)


def statsmodels_candidate(results, namespace: dict[str, Any], raw, module_rel: str):
    from statsmodels.tsa.base.tsa_model import TimeSeriesModel

    from .statsmodels_adapter import StatsmodelsModel, statsmodels_frames, statsmodels_is_classifier, statsmodels_refit

    model = results.model
    if isinstance(model, TimeSeriesModel) or not hasattr(model, "endog"):
        raise ProjectError(unsupported_message("statsmodels", module_rel), exit_code=2)
    classifier = statsmodels_is_classifier(model)
    if classifier != (S.TASK == "classification"):
        log.warning("the statsmodels %s model is a %s but the task is %s", type(model).__name__,
                    "classifier" if classifier else "regression", S.TASK)
    X, y, full, columns = statsmodels_frames(results, namespace)
    positions = split_positions(y, S.TASK, time_values_for(X, [full, *namespace.values(), raw]))
    train_pos = positions[0]
    try:
        fitted = statsmodels_refit(results, X.iloc[train_pos], y.iloc[train_pos],
                                   full.iloc[train_pos] if full is not None else None, train_pos, namespace)
    except Exception as exc:
        raise ProjectError(
            f"re-fitting the statsmodels {type(model).__name__} model on the training split failed: "
            f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}",
            f"check the model in {module_rel}, or run `python -m {S.PACKAGE} train --baseline`",
        ) from None
    cand = split("notebook", StatsmodelsModel(fitted, columns, classifier=classifier), X, y, positions)
    cand.metrics = evaluate(cand.model, cand.X_test, cand.y_test)
    return cand, positions, aligned_rows(raw, X)


# --------------------------------------------------------------------------- the baseline
def baseline_candidate(raw, y=None, positions=None) -> Candidate:
    """The baseline on ``raw``'s columns; the target is ``y`` (the notebook's, aligned) or TARGET_SOURCE."""
    note = ""
    if y is None:
        if S.TARGET_SOURCE not in raw.columns:
            raise ProjectError(f"the data file has no target column `{S.TARGET_SOURCE}` for the baseline",
                               "set TARGET_SOURCE in settings.py to the column the target is made from")
        data = raw[raw[S.TARGET_SOURCE].notna()]
        y = data[S.TARGET_SOURCE]
        if S.TARGET_SOURCE != S.TARGET:
            note = f"predicts `{S.TARGET_SOURCE}`, the column `{S.TARGET}` is made from"
    else:
        data = raw
    if positions is not None and len(data) != len(raw):
        positions = None
    cols = raw_feature_columns(data)
    if not cols:
        raise ProjectError("the data file has no feature columns besides the target")
    X = data[cols]
    if positions is None:
        positions = split_positions(y, S.TASK, time_values_for(data, [data]))
        note = "; ".join(filter(None, [note, "own split of the data file"]))
    cand = split("baseline", build_baseline(X), X, y, positions, note)
    cand.model.fit(cand.X_train, cand.y_train)
    cand.metrics = evaluate(cand.model, cand.X_test, cand.y_test)
    return cand


# --------------------------------------------------------------------------- a committed model file
def committed(root: Path, path: Path) -> bool:
    """True when git tracks ``path`` and it is unchanged since the last commit."""
    import subprocess

    try:
        rel = str(path.resolve().relative_to(root.resolve()))
    except ValueError:  # outside the repository: not committed in it
        return False
    try:
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", "--", rel], cwd=root, capture_output=True)
        clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", rel], cwd=root, capture_output=True)
    except OSError:
        return False
    return tracked.returncode == 0 and clean.returncode == 0


def load_model_file(path: Path):
    """The estimator in a model file (joblib, pickle or cloudpickle; XGBoost/CatBoost native files)."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".ubj") or suffix == ".cbm":
        if suffix == ".cbm":
            import catboost as lib

            cls = lib.CatBoostClassifier if S.TASK == "classification" else lib.CatBoostRegressor
        else:
            import xgboost as lib

            cls = lib.XGBClassifier if S.TASK == "classification" else lib.XGBRegressor
        model = cls()
        model.load_model(str(path))
        return model
    try:
        import joblib

        return joblib.load(path)  # reads plain pickles too
    except ImportError:
        import pickle

        with open(path, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - a committed file of the project; see `train --help`


def file_candidate(root: Path, path: Path, raw) -> Candidate:
    """The model in a committed file, evaluated on the held-out split of the data file (no re-fit)."""
    if not path.is_file():
        raise ProjectError(f"model file not found: {path}", "pass --from-file PATH of a committed model file")
    if not committed(root, path):
        raise ProjectError(
            f"{path.name} is not committed in git (or has uncommitted changes); loading a model file runs code, "
            "so train only loads files committed in the repository",
            f"review and commit it (`git add {path.name}`), then run train --from-file again",
        )
    try:
        model = load_model_file(path)
    except Exception as exc:
        raise ProjectError(f"cannot load {path.name}: {type(exc).__name__}: {str(exc)[:200]}",
                           "is it the model the notebook saved, with the libraries it needs installed?") from None
    if not hasattr(model, "predict"):
        raise ProjectError(f"{path.name} holds a {type(model).__name__}, not a model with predict()")
    if S.TARGET_SOURCE not in raw.columns:
        raise ProjectError(f"the data file has no target column `{S.TARGET_SOURCE}` to evaluate {path.name} on")
    data = raw[raw[S.TARGET_SOURCE].notna()]
    names = feature_names(model) or raw_feature_columns(data)
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise ProjectError(f"{path.name} expects column(s) the data file does not have: {', '.join(missing[:8])}",
                           "the model was fitted on a frame the notebook derives; train it with `train` instead")
    y = data[S.TARGET_SOURCE]
    classes = getattr(model, "classes_", None)
    if S.TASK == "classification" and classes is not None and not set(y.unique().tolist()) <= set(list(classes)):
        shown = ", ".join(map(str, list(classes)[:6]))
        raise ProjectError(
            f"{path.name} predicts {shown}, but `{S.TARGET_SOURCE}` of the data file holds other values: it was "
            f"trained on the target the notebook derives (`{S.TARGET}`)",
            "register it with `train` instead, which runs the notebook and derives the target as it does",
        )
    positions = split_positions(y, S.TASK, time_values_for(data, [data]))
    cand = split("file", model, data[names], y, positions,
                 note=f"{path.name} as committed, not re-fitted: if it was fitted on these rows its metrics "
                      "are optimistic")
    cand.metrics = evaluate(model, cand.X_test, cand.y_test)
    return cand
