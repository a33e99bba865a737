"""Fixture repositories for the checks of ``shipyard doctor``.

:data:`COMPLETE` is a small, hand-written, production-ready ML repository (a churn model served by FastAPI,
trained, promoted and monitored by GitHub Actions) that passes every built-in check. A test takes it, changes a
few files (:func:`edit`, :func:`without`, or a path mapped to new text or to None to delete it) and writes it
with :func:`build`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

REVIEW_DATE = (date.today() + timedelta(days=30)).isoformat()
TEMPLATE_VERSION = "v1.3.0"  # the _commit of .copier-answers.yml


def write_repo(root: Path, files: Mapping[str, str], *, git: bool = True) -> Path:
    """Write ``files`` (relative path -> text) under ``root``; ``git`` runs ``git init`` (no commit)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if git:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True, capture_output=True)
    return root


def build(root: Path, changes: Mapping[str, str | None] | None = None, *,
          base: Mapping[str, str] | None = None) -> Path:
    """Write ``base`` (default :data:`COMPLETE`) with ``changes`` applied: a path maps to its new text, or to
    None to leave the file out. ``".git": None`` leaves the folder without git."""
    files: dict[str, str | None] = {**(COMPLETE if base is None else base), **(changes or {})}
    git = files.pop(".git", "") is not None
    return write_repo(root, {rel: text for rel, text in files.items() if text is not None}, git=git)


def edit(rel: str, *pairs: tuple[str, str]) -> dict[str, str]:
    """``rel`` of COMPLETE with each (old, new) replaced; an ``old`` that is not there is a broken fixture."""
    text = COMPLETE[rel]
    for old, new in pairs:
        assert text.count(old) == 1, f"{old!r} is not once in {rel}"
        text = text.replace(old, new)
    return {rel: text}


def without(rel: str, *words: str) -> dict[str, str]:
    """``rel`` of COMPLETE without the lines that contain any of ``words`` (case-insensitive)."""
    rx = re.compile("|".join(map(re.escape, words)), re.I)
    lines = COMPLETE[rel].splitlines(keepends=True)
    kept = [line for line in lines if not rx.search(line)]
    assert len(kept) < len(lines), f"none of {words} is in {rel}"
    return {rel: "".join(kept)}


def gone(*paths: str) -> dict[str, None]:
    return dict.fromkeys(paths)


OWNERSHIP = """\
schema_version: 1
lifecycle: production
model:
  name: churn
  primary_metric: roc_auc
  metric_floor: 0.78
  model_card: MODEL_CARD.md
owners:
  business:
    name: Marta Okafor (Retention)
    email: marta.okafor@northwind-telecom.com
  technical:
    name: Jonas Berg
    email: jonas.berg@northwind-telecom.com
  data:
    - name: Priya Raman
      email: priya.raman@northwind-telecom.com
      dataset: subscribers
      source: warehouse.analytics.subscriber_monthly
business_process:
  name: Monthly retention-offer campaign
  owner: Marta Okafor (Retention)
accountability:
  wrong_answer: Jonas Berg answers for the scores; the campaign manager signs off each offer list.
  report_to: "#churn-model on Slack, or ml-oncall@northwind-telecom.com"
escalation:
  - level: 1
    contact: Jonas Berg <jonas.berg@northwind-telecom.com>
    response_time: 4h
  - level: 2
    contact: ml-oncall@northwind-telecom.com
    response_time: 1 business day
success_metrics:
  business:
    - metric: 90-day churn rate of contacted subscribers
      baseline: 4.1%
      target: 3.5%
  tracked:
    - name: adoption
      source: requests_per_day
      target_30: 200
      target_60: 500
      target_90: 800
      reported_by: python -m churn report
    - name: retained subscribers
      source: external
      target_30: 50
      target_60: 120
      target_90: 200
      reported_by: Marta Okafor, from the retention dashboard
fallback:
  behaviour: Without a champion the service answers 503 on /ready and is taken out of rotation.
  business_fallback: The campaign falls back to the tenure rule (offer to contracts ending within 60 days).
rollback:
  command: python -m churn rollback
  procedure:
    - Run `python -m churn rollback`; the champion alias moves back to the previous version.
    - Restart the service and check GET /ready.
retraining:
  cadence: monthly, on the first day (train workflow)
  triggers:
    - PSI >= 0.25 on any feature or on the scores
maintenance:
  owner_month_18: Customer Analytics platform team (lead Jonas Berg)
  budget: 0.2 FTE and 400 EUR/month of cloud, cost centre CA-2291
review_date: @REVIEW@
""".replace("@REVIEW@", REVIEW_DATE)

