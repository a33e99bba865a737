"""End to end, for real: adopt a notebook repo, install the generated project in its own virtualenv,
run its own tests, train, promote, serve on 127.0.0.1, predict, check data, detect drift.

One virtualenv is shared by the projects of this module (each project is pip-installed into it,
with its declared dependencies); every project has its own embedded MLflow (``mlflow.db``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import e2e_fixtures
import httpx
import pandas as pd
import pytest
from conftest import EXAMPLE, adopt_json, git, make_repo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path


@dataclass
class Project:
    root: Path
    package: str
    report: dict
    python: Path

    def run(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        done = subprocess.run([str(self.python), *args], cwd=self.root, capture_output=True, text=True,
                              env=env, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{args} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-m", self.package, *args, check=check)


def adopt_and_install(base: Path, build: Callable[[Path], Path], venv: Path) -> Project:
    root = make_repo(build(base))
    report = adopt_json(root, "--owner", "ml-team@example.org")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt")
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{root}[dev]"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return Project(root=root, package=report["package"], report=report, python=python)


def copy_bundled(base: Path) -> Path:
    shutil.copytree(EXAMPLE, base / "churn")
    return base / "churn"


@pytest.fixture(scope="module", params=["bundled-example", "lightgbm", "no-model"])
def project(request: pytest.FixtureRequest, venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    build = {"bundled-example": copy_bundled, "lightgbm": e2e_fixtures.lightgbm_repo,
             "no-model": e2e_fixtures.exploration_repo}[request.param]
    proj = adopt_and_install(tmp_path_factory.mktemp(request.param), build, venv)
    proj.kind = request.param  # type: ignore[attr-defined]
    return proj


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def trained(project: Project) -> Project:
    """Train (the notebook model, or --baseline where none was found) and promote."""
    if project.report["model"] is None:
        done = project.cli("train", check=False)
        assert done.returncode != 0 or "baseline" in (done.stdout + done.stderr)
        project.cli("train", "--baseline")
    else:
        project.cli("train")
    project.cli("promote")
    return project


@pytest.fixture(scope="module")
def server(trained: Project) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    proc = subprocess.Popen([str(trained.python), "-m", trained.package, "serve", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=trained.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"service did not become ready:\n{proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def data_of(project: Project) -> tuple[pd.DataFrame, str, str]:
    data = project.report["data"]["value"]
    return pd.read_csv(project.root / data), data, project.report["target"]["value"]


def test_generated_project_passes_its_own_tests_and_lint(project: Project) -> None:
    done = project.run("-m", "pytest", "-q", "-p", "no:cacheprovider", check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    lint = project.run("-m", "ruff", "check", "--no-cache", "src", "tests", check=False)  # what its CI runs
    assert lint.returncode == 0, lint.stdout[-4000:]
    assert project.cli("check-ownership").returncode == 0  # CI's ownership step passes while experimental


def test_training_never_changes_the_projects_files(trained: Project) -> None:
    """The notebook's code writes (over its data, a model file, outside the repo); train runs it in a
    scratch folder, and everything train itself writes (mlflow.db, mlartifacts/) is git-ignored."""
    assert git(trained.root, "status", "--porcelain") == ""
    assert not (trained.root.parent / "leaked.txt").exists()


def test_predict_valid_invalid_and_metrics(trained: Project, server: str) -> None:
    frame, _, target = data_of(trained)
    records = json.loads(frame.drop(columns=[target]).head(3).to_json(orient="records"))
    answer = httpx.post(f"{server}/predict", json={"records": records}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["predictions"]) == 3 and body["model_version"]
    numeric = next(c for c in frame.columns if c != target and pd.api.types.is_numeric_dtype(frame[c]))
    bad = [{**records[0], numeric: "not a number"}]
    answer = httpx.post(f"{server}/predict", json={"records": bad}, timeout=30)
    assert answer.status_code == 422
    assert any(err.get("column") == numeric for err in answer.json()["detail"]), answer.text
    metrics = httpx.get(f"{server}/metrics", timeout=10).text
    pkg = trained.package
    assert f'{pkg}_prediction_requests_total{{model_version="' in metrics
    assert 'status="success"' in metrics
    assert f'{pkg}_input_validation_failures_total{{column="{numeric}"' in metrics
    assert httpx.get(f"{server}/health", timeout=5).status_code == 200


def test_check_data_passes_on_training_data_and_fails_on_a_corrupted_copy(trained: Project, tmp_path: Path) -> None:
    frame, data, target = data_of(trained)
    trained.cli("check-data", data)
    numeric = next(c for c in frame.columns if c != target and pd.api.types.is_numeric_dtype(frame[c]))
    bad = frame.copy()
    bad[numeric] = bad[numeric].astype(float)
    bad.loc[:20, numeric] = bad[numeric].max() * 100
    corrupted = tmp_path / "corrupted.csv"
    bad.to_csv(corrupted, index=False)
    done = trained.cli("check-data", str(corrupted), "--json", check=False)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert any(v["column"] == numeric for v in report["violations"]), report


def test_drift_flags_a_shifted_copy_and_not_the_original(trained: Project, tmp_path: Path) -> None:
    frame, data, target = data_of(trained)
    assert trained.cli("drift", data, "--report-dir", str(tmp_path / "same"), check=False).returncode == 0
    shifted = frame.copy()
    for column in shifted.columns:
        if column != target and pd.api.types.is_numeric_dtype(shifted[column]):
            shifted[column] = shifted[column] * 3 + shifted[column].std() * 4
    path = tmp_path / "shifted.csv"
    shifted.to_csv(path, index=False)
    done = trained.cli("drift", str(path), "--report-dir", str(tmp_path / "shifted"), check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (tmp_path / "shifted" / "drift_report.html").is_file()
    assert (tmp_path / "shifted" / "drift_report.md").is_file()


def test_batch_predict_writes_one_prediction_per_row(trained: Project, tmp_path: Path) -> None:
    frame, data, _ = data_of(trained)
    out = tmp_path / "scored.csv"
    trained.cli("predict", data, "--output", str(out))
    assert len(pd.read_csv(out)) == len(frame)


def test_registry_holds_the_model_with_the_right_aliases(trained: Project) -> None:
    probe = (
        "import json, mlflow\n"
        "from mlflow import MlflowClient\n"
        "mlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
        f"m = MlflowClient().get_registered_model({trained.package!r})\n"
        "print(json.dumps(m.aliases))\n"
    )
    aliases = json.loads(trained.run("-c", probe).stdout.strip().splitlines()[-1])
    assert {"champion", "challenger"} <= set(aliases)
    assert (trained.root / "mlflow.db").is_file()


def test_metrics_pass_promtool(trained: Project, server: str) -> None:
    """The /metrics exposition is clean for Prometheus' own linter, after valid and invalid requests."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; .ci/run installs it)")
    example = json.loads(trained.cli("request-example").stdout)
    assert httpx.post(f"{server}/predict", json=example, timeout=30).status_code == 200
    first = trained_schema(server)[0]
    bad = {**example["records"][0], first["name"]: {"not": "a value"}}
    assert httpx.post(f"{server}/predict", json={"records": [bad]}, timeout=30).status_code == 422
    text = httpx.get(f"{server}/metrics", timeout=10).text
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def trained_schema(server: str) -> list[dict]:
    return httpx.get(f"{server}/schema", timeout=10).json()["columns"]


def test_datacontract_test_passes_on_the_training_data_and_fails_on_a_corrupted_copy(trained: Project) -> None:
    """datacontract-cli, the reference client of ODCS, runs the generated contract on the training file."""
    datacontract = Path(sys.executable).parent / "datacontract"
    (contract,) = (trained.root / "contracts").glob("*.odcs.yaml")
    command = [str(datacontract), "test", str(contract.relative_to(trained.root))]
    env = {**os.environ, "DATACONTRACT_TELEMETRY": "false"}
    done = subprocess.run(command, cwd=trained.root, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Data contract is valid" in done.stdout
    frame, data, target = data_of(trained)
    original = (trained.root / data).read_bytes()
    numeric = next(c for c in frame.columns if c != target and pd.api.types.is_integer_dtype(frame[c]))
    bad = frame.copy()
    bad.loc[:20, numeric] = int(frame[numeric].max()) * 100
    try:
        bad.to_csv(trained.root / data, index=False)
        broken = subprocess.run(command, cwd=trained.root, capture_output=True, text=True, timeout=300, env=env)
    finally:
        (trained.root / data).write_bytes(original)
    assert broken.returncode != 0, broken.stdout[-3000:]
    assert numeric in broken.stdout and "maximum" in broken.stdout
