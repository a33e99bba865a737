"""MLflow: tracking setup, logging candidates, the model registry (aliases challenger/champion).

- Tracking URI: ``MLFLOW_TRACKING_URI`` wins; default ``sqlite:///<root>/mlflow.db`` with artifacts in
  ``<root>/mlartifacts`` (set explicitly on the experiment when it is created).
- Registered model name: the package name. No stages: aliases ``challenger`` and ``champion``.
- Champion history: registered-model tag ``champion_history`` (JSON list of previous versions).
- Champion events: registered-model tag ``champion_events``, a JSON list, oldest first, of
  ``{"ts": ISO 8601 UTC, "action": "promote" | "rollback", "version": new champion, "from": old or null}``
  (the newest that fit in 5000 characters): what `report` lists as promotions and rollbacks.
- Writers hold the registry's write lock (locking.writing: an OS lock on ``mlflow.db.lock`` with the sqlite
  store, the registered model ``<model>_shipyard_lock`` on a server): promote and rollback (which read the
  aliases once they hold it) and train's registration (with sqlite its logging too). Busy: exit 75.
- Loading: only ``models:/<name>@<alias>`` or ``models:/<name>/<version>`` (settings.parse_model_uri).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import tempfile
import threading
from pathlib import Path

from . import settings as S
from .errors import EXIT_UNAVAILABLE, ProjectError
from .locking import confirm, writing
from .models import PROFILE_FILE, Bundle

CHALLENGER = "challenger"
CHAMPION = "champion"
HISTORY_TAG = "champion_history"
EVENTS_TAG = "champion_events"
MAX_TAG_CHARS = 5000  # what older MLflow servers allow in a registered-model tag


def client(settings: S.Settings):
    """Point MLflow at the project's tracking store and return an MlflowClient."""
    S.quiet_mlflow()
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri)


# --------------------------------------------------------------------------- reachability
_PROBE_LOCK = threading.Lock()  # one bounded check at a time (it sets MLflow's HTTP environment)


def probe(settings: S.Settings) -> str | None:
    """None when the registry answers (an empty one too), else why not in one line; bounded, never raises."""
    with _PROBE_LOCK, S.bounded_mlflow_http(settings.registry_timeout_seconds):
        try:
            from mlflow.exceptions import MlflowException

            try:
                client(settings).get_registered_model(settings.model_name)
            except MlflowException as exc:  # "no such model" is an answer; anything else is not
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    return (str(exc).splitlines() or [exc.error_code])[0][:200]
        except Exception as exc:  # connection refused, DNS, TLS, a broken store
            return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return None