CI = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v3
      - run: uv sync --frozen
      - run: uv run pytest -q
      - run: uv run python -m churn check-data data/sample.parquet
      - uses: gitleaks/gitleaks-action@v2
      - run: uvx shipyard doctor --fail-under 2
"""

MONITOR = """\
name: Monitor
on:
  schedule:
    - cron: "0 6 * * 1"
  workflow_dispatch:
jobs:
  monitor:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v3
      - run: uv run python -m churn drift --since 7d
      - run: uv run python -m churn report --since 7d --out reports/
"""

TRAIN_WORKFLOW = """\
name: Train
on:
  schedule:
    - cron: "0 3 1 * *"
  workflow_dispatch:
jobs:
  train:
    runs-on: ubuntu-latest
    env:
      MLFLOW_TRACKING_URI: ${{ secrets.MLFLOW_TRACKING_URI }}
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v3
      - run: uv run python -m churn train data/subscribers.parquet
      - run: uv run python -m churn promote
"""

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: subscribers
version: 1.2.0
status: active
schema:
  - name: subscribers
    physicalName: subscriber_monthly
    properties:
      - name: tenure_months
        logicalType: integer
        required: true
        classification: internal
        logicalTypeOptions: {minimum: 0}
      - name: monthly_charges
        logicalType: number
        required: true
        classification: internal
      - name: region
        logicalType: string
        classification: public
      - name: churned
        logicalType: boolean
        classification: restricted
"""

MAIN = '''\
"""python -m churn COMMAND (see COMMANDS)."""

import argparse

from . import drift, registry, report, train, validation

COMMANDS = {
    "train": lambda a: train.run(a.path),
    "promote": lambda a: registry.promote(),
    "rollback": lambda a: registry.rollback(),
    "check-data": lambda a: validation.check_data(a.path),
    "drift": lambda a: drift.run(a.since),
    "report": lambda a: report.report(a.since, a.out),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="churn")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("path", nargs="?", default="data/subscribers.parquet")
    parser.add_argument("--since", default="7d")
    parser.add_argument("--out", default="reports")
    args = parser.parse_args(argv)
    return int(not COMMANDS[args.command](args))


if __name__ == "__main__":
    raise SystemExit(main())
'''

TRAIN = '''\
"""Tune a gradient-boosting model, check it beats the prior, register it as a new version."""

import mlflow
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split

from . import registry

SEED = 20240611
FEATURES = ["tenure_months", "monthly_charges", "region"]
GRID = {"learning_rate": [0.05, 0.1], "max_depth": [3, 5]}


def fit(frame: pd.DataFrame):
    x_train, x_test, y_train, y_test = train_test_split(
        frame[FEATURES], frame["churned"], test_size=0.2, random_state=SEED)
    model = HistGradientBoostingClassifier(random_state=SEED, categorical_features=["region"])
    search = GridSearchCV(model, GRID, scoring="roc_auc", cv=5).fit(x_train, y_train)
    auc = roc_auc_score(y_test, search.predict_proba(x_test)[:, 1])
    baseline_auc = roc_auc_score(y_test, DummyClassifier().fit(x_train, y_train).predict_proba(x_test)[:, 1])
    if auc <= baseline_auc:
        raise SystemExit(f"roc_auc {auc:.3f} does not beat the baseline {baseline_auc:.3f}")
    importance = permutation_importance(search.best_estimator_, x_test, y_test, random_state=SEED)
    importances = dict(zip(FEATURES, np.round(importance.importances_mean, 4).tolist()))
    return search, {"roc_auc": auc, "baseline_roc_auc": baseline_auc}, importances


def run(path: str) -> bool:
    search, metrics, importances = fit(pd.read_parquet(path))
    with mlflow.start_run():
        mlflow.log_params(search.best_params_)
        mlflow.log_metrics(metrics)
        mlflow.log_dict(importances, "permutation_importance.json")
        info = mlflow.sklearn.log_model(search.best_estimator_, "model", registered_model_name="churn")
    registry.register(info.registered_model_version)
    return True
'''

