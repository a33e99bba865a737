"""A model in MLflow: logged with its flavour and request schema, loaded back as a `Bundle` to serve.

Flavours: scikit-learn compatible estimators (scikit-learn, LightGBM, XGBoost, CatBoost and any other
estimator with fit/predict/get_params) use MLflow's sklearn flavour, stored with skops, or with
cloudpickle when skops cannot store them; statsmodels results use MLflow's statsmodels flavour; any
other object with `predict` goes through a pyfunc wrapper (cloudpickle). The request schema and a
few example rows are stored in the model's metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S
from .errors import ProjectError
from .schema import RequestSchema

log = logging.getLogger(__name__)
PROFILE_FILE = "reference_profile.json"


# --------------------------------------------------------------------------- logging
def _dist_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _uses(model, prefix: str) -> bool:
    seen = [model] + ([s for _, s in model.steps] if hasattr(model, "steps") else [])
    return any(type(m).__module__.split(".")[0] == prefix for m in seen) or prefix in repr(model)[:2000]


def pip_requirements(model, base: list[str]) -> list[str]:
    """Explicit requirements (MLflow's own inference imports the model and takes seconds)."""
    dists = list(base)
    for prefix in ("lightgbm", "xgboost", "catboost"):
        if model is not None and _uses(model, prefix):
            dists.append(prefix)
    reqs = []
    for dist in dists:
        version = _dist_version(dist)
        reqs.append(f"{dist}=={version}" if version else dist)
    import re

    def name(requirement: str) -> str:
        return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()

    names = {name(r) for r in reqs}
    return reqs + [r for r in S.EXTRA_REQUIREMENTS if name(r) not in names]


def _signature(X, preds):
    import warnings

    from mlflow.models import infer_signature

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the integer-columns hint: the request schema casts
            return infer_signature(X, preds)
    except Exception:  # dtypes MLflow cannot describe: the request schema still does
        return None


def _example_serialises(X) -> bool:
    """MLflow's input example: a frame of plain numbers, strings and booleans (categories and dates are
    stored as request_example rows in the metadata instead)."""
    from pandas.api import types as t

    return all(t.is_numeric_dtype(X[c]) or t.is_bool_dtype(X[c]) or t.is_object_dtype(X[c])
               or t.is_string_dtype(X[c]) for c in X.columns) and not any(str(X[c].dtype) == "category"
                                                                         for c in X.columns)


def _pyfunc(model):
    import mlflow.pyfunc

    class NotebookModel(mlflow.pyfunc.PythonModel):
        """Any object with predict(DataFrame), served through pyfunc."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def predict(self, context, model_input, params=None):  # noqa: ARG002
            return self.inner.predict(model_input)

    return NotebookModel(model)


def log_model(cand, schema: RequestSchema, preds, profile_path: Path, by_value: list[str]) -> tuple[Any, str]:
    """Log the chosen candidate's model in the active run; (model info, serialization)."""
    import sys

    import mlflow

    metadata: dict[str, Any] = {"task": S.TASK, "package": S.PACKAGE, "request_schema": schema.to_dict(),
                                "request_example": schema.records(cand.X_all, 5), "candidate": cand.kind}
    signature = _signature(cand.X_train.head(200), preds[:200])
    example = cand.X_train.head(5) if _example_serialises(cand.X_train.head(5)) else None
    common = dict(name="model", signature=signature, input_example=example, extra_files=[str(profile_path)],
                  metadata=metadata)
    if getattr(cand.model, "framework", "") == "statsmodels":
        import mlflow.statsmodels

        metadata["statsmodels"] = cand.model.info()
        if not metadata["statsmodels"]["formula"]:
            common["input_example"] = None  # an array model's pyfunc needs the constant column the frame lacks
        reqs = pip_requirements(None, ["mlflow-skinny", "statsmodels", "numpy", "pandas", "scipy", "patsy"])
        return mlflow.statsmodels.log_model(cand.model.results, pip_requirements=reqs, **common), "pickle"
    import cloudpickle

    for name in by_value:  # the repo's own modules the model's classes come from: stored with the model
        if name in sys.modules:
            cloudpickle.register_pickle_by_value(sys.modules[name])
    base = ["mlflow-skinny", "scikit-learn", "numpy", "pandas", "scipy"]
    if not hasattr(cand.model, "get_params"):
        reqs = pip_requirements(cand.model, base + ["cloudpickle"])
        return mlflow.pyfunc.log_model(python_model=_pyfunc(cand.model), pip_requirements=reqs, **common), "pyfunc"
    import mlflow.sklearn

    try:
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(cand.model))
        return mlflow.sklearn.log_model(cand.model, serialization_format="skops", skops_trusted_types=trusted,
                                        pip_requirements=pip_requirements(cand.model, base + ["skops"]),
                                        **common), "skops"
    except Exception as exc:  # custom functions/classes skops cannot store
        log.warning("skops cannot store this model (%s); using cloudpickle", str(exc)[:160])
        return mlflow.sklearn.log_model(cand.model, serialization_format="cloudpickle",
                                        pip_requirements=pip_requirements(cand.model, base + ["cloudpickle"]),
                                        **common), "cloudpickle"


