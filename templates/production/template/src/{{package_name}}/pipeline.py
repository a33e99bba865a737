"""Training: run the notebook module, hold out a test split, compare with a simple baseline, log both.

`python -m <package> train` runs the notebook-derived module with the project root as the working
directory, takes the fitted estimator it leaves in ``settings.MODEL_VARIABLE``, finds the feature
frame and target it was fitted on, re-fits a clone on a training split and scores it on a held-out
split next to a baseline (impute + scale + one-hot + linear model on the raw data file). The better of
the two is registered with the alias ``challenger``.
"""

from __future__ import annotations

import math
import os
import runpy
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S

ID_NAMES = frozenset({"id", "index", "uuid", "key", "row_id", "rowid", "unnamed: 0"})
TARGET_NAMES = ("y", "y_all", "y_full", "labels", "label", "target")
UNSUPPORTED_FRAMEWORKS = frozenset({"torch", "keras", "tensorflow"})


class TrainError(Exception):
    """A training failure with a one-line message, a hint and an exit code."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


@dataclass
class Candidate:
    kind: str  # "notebook" | "baseline"
    model: Any
    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    X_all: Any
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""


# --------------------------------------------------------------------------- data
def load_table(path: str | os.PathLike[str]):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise TrainError(f"data file not found: {p}", "put the training data there or fix data_path")
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if suffix in (".tsv", ".tab"):
        return pd.read_csv(p, sep="\t")
    if suffix == ".json":
        return pd.read_json(p)
    if suffix == ".jsonl":
        return pd.read_json(p, lines=True)
    return pd.read_csv(p)


def looks_like_id(name: str, series) -> bool:
    lname = str(name).strip().lower()
    named = lname in ID_NAMES or lname.endswith(("_id", "_uuid", "_key"))
    unique = len(series) > 0 and series.nunique(dropna=False) == len(series)
    if named and unique:
        return True
    import pandas as pd

    # Free text / identifiers: a non-numeric column with one value per row.
    return unique and len(series) > 50 and not pd.api.types.is_numeric_dtype(series)


def raw_feature_columns(df, target: str = S.TARGET, time_column: str = S.TIME_COLUMN) -> list[str]:
    """All columns of the data file except the target, the time column and obvious ids."""
    return [c for c in df.columns if c != target and c != time_column and not looks_like_id(c, df[c])]


def build_baseline(X, task: str = S.TASK):
    """A deliberately simple, well-understood model on the raw columns."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    steps = []
    if numeric:
        steps.append(
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric)
        )
    if categorical:
        steps.append(
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=30),
                        ),
                    ]
                ),
                categorical,
            )
        )
    pre = ColumnTransformer(steps, remainder="drop")
    est = LogisticRegression(max_iter=1000) if task == "classification" else Ridge(alpha=1.0)
    return Pipeline([("preprocess", pre), ("model", est)])


def categorical_as_object(X):
    """Categorical columns as object dtype: the imputer and encoder treat them uniformly."""
    import pandas as pd

    out = X.copy()
    for c in out.columns:
        s = out[c]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[c] = s.astype(object).where(s.notna(), None)
    return out