REGISTRY = '''\
"""The MLflow registry: a new version is the challenger; promote gates it; rollback restores the previous."""

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

MODEL = "churn"
METRIC_FLOOR = 0.78  # OWNERSHIP.yaml model.metric_floor


def register(version: str) -> None:
    MlflowClient().set_registered_model_alias(MODEL, "challenger", version)


def _auc(client, version) -> float:
    return client.get_run(version.run_id).data.metrics["roc_auc"]


def promote() -> bool:
    client = MlflowClient()
    challenger = client.get_model_version_by_alias(MODEL, "challenger")
    try:
        champion = client.get_model_version_by_alias(MODEL, "champion")
    except MlflowException:
        champion = None
    score, best = _auc(client, challenger), _auc(client, champion) if champion else 0.0
    if score < METRIC_FLOOR or score <= best:
        print(f"version {challenger.version} stays challenger: roc_auc {score:.3f}, champion {best:.3f}")
        return False
    if champion:
        client.set_registered_model_alias(MODEL, "previous", champion.version)
    client.set_registered_model_alias(MODEL, "champion", challenger.version)
    return True


def rollback() -> bool:
    client = MlflowClient()
    previous = client.get_model_version_by_alias(MODEL, "previous")
    client.set_registered_model_alias(MODEL, "champion", previous.version)
    return True


def load_current():
    return mlflow.sklearn.load_model(f"models:/{MODEL}@champion")


def model_info(alias: str = "champion") -> dict:
    version = MlflowClient().get_model_version_by_alias(MODEL, alias)
    return {"version": version.version, "trained_at": version.creation_timestamp}
'''

# a registry without a gate, a challenger or a rollback: every new version is served
REGISTRY_LATEST = '''\
"""Serve the newest registered version."""

import mlflow


def register(version: str) -> None:
    pass


def load_current():
    return mlflow.sklearn.load_model("models:/churn/latest")
'''

SERVICE = '''\
"""The churn scoring service."""

import time

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException
from prometheus_client import Counter, Histogram, make_asgi_app

from . import registry
from .validation import validate_rows

app = FastAPI(title="churn")
app.mount("/metrics", make_asgi_app())
LATENCY = Histogram("churn_request_duration_seconds", "Time to answer /predict")
NON_FINITE = Counter("churn_non_finite_scores_total", "Scores that were NaN or infinite")
_model = None


def model():
    global _model
    if _model is None:
        _model = registry.load_current()
    return _model


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/ready")
def ready() -> dict:
    try:
        model()
    except Exception as exc:
        raise HTTPException(503, "no model can be loaded") from exc
    return {"status": "ready"}


@app.post("/predict")
def predict(rows: list[dict]) -> dict:
    started = time.perf_counter()
    problems = validate_rows(rows)
    if problems:
        raise HTTPException(422, {"contract": "contracts/churn.odcs.yaml", "problems": problems})
    scores = model().predict_proba(pd.DataFrame(rows))[:, 1]
    if not np.isfinite(scores).all():
        NON_FINITE.inc()
        raise HTTPException(500, "the model returned a non-finite score")
    LATENCY.observe(time.perf_counter() - started)
    return {"churn_probability": scores.tolist()}
'''