def checked_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of a model URI the project may load, or a ProjectError (exit 2)."""
    try:
        return S.parse_model_uri(uri)
    except ValueError as exc:
        raise ProjectError(str(exc), "an alias (models:/<name>@champion) or a pinned registry version",
                           exit_code=2) from None


def preflight(settings: S.Settings) -> None:
    """What `serve` checks before it listens: a model URI it may load, and a registry that answers."""
    checked_uri(settings.model_uri)
    problem = probe(settings)
    if problem is not None:
        raise ProjectError(f"registry unreachable at {settings.tracking_uri}: {problem}",
                           "start the tracking server or fix MLFLOW_TRACKING_URI", exit_code=EXIT_UNAVAILABLE)


def experiment_id(settings: S.Settings, c) -> str:
    from mlflow.exceptions import MlflowException

    exp = c.get_experiment_by_name(settings.experiment_name)
    if exp is not None:
        return exp.experiment_id
    try:
        return c.create_experiment(settings.experiment_name, artifact_location=settings.artifact_location)
    except MlflowException as exc:  # another train created it a moment ago (on a server, logging is not locked)
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return c.get_experiment_by_name(settings.experiment_name).experiment_id


def _clean(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if v is not None and not math.isnan(v)}


def log_and_register(settings: S.Settings, candidates: list, chosen, *, by_value: list[str] | None = None,
                     baseline_comparable: bool = True) -> tuple[str, dict[str, str]]:
    """Log one run per candidate (model + profile for the chosen one), register it, alias challenger.

    Under the registry's write lock: two trains at once take turns (with sqlite throughout, since the database
    file takes one writer at a time; on a server only to register and set the alias, so the newest version
    registered is the challenger).
    """
    with writing(settings) if settings.registry_lock_path else contextlib.nullcontext():
        return _log_and_register(settings, candidates, chosen, by_value=by_value,
                                 baseline_comparable=baseline_comparable)


def _log_and_register(settings, candidates, chosen, *, by_value, baseline_comparable) -> tuple[str, dict[str, str]]:
    import mlflow

    from . import drift, models
    from .check_data import load_contract
    from .schema import RequestSchema

    c = client(settings)
    exp_id = experiment_id(settings, c)
    baseline = next((k for k in candidates if k.kind == "baseline"), None)
    run_ids: dict[str, str] = {}
    model_uri = None
    serialization = ""
    for cand in candidates:
        params = {
            "candidate": cand.kind,
            "estimator": cand.label,
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
            contract = load_contract() if settings.contract_path.is_file() else None
            schema = RequestSchema.from_frame(cand.X_all, contract)
            if schema.derived():
                mlflow.set_tag("derived_columns", ", ".join(schema.derived())[:5000])
            with tempfile.TemporaryDirectory() as tmp:
                profile_path = Path(tmp) / PROFILE_FILE
                profile_path.write_text(json.dumps(profile), encoding="utf-8")
                mlflow.log_artifact(str(profile_path))
                info, serialization = models.log_model(cand, schema, preds, profile_path, by_value or [])
            model_uri = info.model_uri
    tags = {
        "candidate": chosen.kind,
        "task": S.TASK,
        "primary_metric": S.PRIMARY_METRIC,
        "primary_metric_value": repr(chosen.metrics.get(S.PRIMARY_METRIC, float("nan"))),
        # promote's gate compares with the baseline only when both predict the same target on the same rows
        "baseline_metric_value": repr(baseline.metrics.get(S.PRIMARY_METRIC, float("nan")))
        if baseline and baseline_comparable else "nan",
        "serialization": serialization,
        "estimator": chosen.label,
    }
    with contextlib.nullcontext() if settings.registry_lock_path else writing(settings):
        mv = mlflow.register_model(model_uri, settings.model_name, tags=tags)
        confirm(settings)  # a server lock lost meanwhile: the version stays registered, the alias is not moved
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


def champion_events(registered_model) -> list[dict]:
    """The registered model's promotions and rollbacks, oldest first (see EVENTS_TAG)."""
    try:
        events = json.loads((registered_model.tags or {}).get(EVENTS_TAG, "[]"))
    except ValueError:
        return []
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _record_event(c, name: str, action: str, version, previous) -> None:
    events = champion_events(c.get_registered_model(name))
    events.append({"ts": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017
                   "action": action, "version": str(version), "from": str(previous) if previous else None})
    text = json.dumps(events)
    while len(text) > MAX_TAG_CHARS and len(events) > 1:
        events.pop(0)
        text = json.dumps(events)
    c.set_registered_model_tag(name, EVENTS_TAG, text)


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


def promote(settings: S.Settings | None = None, echo=lambda text: None) -> int:
    """Make the challenger the champion if it passes the gate (under the registry's write lock)."""
    settings = settings or S.Settings.load()
    with writing(settings):
        return _promote(settings, echo)


def _promote(settings: S.Settings, echo) -> int:
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
    confirm(settings)  # still the only writer, right before the writes
    if champion is not None:
        history = _history(c, name) + [str(champion.version)]
        c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[-50:]))
    c.set_registered_model_alias(name, CHAMPION, challenger.version)
    c.set_model_version_tag(name, challenger.version, "promoted_from", str(champion.version) if champion else "")
    _record_event(c, name, "promote", challenger.version, champion.version if champion else None)
    echo(
        f"promoted: {name} v{challenger.version} is now the champion"
        + (f" (was v{champion.version})" if champion else "")
    )
    return 0


def rollback(settings: S.Settings | None = None, echo=lambda text: None) -> int:
    """Point the champion back at the previous one (under the registry's write lock)."""
    settings = settings or S.Settings.load()
    with writing(settings):
        return _rollback(settings, echo)


def _rollback(settings: S.Settings, echo) -> int:
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
    confirm(settings)  # still the only writer, right before the writes
    c.set_registered_model_alias(name, CHAMPION, previous)
    c.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
    c.set_model_version_tag(name, champion.version, "rolled_back", "true")
    _record_event(c, name, "rollback", previous, champion.version)
    echo(f"rolled back: {name} champion v{champion.version} -> v{previous}")
    return 0


# --------------------------------------------------------------------------- loading
def load_bundle(settings: S.Settings | None = None, uri: str | None = None) -> Bundle:
    """Load `models:/<name>@champion` (or `uri`: an alias or a pinned version) with its schema and profile."""
    settings = settings or S.Settings.load()
    uri = uri or settings.model_uri
    name, alias, version = checked_uri(uri)
    c = client(settings)
    import mlflow
    from mlflow.exceptions import MlflowException

    from . import models

    try:
        if alias is not None:
            mv = _version_by_alias(c, name, alias)
            if mv is None:
                raise ProjectError(f"{name} has no `{alias}` version", "train and promote first", exit_code=2)
            version = str(mv.version)
        uri = f"models:/{name}/{version}"
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except MlflowException as exc:
        raise ProjectError(f"cannot load {uri}: {str(exc).splitlines()[0]}", exit_code=2) from None
    return models.load(local, name, str(version))