# --------------------------------------------------------------------------- notebook
def _cell_of(path: Path, lineno: int) -> int:
    """1-based index of the py:percent cell holding `lineno` (0 when there are no markers)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[:lineno]
    except OSError:
        return 0
    return sum(1 for line in lines if line.lstrip().startswith("# %%"))


def run_notebook(path: Path, root: Path) -> dict[str, Any]:
    """Run the notebook module as a script in a scratch working directory; return its namespace.

    The module reads the project's data through `_data("...")`, anchored at the project root, so it
    needs no particular working directory. Running it in a throw-away folder means whatever the
    notebook writes with relative paths (`df.to_csv("train.csv")`, `joblib.dump(model, "model.pkl")`,
    even `"../x.pkl"`) lands there and is deleted afterwards: training never changes your files.
    """
    import shutil
    import tempfile

    if not path.is_file():
        raise TrainError(
            f"notebook module not found: {path}",
            f"run `python -m {S.PACKAGE} train --baseline` or re-run `shipyard adopt`",
        )
    old_cwd, old_argv = os.getcwd(), sys.argv[:]
    os.environ.setdefault("MPLBACKEND", "Agg")
    scratch = Path(tempfile.mkdtemp(prefix=f"{S.PACKAGE}-notebook-run-"))
    try:
        (scratch / "work").mkdir()
        os.chdir(scratch / "work")
        sys.argv = [str(path)]
        return runpy.run_path(str(path), run_name="__shipyard_train__")
    except SystemExit as exc:
        raise TrainError(
            f"{_rel(path, root)}: the notebook code called exit({exc.code})",
            f"remove the exit, or run `python -m {S.PACKAGE} train --baseline`",
        ) from None
    except Exception as exc:  # the notebook's own error: report where it happened
        lineno = 0
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename).resolve() == path.resolve():
                lineno = frame.lineno or 0
        cell = _cell_of(path, lineno)
        where = f"{_rel(path, root)}:{lineno}" + (f" (cell {cell})" if cell else "")
        first = (str(exc).splitlines() or [""])[0][:200]
        hint = f"fix the code there, or run `python -m {S.PACKAGE} train --baseline` to train the baseline alone"
        if isinstance(exc, FileNotFoundError):
            hint = ("the module runs in a scratch folder: read project files through _data('path/from/root'), "
                    "as adoption did for the data it found; " + hint)
        raise TrainError(f"notebook module failed at {where}: {type(exc).__name__}: {first}", hint) from None
    finally:
        os.chdir(old_cwd)
        sys.argv = old_argv
        shutil.rmtree(scratch, ignore_errors=True)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


FRAMEWORK_NAMES = {"torch": "PyTorch", "keras": "Keras", "tensorflow": "Keras", "statsmodels": "statsmodels"}


def unsupported_message(kind: str, module_rel: str) -> str:
    """Exactly what to write, and where, for a model `train` cannot re-fit by itself."""
    name = FRAMEWORK_NAMES.get(kind, kind)
    variable = S.MODEL_VARIABLE or "model"
    proba = (
        "        def predict_proba(self, X: pandas.DataFrame) -> numpy.ndarray  # (n_rows, n_classes)\n"
        if S.TASK == "classification"
        else ""
    )
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


def _is_sklearn_compatible(est) -> bool:
    return all(hasattr(est, a) for a in ("fit", "predict", "get_params"))


def find_feature_frame(namespace: dict[str, Any], estimator):
    """The DataFrame the estimator was fitted on: columns equal `feature_names_in_`, the longest."""
    import pandas as pd

    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        raise TrainError(
            "the estimator has no feature_names_in_: it was fitted on an array, so the feature frame cannot be found",
            f"fit it on a pandas DataFrame in the notebook, or run `python -m {S.PACKAGE} train --baseline`",
        )
    wanted = [str(n) for n in names]
    exact, same, superset = [], [], []
    for key, value in namespace.items():
        if key.startswith("_") or not isinstance(value, pd.DataFrame):
            continue
        cols = [str(c) for c in value.columns]
        if cols == wanted:
            exact.append((len(value), key, value))
        elif set(cols) == set(wanted):
            same.append((len(value), key, value[wanted]))
        elif set(wanted) <= set(cols):
            superset.append((len(value), key, value[wanted]))
    for group in (exact, same, superset):
        if group:
            group.sort(key=lambda t: t[0], reverse=True)
            return group[0][1], group[0][2]
    raise TrainError(
        f"no DataFrame in the notebook's namespace has the estimator's columns {wanted[:6]}...",
        f"keep the feature frame in a top-level variable, or run `python -m {S.PACKAGE} train --baseline`",
    )


def find_target(namespace: dict[str, Any], X, target: str = S.TARGET):
    """The target the estimator was fitted with: a Series/array as long as X named like the target."""
    import numpy as np
    import pandas as pd

    n = len(X)
    scored = []
    for key, value in namespace.items():
        if key.startswith("_"):
            continue
        if isinstance(value, pd.Series) and len(value) == n:
            score = 0
            if value.name == target:
                score += 4
            if key in (target, *TARGET_NAMES):
                score += 3
            if value.index.equals(X.index):
                score += 2
            if score:
                scored.append((score, key, value.set_axis(X.index)))
        elif isinstance(value, np.ndarray) and value.ndim == 1 and len(value) == n:
            if key in (target, *TARGET_NAMES):
                scored.append((3, key, pd.Series(value, index=X.index, name=target)))
    if scored:
        scored.sort(key=lambda t: t[0], reverse=True)
        return scored[0][2]
    for value in namespace.values():
        if isinstance(value, pd.DataFrame) and target in value.columns and X.index.isin(value.index).all():
            return value.loc[X.index, target]
    raise TrainError(
        f"cannot find the target `{target}` the estimator was fitted with",
        "keep it in a top-level variable named `y` or after the target column",
    )


# --------------------------------------------------------------------------- statsmodels
def _is_statsmodels(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "statsmodels"


def statsmodels_results(namespace: dict[str, Any], obj):
    """The fitted results of a statsmodels object: `obj` itself, the results of model `obj`, or None."""
    if not _is_statsmodels(obj):
        return None
    if hasattr(obj, "params") and hasattr(obj, "model"):
        return obj
    if hasattr(obj, "fit") and hasattr(obj, "endog"):  # an unfitted model: prefer its results in the notebook
        for key, value in namespace.items():
            if not key.startswith("_") and _is_statsmodels(value) and getattr(value, "model", None) is obj:
                if hasattr(value, "params"):
                    return value
        return obj.fit(**_fit_kwargs(obj))
    return None


def _fit_kwargs(model) -> dict[str, Any]:
    from statsmodels.discrete.discrete_model import DiscreteModel

    return {"disp": 0} if isinstance(model, DiscreteModel) else {}


def statsmodels_is_classifier(model) -> bool:
    """Binary-outcome models: Logit, Probit, GLM with a Binomial family."""
    from statsmodels.discrete.discrete_model import BinaryModel

    if isinstance(model, BinaryModel):
        return True
    family = getattr(model, "family", None)
    return family is not None and type(family).__name__ == "Binomial"


def formula_columns(formula: str, columns: list[str]) -> list[str] | None:
    """Data columns used on the right-hand side of a patsy/formulaic formula (None: cannot tell)."""
    import ast
    import re

    lhs, sep, rhs = formula.partition("~")
    if not sep:
        return None
    found = set(re.findall(r"`([^`]+)`", rhs))  # formulaic quoting
    rhs = re.sub(r"`[^`]+`", "1", rhs)
    if re.search(r"(^|[\s+*:(])\.($|[\s+*:)-])", rhs):  # `y ~ .`: every other column
        lhs_names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", lhs))
        return [c for c in columns if c not in lhs_names]
    try:
        tree = ast.parse(rhs.replace(":", "*").strip() or "1", mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Q"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return [c for c in columns if str(c) in found]


class StatsmodelsModel:
    """A fitted statsmodels results object behind the estimator interface `evaluate` uses.

    Formula models predict from the raw columns (the formula rebuilds the design); array models
    (`sm.OLS(y, X)`) get their constant column back (`const`) and their exog order.
    """

    framework = "statsmodels"

    def __init__(self, results, columns: list[str], *, classifier: bool) -> None:
        self.results = results
        self.columns = list(columns)
        self.classifier = classifier
        model = results.model
        self.formula = getattr(model, "formula", None)
        self.exog_names = [str(n) for n in (getattr(model, "exog_names", None) or [])]
        self.constant = None
        if not self.formula and getattr(model, "k_constant", 0) and getattr(model.data, "const_idx", None) is not None:
            name = self.exog_names[int(model.data.const_idx)]
            if name not in self.columns:
                self.constant = name
        if classifier:
            self.classes_ = __import__("numpy").array([0, 1])

    @property
    def name(self) -> str:
        return f"{type(self.results.model).__name__}({'formula' if self.formula else 'arrays'})"

    def info(self) -> dict[str, Any]:
        """What serving needs besides the pickled results (stored in the MLmodel metadata)."""
        return {
            "formula": self.formula or "",
            "columns": self.columns,
            "exog_names": [] if self.formula else self.exog_names,
            "constant": self.constant or "",
            "classifier": self.classifier,
        }

    def raw_predict(self, X):
        return statsmodels_predict(self.results, X, self.info())

    def predict(self, X):
        import numpy as np

        p = self.raw_predict(X)
        if not self.classifier:
            return p
        labels = (p >= 0.5).astype(int)
        return labels if np.isfinite(p).all() else np.where(np.isfinite(p), labels, np.nan)

    def predict_proba(self, X):
        import numpy as np

        p = self.raw_predict(X)
        return np.column_stack([1 - p, p])


def statsmodels_predict(results, X, info: dict[str, Any]):
    """1-D float predictions (P(positive) for binary models), NaN where a row could not be scored."""
    import numpy as np
    import pandas as pd

    if info.get("formula"):
        out = results.predict(X)
    else:
        frame = X.astype(float)
        if info.get("constant"):
            frame = frame.assign(**{info["constant"]: 1.0})
        names = info.get("exog_names") or list(frame.columns)
        out = results.predict(frame[names])
    if isinstance(out, pd.Series):
        out = out.reindex(X.index) if out.index.is_unique and len(out) != len(X) else out.to_numpy()
    out = np.asarray(out, dtype=float)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return out


def _split_kwds(model, positions, n: int) -> dict[str, Any]:
    """The model's constructor keywords, 1-D per-row arrays (weights, offsets) cut to `positions`."""
    import numpy as np

    kwds = {}
    try:
        raw = dict(model._get_init_kwds())
    except Exception:
        raw = {}
    for key, value in raw.items():
        if key in ("formula", "missing_idx", "model_spec") or value is None:
            continue
        if isinstance(value, np.ndarray | list | tuple) or hasattr(value, "to_numpy"):
            arr = np.asarray(value)
            if arr.ndim == 1 and len(arr) == n:
                if (arr == 1).all():
                    continue  # the default weights
                kwds[key] = arr[positions]
                continue
            print(f"warning: statsmodels keyword `{key}` is not per-row data; dropped for the re-fit", file=sys.stderr)
            continue
        kwds[key] = value
    return kwds


