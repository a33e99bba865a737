"""End to end: the production template's runtime in a freshly rendered project.

Each case renders the template with copier, adds a synthetic data file, an inferred data contract and
(optionally) a notebook module, then drives `python -m <package> ...` in subprocesses with the default
sqlite tracking store in the project root.
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from runtime_harness import (
    BROKEN_MODULE,
    CLASSIFIER_MODULE,
    DATA_HELPER,
    LGBM_MODULE,
    PYTHON,
    STATSMODELS_LOGIT_MODULE,
    STATSMODELS_OLS_MODULE,
    churn_data,
    house_data,
    make_project,
    served,
    shifted,
    show,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    """A classification project: baseline promoted first, then the notebook's random forest."""
    root = tmp_path_factory.mktemp("churn") / "churn-demo"
    project = make_project(root, package="churn_demo", df=churn_data(), data_rel="data/customers.csv",
                           target="churned", module_source=CLASSIFIER_MODULE)
    base = project.run("train", "--baseline")
    assert base.returncode == 0, show(base)
    assert "baseline" in base.stdout and "version 1" in base.stdout
    assert (root / "mlflow.db").is_file() and (root / "mlartifacts").is_dir()
    promoted = project.run("promote")
    assert promoted.returncode == 0, show(promoted)
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "notebook" in trained.stdout and "baseline" in trained.stdout  # the comparison table
    assert "roc_auc" in trained.stdout
    assert "version 2 (notebook)" in trained.stdout, show(trained)
    return project


def test_help_lists_the_commands(churn):
    proc = churn.run("--help")
    assert proc.returncode == 0
    for cmd in ("train", "promote", "rollback", "serve", "predict", "check-data", "drift", "check-ownership", "report"):
        assert cmd in proc.stdout


def test_promote_makes_the_notebook_model_champion(churn):
    proc = churn.run("promote")
    assert proc.returncode == 0, show(proc)
    assert "v2 is now the champion (was v1)" in proc.stdout
    assert churn.aliases() == {"challenger": "2", "champion": "2"}
    again = churn.run("promote")
    assert again.returncode == 0 and "already the champion" in again.stdout


def test_train_logs_both_runs_and_the_profile(churn):
    code = (
        "import json, mlflow\n"
        "from mlflow import MlflowClient\n"
        "from churn_demo.settings import Settings\n"
        "s = Settings.load(); c = MlflowClient(s.tracking_uri)\n"
        "exp = c.get_experiment_by_name(s.experiment_name)\n"
        "runs = c.search_runs([exp.experiment_id])\n"
        "mv = c.get_model_version_by_alias(s.model_name, 'champion')\n"
        "mlflow.set_tracking_uri(s.tracking_uri)\n"
        "p = mlflow.artifacts.download_artifacts(run_id=mv.run_id, artifact_path='reference_profile.json')\n"
        "print(json.dumps({'location': exp.artifact_location, 'kinds': sorted(r.data.tags['candidate'] for r in runs),\n"
        "  'profile': json.load(open(p)), 'tags': mv.tags}))\n"
    )
    proc = churn.python(code)
    assert proc.returncode == 0, show(proc)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["location"].endswith("/mlartifacts")
    assert info["kinds"] == ["baseline", "baseline", "notebook"]
    profile = info["profile"]
    assert set(profile["features"]) == {"tenure", "monthly_charges", "support_calls", "plan"}
    assert len(profile["features"]["tenure"]["cuts"]) <= 9
    assert "__unseen__" in profile["features"]["plan"]["categories"]
    assert profile["prediction"]["kind"] == "numeric"
    assert info["tags"]["candidate"] == "notebook" and info["tags"]["serialization"] == "skops"
    model_dir = churn.root / "mlartifacts" / "models"
    assert list(model_dir.rglob("model.skops"))