VALIDATION = '''\
"""Rows are checked against contracts/churn.odcs.yaml (required fields, types, minimums)."""

from pathlib import Path

import pandas as pd
import yaml

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "churn.odcs.yaml"
TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool}


def validate_rows(rows: list[dict], *, target: bool = False) -> list[str]:
    properties = yaml.safe_load(CONTRACT.read_text())["schema"][0]["properties"]
    problems = []
    for i, row in enumerate(rows):
        for prop in properties:
            name, value = prop["name"], row.get(prop["name"])
            if name == "churned" and not target:
                continue
            if value is None:
                problems += [f"row {i}: {name} is required"] if prop.get("required") else []
            elif not isinstance(value, TYPES[prop["logicalType"]]):
                problems.append(f"row {i}: {name} is not {prop['logicalType']}")
            elif value < prop.get("logicalTypeOptions", {}).get("minimum", value):
                problems.append(f"row {i}: {name} is below its minimum")
    return problems


def check_data(path: str) -> bool:
    problems = validate_rows(pd.read_parquet(path).to_dict("records"), target=True)
    print("\\n".join(problems[:20]) or "the data matches the contract")
    return not problems
'''

DRIFT = '''\
"""PSI of each feature and of the scores against the training data: warn at 0.10, alert at 0.25."""

import numpy as np
import pandas as pd

from . import registry

WARN, ALERT = 0.10, 0.25


def psi(reference, current, bins: int = 10) -> float:
    edges = np.histogram_bin_edges(reference, bins=bins)
    ref = np.histogram(reference, edges)[0] / len(reference) + 1e-6
    cur = np.histogram(current, edges)[0] / len(current) + 1e-6
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def prediction_drift(reference_scores, scores) -> float:
    return psi(reference_scores, scores)


def run(since: str) -> bool:
    reference = pd.read_parquet("data/reference.parquet")
    log = pd.read_json("logs/predictions.jsonl", lines=True).tail(10_000)
    worst = max(prediction_drift(reference["score"], log["score"]),
                *(psi(reference[c], log[c]) for c in ("tenure_months", "monthly_charges")))
    print(f"worst PSI {worst:.3f} (model {registry.model_info()['version']})")
    return worst < ALERT
'''

REPORT = '''\
"""The weekly report: the success metrics of OWNERSHIP.yaml measured on the prediction log."""

from pathlib import Path

import pandas as pd
import yaml


def report(since: str, out: str) -> bool:
    log = pd.read_json("logs/predictions.jsonl", lines=True)
    log = log[log["at"] >= pd.Timestamp.now() - pd.Timedelta(since)]
    tracked = yaml.safe_load(Path("OWNERSHIP.yaml").read_text())["success_metrics"]["tracked"]
    lines = [f"- {m['name']}: {len(log) / 7:.0f} requests a day" for m in tracked if m["source"] == "requests_per_day"]
    Path(out).mkdir(exist_ok=True)
    Path(out, "weekly.md").write_text("# Weekly report\\n\\n" + "\\n".join(lines) + "\\n")
    return True
'''

CONFTEST = '''\
import numpy as np
import pandas as pd
import pytest

from churn import train


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    tenure = rng.integers(0, 72, 400)
    return pd.DataFrame({"tenure_months": tenure, "monthly_charges": rng.uniform(20, 120, 400).round(2),
                         "region": pd.Categorical(rng.choice(["north", "south"], 400)),
                         "churned": rng.random(400) < 1 / (1 + tenure / 12)})


@pytest.fixture
def subscribers(tmp_path, frame):
    path = tmp_path / "subscribers.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture
def fitted(frame):
    return train.fit(frame)[0]


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
'''

TEST_SERVICE = '''\
import time

import numpy as np
from fastapi.testclient import TestClient

from churn import service

ROW = {"tenure_months": 14, "monthly_charges": 59.9, "region": "north"}


def test_predict_scores_one_row(fitted, monkeypatch):
    monkeypatch.setattr(service, "_model", fitted)
    body = TestClient(service.app).post("/predict", json=[ROW]).json()
    assert np.isfinite(body["churn_probability"]).all()


def test_a_row_that_breaks_the_contract_is_rejected(fitted, monkeypatch):
    monkeypatch.setattr(service, "_model", fitted)
    assert TestClient(service.app).post("/predict", json=[{**ROW, "tenure_months": -1}]).status_code == 422


def test_ready_answers_503_without_a_champion(monkeypatch):
    def missing():
        raise LookupError("no champion")

    monkeypatch.setattr(service.registry, "load_current", missing)
    assert TestClient(service.app).get("/ready").status_code == 503


def test_predict_latency_stays_under_50_ms(fitted, monkeypatch):
    monkeypatch.setattr(service, "_model", fitted)
    client = TestClient(service.app)
    started = time.perf_counter()
    for _ in range(20):
        client.post("/predict", json=[ROW])
    assert (time.perf_counter() - started) / 20 < 0.05
'''

