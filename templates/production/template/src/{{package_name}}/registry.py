"""MLflow: tracking setup, logging candidates, the model registry (aliases challenger/champion).

- Tracking URI: ``MLFLOW_TRACKING_URI`` wins; default ``sqlite:///<root>/mlflow.db`` with artifacts in
  ``<root>/mlartifacts`` (set explicitly on the experiment when it is created).
- Registered model name: the package name. No stages: aliases ``challenger`` and ``champion``.
- Champion history: registered-model tag ``champion_history`` (JSON list of previous versions).
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings as S

CHALLENGER = "challenger"
CHAMPION = "champion"
HISTORY_TAG = "champion_history"
PROFILE_FILE = "reference_profile.json"
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})


class RegistryError(Exception):
    pass


def client(settings: S.Settings):
    """Point MLflow at the project's tracking store and return an MlflowClient."""
    S.quiet_mlflow()
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri)


def experiment_id(settings: S.Settings, c) -> str:
    exp = c.get_experiment_by_name(settings.experiment_name)
    if exp is not None:
        return exp.experiment_id
    return c.create_experiment(settings.experiment_name, artifact_location=settings.artifact_location)


# --------------------------------------------------------------------------- logging
def _dist_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _uses(model, prefix: str) -> bool:
    seen = [model]
    if hasattr(model, "steps"):
        seen += [s for _, s in model.steps]
    return any(type(m).__module__.split(".")[0] == prefix for m in seen) or prefix in repr(model)[:2000]


def pip_requirements(model, *, skops: bool = True) -> list[str]:
    """Explicit requirements (MLflow's own inference imports the model and takes seconds)."""
    dists = ["mlflow-skinny", "scikit-learn", "numpy", "pandas", "scipy"]
    if skops:
        dists.append("skops")
    else:
        dists.append("cloudpickle")
    for prefix, dist in (("lightgbm", "lightgbm"), ("xgboost", "xgboost"), ("catboost", "catboost")):
        if _uses(model, prefix):
            dists.append(dist)
    reqs = []
    for dist in dists:
        version = _dist_version(dist)
        reqs.append(f"{dist}=={version}" if version else dist)
    names = {r.split("=")[0].lower() for r in reqs}
    reqs += [
        r for r in S.EXTRA_REQUIREMENTS if r.split("=")[0].split("<")[0].split(">")[0].strip().lower() not in names
    ]
    return reqs


def _log_sklearn(model, X_example, pred_example, profile_path: Path):
    import warnings

    import mlflow
    import mlflow.sklearn
    import skops.io
    from mlflow.models import infer_signature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the integer-columns hint: serving casts itself
        signature = infer_signature(X_example, pred_example)
    common = dict(
        name="model",
        signature=signature,
        input_example=X_example.head(5),
        extra_files=[str(profile_path)],
        metadata={"task": S.TASK, "package": S.PACKAGE},
    )
    try:
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        return mlflow.sklearn.log_model(
            model,
            serialization_format="skops",
            skops_trusted_types=trusted,
            pip_requirements=pip_requirements(model, skops=True),
            **common,
        ), "skops"
    except Exception as exc:  # custom functions/classes skops cannot store
        print(
            f"warning: skops cannot serialize this model ({str(exc)[:160]}); using cloudpickle. "
            "Loading it needs MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true (the default)."
        )
        return mlflow.sklearn.log_model(
            model,
            serialization_format="cloudpickle",
            pip_requirements=pip_requirements(model, skops=False),
            **common,
        ), "cloudpickle"


def statsmodels_requirements() -> list[str]:
    """What loading a pickled statsmodels results object needs (formula models re-run patsy/formulaic)."""
    reqs = []
    for dist in ("mlflow-skinny", "statsmodels", "numpy", "pandas", "scipy", "patsy", "formulaic"):
        version = _dist_version(dist)
        if version or dist in ("mlflow-skinny", "statsmodels", "numpy", "pandas", "scipy"):
            reqs.append(f"{dist}=={version}" if version else dist)
    names = {r.split("=")[0].lower() for r in reqs}
    reqs += [
        r for r in S.EXTRA_REQUIREMENTS if r.split("=")[0].split("<")[0].split(">")[0].strip().lower() not in names
    ]
    return reqs