def statsmodels_frames(results, namespace: dict[str, Any]):
    """(raw feature frame, target, full data frame or None, feature columns) of a fitted statsmodels model."""
    import re

    import numpy as np
    import pandas as pd

    model = results.model
    endog = np.asarray(model.endog)
    if endog.ndim != 1:
        raise TrainError(
            f"the statsmodels model {type(model).__name__} has a {endog.ndim}-D outcome; "
            "`train` handles one outcome column",
            "",
            exit_code=2,
        )
    formula = getattr(model, "formula", None)
    data = model.data
    if formula:
        frame = getattr(data, "frame", None)
        if not isinstance(frame, pd.DataFrame):
            raise TrainError("the statsmodels formula model was not fitted on a pandas DataFrame", exit_code=2)
        rows = data.row_labels if getattr(data, "row_labels", None) is not None else frame.index
        full = frame.loc[rows]
        lhs = formula.split("~", 1)[0]
        candidates = []
        parsed = formula_columns(formula, [str(c) for c in frame.columns])
        if parsed:
            candidates.append(parsed)
        lhs_names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", lhs)) | {S.TARGET}
        candidates.append([c for c in frame.columns if str(c) not in lhs_names])
        for cols in candidates:
            try:
                probe = np.asarray(results.predict(full[cols].head(20)), dtype=float)
            except Exception:
                continue
            if probe.ndim == 1 and len(probe) == min(20, len(full)):
                X = full[cols]
                break
        else:
            raise TrainError(f"cannot tell which columns the formula `{formula}` uses", exit_code=2)
    else:
        exog = data.orig_exog
        names = [str(n) for n in model.exog_names]
        if isinstance(exog, pd.DataFrame):
            X = exog.loc[data.row_labels] if getattr(data, "row_labels", None) is not None else exog
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        else:
            X = pd.DataFrame(np.asarray(model.exog), columns=names)
        const_idx = getattr(data, "const_idx", None)
        if getattr(model, "k_constant", 0) and const_idx is not None:
            X = X.drop(columns=[names[int(const_idx)]], errors="ignore")
        full = None
    y = pd.Series(endog, index=X.index, name=S.TARGET)
    if statsmodels_is_classifier(model) and np.isin(endog, (0, 1)).all():
        y = y.astype(int)
    return X, y, full, list(X.columns)