TEST_TRAINING = '''\
from churn import registry
from churn.__main__ import main


def test_train_registers_a_challenger(subscribers, mlflow_store):
    assert main(["train", str(subscribers)]) == 0
    assert registry.model_info("challenger")["version"] == "1"


def test_rollback_restores_the_previous_champion(subscribers, mlflow_store, monkeypatch):
    monkeypatch.setattr(registry, "METRIC_FLOOR", 0.0)
    for _ in range(2):
        main(["train", str(subscribers)])
        monkeypatch.setattr(registry, "_auc", lambda client, v: float(v.version) if v else 0.0)
        main(["promote"])
    assert registry.model_info()["version"] == "2"
    main(["rollback"])
    assert registry.model_info()["version"] == "1"
'''

TEST_QUALITY = '''\
import pandas as pd
from fairlearn.metrics import MetricFrame, demographic_parity_difference
from sklearn.metrics import roc_auc_score


def test_auc_holds_on_every_region_slice(fitted, frame):
    scores = fitted.predict_proba(frame[["tenure_months", "monthly_charges", "region"]])[:, 1]
    by_region = MetricFrame(metrics=roc_auc_score, y_true=frame["churned"], y_pred=scores,
                            sensitive_features=frame["region"])
    assert by_region.by_group.min() >= 0.7


def test_offers_are_not_skewed_by_tenure_band(fitted, frame):
    offered = fitted.predict(frame[["tenure_months", "monthly_charges", "region"]])
    band = pd.cut(frame["tenure_months"], [-1, 12, 36, 72])
    assert demographic_parity_difference(frame["churned"], offered, sensitive_features=band) < 0.6
'''

TEST_FEATURES = '''\
import time

from churn.validation import validate_rows

BUDGET_MS = {"tenure_months": 0.5, "monthly_charges": 0.5, "region": 0.5}


def test_feature_cost_per_row_is_within_the_model_card_budget(frame):
    rows = frame.to_dict("records")
    for name, budget in BUDGET_MS.items():
        started = time.perf_counter()
        validate_rows([{name: row[name]} for row in rows])
        assert (time.perf_counter() - started) * 1000 / len(rows) < budget


def test_negative_tenure_breaks_the_contract():
    problems = validate_rows([{"tenure_months": -3, "monthly_charges": 10.0}])
    assert problems == ["row 0: tenure_months is below its minimum"]
'''

MODEL_CARD = """\
# Model card: churn

## Model details

HistGradientBoostingClassifier, tuned by GridSearchCV; the served version has the MLflow alias `champion`.

## Intended use

Ranks subscribers by 90-day churn risk for the monthly retention-offer campaign. Not for pricing or credit.

## Metrics

ROC AUC on a 20% hold-out: 0.83 (champion v7) against 0.50 for the prior. Promotion needs 0.78.

## Feature cost

| Feature | Source | Serving cost |
| --- | --- | --- |
| tenure_months | subscriber_monthly, nightly | lookup, < 0.1 ms |
| monthly_charges | billing, nightly | lookup, < 0.1 ms |
| region | CRM | lookup; a CRM outage blocks scoring |

## Ethical considerations

Age and gender are not features; region correlates with income. The AUC per region and the offer rate per
tenure band are tested with fairlearn on every change. Offers are benefits, so a false positive costs money,
not a customer's rights.
"""