def _log_statsmodels(model, X_example, pred_example, profile_path: Path):
    """MLflow's statsmodels flavour (a pickled results object) plus what serving needs in the metadata."""
    import warnings

    import mlflow.statsmodels
    from mlflow.models import infer_signature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(X_example, pred_example)
    info = model.info()
    example = X_example.head(5) if info["formula"] else None  # array models' pyfunc needs the constant column
    return mlflow.statsmodels.log_model(
        model.results,
        name="model",
        signature=signature,
        input_example=example,
        extra_files=[str(profile_path)],
        metadata={"task": S.TASK, "package": S.PACKAGE, "statsmodels": info},
        pip_requirements=statsmodels_requirements(),
    ), "pickle"


def _clean(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if v is not None and not math.isnan(v)}


def log_and_register(settings: S.Settings, candidates: list, chosen) -> tuple[str, dict[str, str]]:
    """Log one run per candidate (model + profile for the chosen one), register it, alias challenger."""
    import mlflow

    from . import drift
    from .pipeline import StatsmodelsModel, model_label

    c = client(settings)
    exp_id = experiment_id(settings, c)
    baseline = next((k for k in candidates if k.kind == "baseline"), None)
    run_ids: dict[str, str] = {}
    model_uri = None
    serialization = ""
    for cand in candidates:
        params = {
            "candidate": cand.kind,
            "estimator": model_label(cand.model),
            "task": S.TASK,
            "n_train": len(cand.X_train),
            "n_test": len(cand.X_test),
            "n_features": cand.X_all.shape[1],
            "split": "time" if S.TIME_COLUMN else "random",
            "seed": S.SEED,
        }
        if hasattr(cand.model, "steps"):
            params["final_estimator"] = type(cand.model.steps[-1][1]).__name__
        with mlflow.start_run(
            experiment_id=exp_id, run_name=f"{cand.kind}-{params.get('final_estimator', params['estimator'])}"
        ) as run:
            run_ids[cand.kind] = run.info.run_id
            mlflow.log_params(params)
            mlflow.log_metrics(_clean(cand.metrics))
            mlflow.set_tags(
                {
                    "candidate": cand.kind,
                    "chosen": str(cand is chosen).lower(),
                    "notebook_module": S.NOTEBOOK_MODULE,
                    "notebook_path": S.NOTEBOOK_PATH,
                    "data_path": S.DATA_PATH,
                }
            )
            if cand is not chosen:
                continue
            preds, proba = _predict_raw(cand.model, cand.X_all)
            profile = drift.build_profile(cand.X_all, preds, proba, kind=cand.kind)
            with tempfile.TemporaryDirectory() as tmp:
                profile_path = Path(tmp) / PROFILE_FILE
                profile_path.write_text(json.dumps(profile), encoding="utf-8")
                mlflow.log_artifact(str(profile_path))
                log = _log_statsmodels if isinstance(cand.model, StatsmodelsModel) else _log_sklearn
                info, serialization = log(cand.model, cand.X_train.head(200), preds[:200], profile_path)
            model_uri = info.model_uri
    tags = {
        "candidate": chosen.kind,
        "task": S.TASK,
        "primary_metric": S.PRIMARY_METRIC,
        "primary_metric_value": repr(chosen.metrics.get(S.PRIMARY_METRIC, float("nan"))),
        "baseline_metric_value": repr(baseline.metrics.get(S.PRIMARY_METRIC, float("nan"))) if baseline else "nan",
        "serialization": serialization,
        "estimator": model_label(chosen.model),
    }
    mv = mlflow.register_model(model_uri, settings.model_name, tags=tags)
    c.set_registered_model_alias(settings.model_name, CHALLENGER, mv.version)
    return str(mv.version), run_ids


def _predict_raw(model, X):
    import numpy as np

    if S.TASK == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X))
        classes = np.asarray(model.classes_)
        return classes[proba.argmax(axis=1)], proba
    return np.asarray(model.predict(X)), None