def statsmodels_refit(results, X_train, y_train, full_train, positions, namespace: dict[str, Any]):
    """Fit the same statsmodels model (formula or arrays, same options) on the training split."""
    import pandas as pd

    model = results.model
    cls = type(model)
    kwds = _split_kwds(model, positions, len(model.endog))
    formula = getattr(model, "formula", None)
    if formula:
        env = {k: v for k, v in namespace.items() if not k.startswith("__")}
        try:
            new = cls.from_formula(formula, data=full_train, eval_env=env, **kwds)
        except TypeError:
            new = cls.from_formula(formula, data=full_train, **kwds)
    else:
        exog = X_train.astype(float)
        names = [str(n) for n in model.exog_names]
        const_idx = getattr(model.data, "const_idx", None)
        if getattr(model, "k_constant", 0) and const_idx is not None and names[int(const_idx)] not in exog.columns:
            exog = exog.assign(**{names[int(const_idx)]: 1.0})
        exog = exog[names] if set(names) <= set(exog.columns) else exog
        new = cls(pd.Series(y_train).astype(float), exog, **kwds)
    return new.fit(**_fit_kwargs(new))


def statsmodels_candidate(results, namespace: dict[str, Any], raw, module_rel: str):
    from statsmodels.tsa.base.tsa_model import TimeSeriesModel

    model = results.model
    if isinstance(model, TimeSeriesModel) or not hasattr(model, "endog"):
        raise TrainError(unsupported_message("statsmodels", module_rel), exit_code=2)
    classifier = statsmodels_is_classifier(model)
    if classifier != (S.TASK == "classification"):
        print(
            f"warning: the statsmodels {type(model).__name__} model is a "
            f"{'classifier' if classifier else 'regression'} but the task is {S.TASK}",
            file=sys.stderr,
        )
    X, y, full, columns = statsmodels_frames(results, namespace)
    times = time_values_for(X, [full, *namespace.values(), raw])
    train_pos, test_pos = split_positions(y, S.TASK, times)
    X_train, X_test = X.iloc[train_pos], X.iloc[test_pos]
    y_train, y_test = y.iloc[train_pos], y.iloc[test_pos]
    try:
        fitted = statsmodels_refit(
            results, X_train, y_train, full.iloc[train_pos] if full is not None else None, train_pos, namespace
        )
    except Exception as exc:
        raise TrainError(
            f"re-fitting the statsmodels {type(model).__name__} model on the training split failed: "
            f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}",
            f"check the model in {module_rel}, or run `python -m {S.PACKAGE} train --baseline`",
        ) from None
    est = StatsmodelsModel(fitted, columns, classifier=classifier)
    cand = Candidate("notebook", est, X_train, X_test, y_train, y_test, X)
    cand.metrics = evaluate(est, X_test, y_test)
    return cand, (train_pos, test_pos), _aligned_raw(raw, X, y, S.TARGET)