def test_serve_predict_validate_and_metrics(churn):
    record = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
    with served(churn) as url:
        assert httpx.get(f"{url}/health").status_code == 200
        ready = httpx.get(f"{url}/ready").json()
        assert ready["model_version"] == "2"
        ok = httpx.post(f"{url}/predict", json={"records": [record, {**record, "plan": "premium"}]})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["model_version"] == "2" and len(body["predictions"]) == 2
        assert set(body["predictions"]) <= {0, 1}
        bad = httpx.post(f"{url}/predict", json={"records": [record, {**record, "tenure": "five"}]})
        assert bad.status_code == 422
        detail = bad.json()["detail"]
        assert any(e["row"] == 1 and e["column"] == "tenure" for e in detail), detail
        missing = httpx.post(f"{url}/predict", json={"records": [{"tenure": 3}]})
        assert missing.status_code == 422
        assert {e["column"] for e in missing.json()["detail"]} >= {"plan", "monthly_charges"}
        assert httpx.post(f"{url}/predict", content=b"not json").status_code == 422
        metrics = httpx.get(f"{url}/metrics").text
    assert 'churn_demo_prediction_requests_total{model_version="2",status="success"} 1.0' in metrics
    assert 'churn_demo_prediction_requests_total{model_version="2",status="invalid"} 3.0' in metrics
    assert 'churn_demo_input_validation_failures_total{column="tenure",rule="type"} 1.0' in metrics
    assert "churn_demo_prediction_request_duration_seconds_bucket" in metrics
    assert "churn_demo_non_finite_predictions_total 0.0" in metrics
    assert "churn_demo_model_info{" in metrics
    log = [json.loads(line) for line in (churn.root / "logs" / "predictions.jsonl").read_text().splitlines()]
    assert [(e["status"], e["rows"]) for e in log] == [("success", 2), ("invalid", 2), ("invalid", 1), ("invalid", 0)]
    assert {e["model_version"] for e in log} == {"2"} and all(e["duration_ms"] > 0 for e in log)
    assert log[0]["predictions"] == body["predictions"] and len(log[0]["records"]) == 2
    assert log[1]["violations"] == [{"column": "tenure", "rule": "type", "count": 1}] and "records" not in log[1]
    assert {(v["column"], v["rule"]) for v in log[2]["violations"]} >= {("plan", "required"),
                                                                         ("monthly_charges", "required")}
    assert log[3]["violations"] == [{"column": None, "rule": "schema", "count": 1}]