# --------------------------------------------------------------------------- promote / rollback
def _version_by_alias(c, name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return c.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _metric(c, mv, metric: str) -> float:
    run = c.get_run(mv.run_id)
    value = run.data.metrics.get(metric)
    if value is None:
        raw = (mv.tags or {}).get("primary_metric_value")
        value = float(raw) if raw not in (None, "") else float("nan")
    return float(value)


def _history(c, name: str) -> list[str]:
    rm = c.get_registered_model(name)
    try:
        return [str(v) for v in json.loads((rm.tags or {}).get(HISTORY_TAG, "[]"))]
    except ValueError:
        return []


def gate() -> tuple[str, float]:
    """Primary metric and floor: OWNERSHIP.yaml `model:` wins over the adoption answers."""
    metric, floor = S.PRIMARY_METRIC, S.METRIC_FLOOR
    from .ownership import load_ownership

    data = load_ownership(S.Settings.load().ownership_path) or {}
    model = data.get("model") if isinstance(data, dict) else None
    if isinstance(model, dict):
        metric = str(model.get("primary_metric") or metric)
        try:
            floor = float(model.get("metric_floor", floor))
        except (TypeError, ValueError):
            pass
    return metric, floor


def _better(a: float, b: float, metric: str) -> bool:
    return (a < b) if metric in S.LOWER_IS_BETTER else (a > b)


def _meets(value: float, floor: float, metric: str) -> bool:
    return (value <= floor) if metric in S.LOWER_IS_BETTER else (value >= floor)


def promote(settings: S.Settings | None = None, echo=print) -> int:
    settings = settings or S.Settings.load()
    c = client(settings)
    name = settings.model_name
    metric, floor = gate()
    challenger = _version_by_alias(c, name, CHALLENGER)
    if challenger is None:
        echo(f"refused: {name} has no `challenger` version; run `python -m {S.PACKAGE} train` first")
        return 1
    champion = _version_by_alias(c, name, CHAMPION)
    if champion is not None and champion.version == challenger.version:
        echo(f"version {challenger.version} is already the champion; nothing to do")
        return 0
    value = _metric(c, challenger, metric)
    reasons = []
    lines = [f"challenger v{challenger.version} ({challenger.tags.get('candidate', '?')}): {metric} = {value:.4f}"]
    if math.isnan(value):
        reasons.append(f"the challenger has no `{metric}` metric")
    if not _meets(value, floor, metric):
        reasons.append(f"{metric} {value:.4f} does not meet the floor {floor:.4f}")
    lines.append(f"floor: {floor:.4f}")
    if challenger.tags.get("candidate") != "baseline":
        base_raw = challenger.tags.get("baseline_metric_value", "nan")
        base = float(base_raw) if base_raw not in ("", None) else float("nan")
        lines.append(f"baseline: {metric} = {base:.4f}")
        if (
            metric == challenger.tags.get("primary_metric")
            and not math.isnan(base)
            and not _better(value, base, metric)
        ):
            reasons.append(f"it does not beat the baseline ({value:.4f} vs {base:.4f})")
    if champion is not None:
        current = _metric(c, champion, metric)
        lines.append(f"champion v{champion.version}: {metric} = {current:.4f}")
        if not math.isnan(current) and not _better(value, current, metric):
            reasons.append(f"it does not beat champion v{champion.version} ({value:.4f} vs {current:.4f})")
    for line in lines:
        echo("  " + line)
    if reasons:
        echo(f"refused: challenger v{challenger.version} stays challenger: " + "; ".join(reasons))
        return 1
    if champion is not None:
        history = _history(c, name) + [str(champion.version)]
        c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-50:]))
    c.set_registered_model_alias(name, CHAMPION, challenger.version)
    c.set_model_version_tag(name, challenger.version, "promoted_from", str(champion.version) if champion else "")
    echo(
        f"promoted: {name} v{challenger.version} is now the champion"
        + (f" (was v{champion.version})" if champion else "")
    )
    return 0


def rollback(settings: S.Settings | None = None, echo=print) -> int:
    settings = settings or S.Settings.load()
    c = client(settings)
    name = settings.model_name
    champion = _version_by_alias(c, name, CHAMPION)
    try:
        history = _history(c, name)
    except Exception:
        history = []
    if champion is None or not history:
        echo(
            f"refused: no previous champion to roll back to for {name}"
            + ("" if champion else " (there is no champion)")
        )
        return 1
    previous = history.pop()
    c.set_registered_model_alias(name, CHAMPION, previous)
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
    c.set_model_version_tag(name, champion.version, "rolled_back", "true")
    echo(f"rolled back: {name} champion v{champion.version} -> v{previous}")
    return 0