# --------------------------------------------------------------------------- loading
@dataclass
class Bundle:
    """A loaded model with what serving, batch scoring and drift need."""

    model: Any
    name: str
    version: str
    flavor: str
    schema: RequestSchema
    profile: dict[str, Any] | None = None
    classes: list[Any] | None = None
    has_proba: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    example: list[dict[str, Any]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return self.schema.names

    def predict(self, frame):
        """(predictions, probabilities or None) as numpy arrays."""
        import numpy as np

        if self.flavor == "statsmodels":
            from .statsmodels_adapter import statsmodels_predict

            p = statsmodels_predict(self.model, frame, self.extra)
            if not self.has_proba:
                return p, None
            labels = (p >= 0.5).astype(int)
            if not np.isfinite(p).all():
                labels = np.where(np.isfinite(p), labels, np.nan)
            return labels, np.column_stack([1 - p, p])
        if self.has_proba:
            proba = np.asarray(self.model.predict_proba(frame))
            return np.asarray(self.classes)[proba.argmax(axis=1)], proba
        out = self.model.predict(frame)
        out = np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        return out, None

    def frame_from_df(self, df):
        """A scoring file's columns, cast to the training dtypes."""
        try:
            return self.schema.frame_from_df(df)
        except (ValueError, TypeError) as exc:
            raise ProjectError(f"the input does not fit the model's columns: {exc}",
                               "score a file with the training data's columns") from None


def load(local: Path, name: str, version: str) -> Bundle:
    """Load a downloaded model folder: the native flavour when possible, else pyfunc."""
    import json

    from mlflow.models import Model

    meta = Model.load(str(local / "MLmodel"))
    metadata = meta.metadata or {}
    extra: dict[str, Any] = {}
    if "statsmodels" in meta.flavors and isinstance(metadata.get("statsmodels"), dict):
        import mlflow.statsmodels

        model, flavor, extra = mlflow.statsmodels.load_model(str(local)), "statsmodels", dict(metadata["statsmodels"])
    elif "sklearn" in meta.flavors:
        import mlflow.sklearn

        model, flavor = mlflow.sklearn.load_model(str(local)), "sklearn"
    else:
        import mlflow.pyfunc

        model, flavor = mlflow.pyfunc.load_model(str(local)), "pyfunc"
    if isinstance(metadata.get("request_schema"), dict):
        schema = RequestSchema.from_dict(metadata["request_schema"])
    else:
        inputs = meta.get_input_schema()
        if inputs is not None and inputs.has_input_names():
            schema = RequestSchema.from_signature([i.name for i in inputs.inputs],
                                                  [getattr(i.type, "name", str(i.type)) for i in inputs.inputs])
        else:
            cols = [str(x) for x in getattr(model, "feature_names_in_", [])]
            schema = RequestSchema.from_signature(cols, ["string"] * len(cols))
    profile = None
    for path in (local / "extra_files" / PROFILE_FILE, local / PROFILE_FILE):
        if path.is_file():
            profile = json.loads(path.read_text(encoding="utf-8"))
            break
    classes = getattr(model, "classes_", None)
    has_proba = flavor == "sklearn" and S.TASK == "classification" and hasattr(model, "predict_proba") \
        and classes is not None
    if flavor == "statsmodels" and extra.get("classifier"):
        classes, has_proba = [0, 1], True
    return Bundle(model=model, name=name, version=version, flavor=flavor, schema=schema, profile=profile,
                  classes=list(classes) if classes is not None else None, has_proba=has_proba, extra=extra,
                  example=list(metadata.get("request_example") or []))