def model_label(model) -> str:
    """A short name for tables, params and tags."""
    if isinstance(model, StatsmodelsModel):
        return model.name
    if hasattr(model, "steps"):
        return f"Pipeline[{type(model.steps[-1][1]).__name__}]"
    return type(model).__name__


# --------------------------------------------------------------------------- split + metrics
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
        print(f"warning: time column `{time_column}` not found; using a random split", file=sys.stderr)
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


def comparison_table(candidates: list[Candidate]) -> str:
    keys: list[str] = []
    for c in candidates:
        keys += [k for k in c.metrics if k not in keys]
    keys.sort(key=lambda k: (k != S.PRIMARY_METRIC, k))
    header = f"{'candidate':<10} {'model':<36} " + " ".join(f"{k:>10}" for k in keys)
    lines = [header, "-" * len(header)]
    for c in candidates:
        name = model_label(c.model)
        vals = " ".join(f"{c.metrics.get(k, float('nan')):>10.4f}" for k in keys)
        lines.append(f"{c.kind:<10} {name[:36]:<36} {vals}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- candidates
def _aligned_raw(raw, X, y, target: str):
    """Raw rows matching the notebook's feature frame, or None when they do not line up."""
    import pandas as pd

    if not X.index.isin(raw.index).all() or not raw.index.is_unique:
        return None
    sub = raw.loc[X.index]
    shared = [c for c in X.columns if c in sub.columns]
    for c in shared[:20]:
        a, b = X[c], sub[c]
        try:
            same = ((a == b) | (a.isna() & b.isna())).all()
        except (TypeError, ValueError):
            same = False
        if not same:
            return None
    if not shared:
        try:
            if not (pd.Series(y).to_numpy() == sub[target].to_numpy()).all():
                return None
        except (TypeError, ValueError):
            return None
    return sub


def notebook_candidate(settings: S.Settings, raw) -> tuple[Candidate | None, Any, Any]:
    """Run the notebook; returns (candidate, positions, raw rows aligned with it)."""
    from sklearn.base import clone

    module_rel = _rel(settings.notebook_module_path, settings.root)
    if S.MODEL_FRAMEWORK in UNSUPPORTED_FRAMEWORKS:
        raise TrainError(unsupported_message(S.MODEL_FRAMEWORK, module_rel), exit_code=2)
    ns = run_notebook(settings.notebook_module_path, settings.root)
    if S.MODEL_VARIABLE not in ns:
        raise TrainError(
            f"{module_rel} ran but defined no `{S.MODEL_VARIABLE}`",
            f"assign the fitted estimator to `{S.MODEL_VARIABLE}` or run `python -m {S.PACKAGE} train --baseline`",
        )
    est = ns[S.MODEL_VARIABLE]
    results = statsmodels_results(ns, est)
    if results is not None:
        return statsmodels_candidate(results, ns, raw, module_rel)
    if not _is_sklearn_compatible(est):
        raise TrainError(unsupported_message(type(est).__module__.split(".")[0], module_rel), exit_code=2)
    _, X = find_feature_frame(ns, est)
    y = find_target(ns, X)
    times = time_values_for(X, [v for v in ns.values()] + [raw])
    train_pos, test_pos = split_positions(y, S.TASK, times)
    model = clone(est)
    X_train, X_test = X.iloc[train_pos], X.iloc[test_pos]
    y_train, y_test = y.iloc[train_pos], y.iloc[test_pos]
    model.fit(X_train, y_train)
    cand = Candidate("notebook", model, X_train, X_test, y_train, y_test, X)
    cand.metrics = evaluate(model, X_test, y_test)
    return cand, (train_pos, test_pos), _aligned_raw(raw, X, y, S.TARGET)


def baseline_candidate(raw, positions=None) -> Candidate:
    target = S.TARGET
    data = raw[raw[target].notna()]
    cols = raw_feature_columns(data)
    if not cols:
        raise TrainError("the data file has no feature columns besides the target")
    X = categorical_as_object(data[cols])
    y = data[target]
    note = ""
    if positions is not None and len(data) != len(raw):
        positions = None
    if positions is None:
        times = time_values_for(data, [data])
        positions = split_positions(y, S.TASK, times)
        note = "own split of the data file"
    train_pos, test_pos = positions
    model = build_baseline(X)
    X_train, X_test = X.iloc[train_pos], X.iloc[test_pos]
    y_train, y_test = y.iloc[train_pos], y.iloc[test_pos]
    model.fit(X_train, y_train)
    cand = Candidate("baseline", model, X_train, X_test, y_train, y_test, X, note=note)
    cand.metrics = evaluate(model, X_test, y_test)
    return cand


@dataclass
class TrainResult:
    candidates: list[Candidate]
    chosen: Candidate
    version: str | None
    run_ids: dict[str, str]
    table: str


def train(
    settings: S.Settings | None = None,
    *,
    baseline_only: bool = False,
    sample: int | None = None,
    register: bool = True,
    echo=print,
) -> TrainResult:
    """Train the candidates, log them to MLflow, register the best as `challenger`."""
    settings = settings or S.Settings.load()
    raw = load_table(settings.data_path)
    if S.TARGET not in raw.columns:
        raise TrainError(f"target column `{S.TARGET}` is not in {settings.data_path.name}")
    if sample and len(raw) > sample:
        raw = raw.sample(n=sample, random_state=S.SEED)
    candidates: list[Candidate] = []
    positions = None
    aligned = None
    if not baseline_only:
        if not S.MODEL_VARIABLE:
            echo("no notebook model (model_variable is empty): training the baseline only")
        elif not settings.notebook_module_path.is_file():
            echo(f"notebook module {settings.notebook_module_path.name} is missing: training the baseline only")
        else:
            nb, positions, aligned = notebook_candidate(settings, raw)
            candidates.append(nb)
    if candidates and aligned is not None:
        base = baseline_candidate(aligned, positions)
    else:
        base = baseline_candidate(raw)
    candidates.append(base)
    # The notebook model must be strictly better than the baseline to be chosen.
    chosen = candidates[0]
    if len(candidates) == 2 and score_of(base.metrics) >= score_of(candidates[0].metrics):
        chosen = base
    table = comparison_table(candidates)
    echo(table)
    if len(candidates) == 2:
        verdict = (
            "the notebook model beats" if chosen.kind == "notebook" else "the simpler baseline is at least as good as"
        )
        other = "the baseline" if chosen.kind == "notebook" else "the notebook model"
        echo(f"{S.PRIMARY_METRIC}: {verdict} {other}")
    if not register:
        return TrainResult(candidates, chosen, None, {}, table)
    from . import registry

    version, run_ids = registry.log_and_register(settings, candidates, chosen)
    echo(f"registered {settings.model_name} version {version} ({chosen.kind}) with alias `challenger`")
    echo(f"next: python -m {S.PACKAGE} promote")
    return TrainResult(candidates, chosen, version, run_ids, table)