# --------------------------------------------------------------------------- loading
@dataclass
class Bundle:
    """A loaded model with what serving, batch scoring and drift need."""

    model: Any
    name: str
    version: str
    flavor: str
    columns: list[str]
    types: list[str]
    required: list[bool]
    profile: dict[str, Any] | None = None
    classes: list[Any] | None = None
    has_proba: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def predict(self, frame):
        """(predictions, probabilities or None) as numpy arrays."""
        import numpy as np

        if self.flavor == "statsmodels":
            from .pipeline import statsmodels_predict

            p = statsmodels_predict(self.model, frame, self.extra)
            if not self.has_proba:
                return p, None
            finite = np.isfinite(p)
            labels = (p >= 0.5).astype(int)
            if not finite.all():
                labels = np.where(finite, labels, np.nan)
            return labels, np.column_stack([1 - p, p])
        if self.has_proba:
            proba = np.asarray(self.model.predict_proba(frame))
            return np.asarray(self.classes)[proba.argmax(axis=1)], proba
        out = self.model.predict(frame)
        if hasattr(out, "to_numpy"):
            out = out.to_numpy()
        out = np.asarray(out)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        return out, None

    def frame_from_df(self, df):
        """The model's input columns from a DataFrame, with the signature's dtypes."""
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise RegistryError(f"input is missing column(s): {', '.join(missing)}")
        return self.frame_from_columns({c: df[c].tolist() for c in self.columns})

    def frame_from_columns(self, data: dict[str, list]):
        import numpy as np
        import pandas as pd

        cols = {}
        for name, kind in zip(self.columns, self.types, strict=True):
            values = data[name]
            if kind in NUMERIC_TYPES:
                arr = np.array([np.nan if v is None else v for v in values], dtype=float)
                if kind in ("long", "integer") and np.isfinite(arr).all() and (arr == np.floor(arr)).all():
                    arr = arr.astype(np.int64)
                cols[name] = arr
            elif kind == "boolean" and None not in values:
                cols[name] = np.array(values, dtype=bool)
            else:
                cols[name] = np.array(values, dtype=object)
        return pd.DataFrame(cols, copy=False)


def load_bundle(settings: S.Settings | None = None, uri: str | None = None) -> Bundle:
    """Load `models:/<name>@champion` (or `uri`): the native sklearn model when possible, else pyfunc."""
    settings = settings or S.Settings.load()
    c = client(settings)
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    uri = uri or settings.model_uri
    version = "unknown"
    mv_run_id = None
    try:
        if uri.startswith("models:/") and "@" in uri:
            alias = uri.rsplit("@", 1)[1]
            mv = _version_by_alias(c, settings.model_name, alias)
            if mv is None:
                raise RegistryError(f"{settings.model_name} has no `{alias}` version; train and promote first")
            version = str(mv.version)
            mv_run_id = mv.run_id
            uri = f"models:/{settings.model_name}/{mv.version}"
        elif uri.startswith("models:/"):
            version = uri.rstrip("/").rsplit("/", 1)[1]
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except MlflowException as exc:
        raise RegistryError(f"cannot load {uri}: {str(exc).splitlines()[0]}") from None
    meta = Model.load(str(local / "MLmodel"))
    extra: dict[str, Any] = {}
    if "statsmodels" in meta.flavors and isinstance((meta.metadata or {}).get("statsmodels"), dict):
        import mlflow.statsmodels

        model = mlflow.statsmodels.load_model(str(local))
        flavor = "statsmodels"
        extra = dict(meta.metadata["statsmodels"])
    elif "sklearn" in meta.flavors:
        import mlflow.sklearn

        model = mlflow.sklearn.load_model(str(local))
        flavor = "sklearn"
    else:
        import mlflow.pyfunc

        model = mlflow.pyfunc.load_model(str(local))
        flavor = "pyfunc"
    schema = meta.get_input_schema()
    if schema is not None and schema.has_input_names():
        inputs = schema.inputs
        columns = [i.name for i in inputs]
        types = [getattr(i.type, "name", str(i.type)) for i in inputs]
        required = [bool(getattr(i, "required", True)) for i in inputs]
    else:
        columns = [str(x) for x in getattr(model, "feature_names_in_", [])]
        types = ["string"] * len(columns)
        required = [True] * len(columns)
    profile = None
    for profile_path in (local / "extra_files" / PROFILE_FILE, local / PROFILE_FILE):
        if profile_path.is_file():
            profile = json.loads(profile_path.read_text(encoding="utf-8"))
            break
    if profile is None and mv_run_id:
        try:  # older versions: the profile is an artifact of the version's run
            path = mlflow.artifacts.download_artifacts(run_id=mv_run_id, artifact_path=PROFILE_FILE)
            profile = json.loads(Path(path).read_text(encoding="utf-8"))
        except Exception:
            profile = None
    classes = getattr(model, "classes_", None)
    has_proba = (
        flavor == "sklearn" and S.TASK == "classification" and hasattr(model, "predict_proba") and classes is not None
    )
    if flavor == "statsmodels" and extra.get("classifier"):
        classes, has_proba = [0, 1], True
    return Bundle(
        model=model,
        name=settings.model_name,
        version=version,
        flavor=flavor,
        columns=columns,
        types=types,
        required=required,
        profile=profile,
        classes=list(classes) if classes is not None else None,
        has_proba=has_proba,
        extra=extra,
    )