README = """\
# churn

Scores subscribers by churn risk for the retention campaign. Owners: OWNERSHIP.yaml; model: MODEL_CARD.md.

    uv run python -m churn train data/subscribers.parquet && uv run python -m churn promote
    uv run uvicorn churn.service:app

## Adding a feature

Add the column to contracts/churn.odcs.yaml with its classification, then to FEATURES in src/churn/train.py;
CI checks the contract and the tests on the pull request.
"""

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN pip install --no-cache-dir uv==0.4.30 && uv sync --frozen --no-dev
COPY src/ src/
RUN useradd --create-home --uid 10001 app
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request as u; u.urlopen('http://localhost:8000/health')"
CMD ["uv", "run", "uvicorn", "churn.service:app", "--host", "0.0.0.0", "--port", "8000"]
"""

PYPROJECT = """\
[project]
name = "churn"
version = "1.4.0"
requires-python = ">=3.11"
dependencies = ["scikit-learn>=1.5", "mlflow-skinny>=2.16", "fastapi>=0.115", "prometheus-client>=0.21",
                "pandas>=2.2", "pyarrow>=17", "pyyaml>=6"]

[dependency-groups]
dev = ["pytest>=8", "httpx>=0.27", "fairlearn>=0.11"]

[tool.shipyard.doctor]
fail-under = 2
"""

UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "scikit-learn"
version = "1.5.2"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "fastapi"
version = "0.115.4"
source = { registry = "https://pypi.org/simple" }
"""

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: churn
spec:
  replicas: 3
  selector:
    matchLabels: {app: churn}
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: {duration: 1h}
        - setWeight: 50
        - pause: {duration: 1h}
  template:
    metadata:
      labels: {app: churn}
    spec:
      containers:
        - name: churn
          image: ghcr.io/northwind/churn:1.4.0
          ports: [{containerPort: 8000}]
"""

NOTEBOOK = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                  "source": ["from sklearn.inspection import permutation_importance\n",
                                             "permutation_importance(model, x_test, y_test)"]}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)

COMPLETE: dict[str, str] = {
    "OWNERSHIP.yaml": OWNERSHIP,
    "CODEOWNERS": "* @northwind/customer-analytics\n/contracts/ @northwind/data-platform\n",
    "Dockerfile": DOCKERFILE,
    ".dockerignore": ".git\n.env\ndata/\nmlruns/\ntests/\n",
    ".gitignore": "data/\n*.parquet\n.env\n__pycache__/\nmlruns/\nreports/\n",
    ".github/workflows/ci.yml": CI,
    ".github/workflows/monitor.yml": MONITOR,
    ".github/workflows/train.yml": TRAIN_WORKFLOW,
    ".github/dependabot.yml": ("version: 2\nupdates:\n"
                               "  - package-ecosystem: uv\n    directory: /\n    schedule: {interval: weekly}\n"
                               "  - package-ecosystem: github-actions\n    directory: /\n"
                               "    schedule: {interval: weekly}\n"),
    "contracts/churn.odcs.yaml": CONTRACT,
    "deploy/rollout.yaml": ROLLOUT,
    "src/churn/__init__.py": '__version__ = "1.4.0"\n',
    "src/churn/__main__.py": MAIN,
    "src/churn/train.py": TRAIN,
    "src/churn/registry.py": REGISTRY,
    "src/churn/service.py": SERVICE,
    "src/churn/validation.py": VALIDATION,
    "src/churn/drift.py": DRIFT,
    "src/churn/report.py": REPORT,
    "tests/conftest.py": CONFTEST,
    "tests/test_service.py": TEST_SERVICE,
    "tests/test_training.py": TEST_TRAINING,
    "tests/test_quality.py": TEST_QUALITY,
    "tests/test_features.py": TEST_FEATURES,
    "MODEL_CARD.md": MODEL_CARD,
    "README.md": README,
    "pyproject.toml": PYPROJECT,
    "uv.lock": UV_LOCK,
    ".copier-answers.yml": ("# Changes here will be overwritten by Copier\n"
                            f"_commit: {TEMPLATE_VERSION}\n_src_path: gh:northwind/ml-service-template\n"
                            "package_name: churn\nproject_name: Churn\n"),
}