def test_serve_concurrent_requests_get_their_own_predictions(churn, monkeypatch):
    """Requests that the service batches into one model call answer exactly as when sent one by one."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("CHURN_DEMO_PREDICTION_LOG", "")  # keep the log of the test above as it is
    df = churn_data().drop(columns=["customer_id", "churned"]).head(48)
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in df.to_dict("records")]
    bodies = [[r] for r in rows[:40]] + [rows[40:44], rows[44:48]]  # 40 single rows and two of 4 rows
    with served(churn) as url:
        with httpx.Client(base_url=url) as c:
            alone = [c.post("/predict", json={"records": b}).json() for b in bodies]

        def post(body):
            with httpx.Client(base_url=url) as c:
                return c.post("/predict", json={"records": body})

        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(post, bodies))
    assert [r.status_code for r in together] == [200] * len(bodies)
    for body, one, got in zip(bodies, alone, (r.json() for r in together), strict=True):
        assert len(got["predictions"]) == len(body)
        assert got["predictions"] == one["predictions"]
        assert got["probabilities"] == pytest.approx(one["probabilities"], rel=1e-9)
        assert got["model_version"] == one["model_version"] == "2"


def test_drift_on_original_and_shifted_data(churn, tmp_path):
    same = churn.run("drift", "data/customers.csv", "--report-dir", str(tmp_path / "same"))
    assert same.returncode == 0, show(same)
    assert (tmp_path / "same" / "drift_report.md").is_file()
    html = (tmp_path / "same" / "drift_report.html").read_text()
    assert "data:image/png;base64," in html
    moved = tmp_path / "moved.csv"
    shifted(churn_data()).to_csv(moved, index=False)
    drifted = churn.run("drift", str(moved), "--report-dir", str(tmp_path / "moved"))
    assert drifted.returncode == 1, show(drifted)
    assert "ALERT" in drifted.stdout and "monthly_charges" in drifted.stdout and "plan" in drifted.stdout
    md = (tmp_path / "moved" / "drift_report.md").read_text()
    assert "| prediction |" in md


def test_batch_predict(churn, tmp_path):
    out = tmp_path / "scored.parquet"
    proc = churn.run("predict", "data/customers.csv", "--output", str(out))
    assert proc.returncode == 0, show(proc)
    import pandas as pd

    scored = pd.read_parquet(out)
    assert len(scored) == 500 and {"prediction", "probability"} <= set(scored.columns)


def test_ownership_and_data_checks(churn):
    ownership = churn.run("check-ownership")
    assert ownership.returncode == 0 and "warning" in ownership.stdout
    text = (churn.root / "OWNERSHIP.yaml").read_text()
    prod = churn.root / "OWNERSHIP.prod.yaml"
    prod.write_text(text.replace("lifecycle: experimental", "lifecycle: production"))
    failed = churn.run("check-ownership", "--file", str(prod))
    assert failed.returncode == 1 and "owners.business" in failed.stdout
    data = churn.run("check-data", "data/customers.csv")
    assert data.returncode == 0, show(data)


def test_rollback_returns_to_the_previous_champion(churn):
    proc = churn.run("rollback")
    assert proc.returncode == 0, show(proc)
    assert churn.aliases()["champion"] == "1"
    again = churn.run("rollback")
    assert again.returncode == 1 and "no previous champion" in again.stdout


def test_broken_notebook_fails_clearly_and_baseline_carries(tmp_path):
    project = make_project(tmp_path / "broken", package="broken_demo", df=churn_data(seed=3),
                           data_rel="data/customers.csv", target="churned", module_source=BROKEN_MODULE)
    failed = project.run("train")
    assert failed.returncode != 0
    message = failed.stderr.strip().splitlines()
    line_no = 8 + DATA_HELPER.count("\n")  # the line in BROKEN_MODULE, after the prologue adopt adds
    assert any(f"from_notebook.py:{line_no}" in line and "KeyError" in line for line in message), show(failed)
    assert "train --baseline" in failed.stderr
    base = project.run("train", "--baseline")
    assert base.returncode == 0, show(base)
    assert project.run("promote").returncode == 0
    assert project.aliases() == {"challenger": "1", "champion": "1"}


def test_generated_project_tests_pass_without_a_notebook_model(tmp_path):
    project = make_project(tmp_path / "plain", package="plain_demo", df=churn_data(seed=5),
                           data_rel="data/customers.csv", target="churned", model_variable="")
    proc = project.run("train")
    assert proc.returncode == 0, show(proc)
    assert "training the baseline only" in proc.stdout
    tests = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project.root,
                           env=project.env(), capture_output=True, text=True, timeout=180)
    assert tests.returncode == 0, show(tests)
    assert " passed" in tests.stdout


def test_lightgbm_regression(tmp_path):
    project = make_project(tmp_path / "houses", package="house_prices", df=house_data(), data_rel="data/houses.csv",
                           target="price", task="regression", model_variable="reg", module_source=LGBM_MODULE,
                           framework="lightgbm", dependencies=["lightgbm>=4"])
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "notebook" in trained.stdout and "r2" in trained.stdout and "rmse" in trained.stdout
    promoted = project.run("promote")
    assert promoted.returncode == 0, show(promoted)
    scored = project.run("predict", "data/houses.csv", "--output", str(tmp_path / "scored.csv"))
    assert scored.returncode == 0, show(scored)
    import pandas as pd

    preds = pd.read_csv(tmp_path / "scored.csv")["prediction"]
    assert preds.notna().all() and preds.std() > 0
    drift = project.run("drift", "data/houses.csv", "--report-dir", str(tmp_path / "reports"))
    assert drift.returncode == 0, show(drift)


def _statsmodels_flavor(project) -> dict:
    """The champion's MLmodel: flavours and the metadata serving reads."""
    code = (
        "import json, mlflow\n"
        "from mlflow.models import Model\n"
        f"from {project.package}.settings import Settings\n"
        "s = Settings.load(); mlflow.set_tracking_uri(s.tracking_uri)\n"
        "p = mlflow.artifacts.download_artifacts(artifact_uri=f'models:/{s.model_name}@champion')\n"
        "m = Model.load(p + '/MLmodel')\n"
        "print(json.dumps({'flavors': sorted(m.flavors), 'metadata': m.metadata}))\n"
    )
    proc = project.python(code)
    assert proc.returncode == 0, show(proc)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_statsmodels_formula_regression(tmp_path):
    """`res = smf.ols("price ~ ...", data=houses).fit()`: re-fitted on the split, logged with MLflow's flavour."""
    project = make_project(tmp_path / "sm-houses", package="sm_houses", df=house_data(), data_rel="data/houses.csv",
                           target="price", task="regression", model_variable="res",
                           module_source=STATSMODELS_OLS_MODULE, framework="statsmodels")
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "OLS(formula)" in trained.stdout and "r2" in trained.stdout
    assert "version 1 (notebook)" in trained.stdout, show(trained)
    promoted = project.run("promote")
    assert promoted.returncode == 0, show(promoted)
    model = _statsmodels_flavor(project)
    assert "statsmodels" in model["flavors"] and "python_function" in model["flavors"]
    assert model["metadata"]["statsmodels"]["columns"] == ["sqft", "rooms", "age", "city"]
    record = {"sqft": 2400.0, "rooms": 3, "age": 10, "city": "north"}
    with served(project) as url:
        ok = httpx.post(f"{url}/predict", json={"records": [record, {**record, "city": "east", "sqft": 900.0}]})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["model_version"] == "1" and len(body["predictions"]) == 2
        assert body["predictions"][0] > body["predictions"][1] > 0
        assert "probabilities" not in body
    scored = project.run("predict", "data/houses.csv", "--output", str(tmp_path / "scored.csv"))
    assert scored.returncode == 0, show(scored)
    import pandas as pd

    preds = pd.read_csv(tmp_path / "scored.csv")["prediction"]
    assert len(preds) == 500 and preds.notna().all() and preds.std() > 0
    drift = project.run("drift", "data/houses.csv", "--report-dir", str(tmp_path / "reports"))
    assert drift.returncode == 0, show(drift)
    assert "0 alert(s), 0 warning(s)" in drift.stdout and "prediction" in drift.stdout


