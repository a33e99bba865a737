"""statsmodels behind the estimator interface training uses: fitted results in, `predict` out.

Formula models (`smf.ols("y ~ a + C(b)", data=df).fit()`) predict from the raw columns (the formula
rebuilds the design); array models (`sm.OLS(y, X).fit()`) get their constant column back and their
exog order. `statsmodels_frames` recovers the rows a model was fitted on, `statsmodels_refit` fits the
same model with the same options on the training split.
"""

from __future__ import annotations

import logging
from typing import Any

from . import settings as S
from .errors import ProjectError

log = logging.getLogger(__name__)


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
            log.warning("statsmodels keyword `%s` is not per-row data; dropped for the re-fit", key)
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
        raise ProjectError(
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
            raise ProjectError("the statsmodels formula model was not fitted on a pandas DataFrame", exit_code=2)
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
            raise ProjectError(f"cannot tell which columns the formula `{formula}` uses", exit_code=2)
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