def test_statsmodels_logit_classification(tmp_path):
    """`smf.logit(...)` kept as a model with its `.fit()` results beside it: labels and P(churned) served."""
    project = make_project(tmp_path / "sm-churn", package="sm_churn", df=churn_data(), data_rel="data/customers.csv",
                           target="churned", model_variable="logit_model", module_source=STATSMODELS_LOGIT_MODULE,
                           framework="statsmodels")
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "Logit(formula)" in trained.stdout and "roc_auc" in trained.stdout
    assert "version 1 (notebook)" in trained.stdout, show(trained)
    promoted = project.run("promote")
    assert promoted.returncode == 0, show(promoted)
    assert _statsmodels_flavor(project)["metadata"]["statsmodels"]["classifier"] is True
    record = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
    with served(project) as url:
        ok = httpx.post(f"{url}/predict", json={"records": [record, {**record, "tenure": 30, "support_calls": 0}]})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["predictions"] == [1, 0], body
        high, low = body["probabilities"]
        assert 0.5 < high <= 1 and 0 <= low < 0.5
        bad = httpx.post(f"{url}/predict", json={"records": [{**record, "tenure": "five"}]})
        assert bad.status_code == 422
    scored = project.run("predict", "data/customers.csv", "--output", str(tmp_path / "scored.csv"))
    assert scored.returncode == 0, show(scored)
    import pandas as pd

    out = pd.read_csv(tmp_path / "scored.csv")
    assert set(out["prediction"]) == {0, 1} and out["probability"].between(0, 1).all()
    drift = project.run("drift", "data/customers.csv", "--report-dir", str(tmp_path / "reports"))
    assert drift.returncode == 0, show(drift)
    assert "0 alert(s), 0 warning(s)" in drift.stdout


def test_deep_learning_model_says_what_to_write(tmp_path):
    project = make_project(tmp_path / "deep", package="deep_demo", df=churn_data(seed=7),
                           data_rel="data/customers.csv", target="churned", model_variable="net",
                           module_source="net = None\n", framework="torch")
    failed = project.run("train")
    assert failed.returncode == 2, show(failed)
    assert "PyTorch" in failed.stderr and "src/deep_demo/from_notebook.py" in failed.stderr
    assert "def fit(self, X: pandas.DataFrame, y: pandas.Series)" in failed.stderr
    assert "def predict_proba(self, X: pandas.DataFrame)" in failed.stderr
    assert "net = NotebookModel().fit(X, y)" in failed.stderr
