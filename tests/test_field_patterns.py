"""The field corpus's patterns, end to end: adopt a small repo that reproduces one, then run the
generated project's own commands for real (PYTHONPATH=src, the embedded MLflow in the project).

Each pattern broke the generated project on a real repo (docs/field-test.md); these are the fixtures
that keep them fixed. What each builder must give is in its docstring (tests/field_fixtures.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import field_fixtures as ff
import pytest
import yaml
from conftest import adopt_json, git, make_repo

pytestmark = pytest.mark.e2e
PYTHON = sys.executable


@dataclass
class Adopted:
    root: Path
    package: str
    report: dict

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(PYTHONPATH=str(self.root / "src"), MLFLOW_DISABLE_TELEMETRY="true")
        return env

    def run(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "-m", self.package, *args], cwd=self.root, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def pytest(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=self.root,
                              env=self.env(), capture_output=True, text=True, timeout=600)

    def settings(self) -> str:
        return (self.root / "src" / self.package / "settings.py").read_text(encoding="utf-8")

    def contract(self) -> dict:
        (path,) = (self.root / "contracts").glob("*.odcs.yaml")
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    def read_options(self) -> dict:
        code = f"from {self.package} import settings; import json; print(json.dumps(settings.READ_OPTIONS))"
        done = subprocess.run([PYTHON, "-c", code], cwd=self.root, env=self.env(), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def show(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"


def adopt(tmp_path: Path, build) -> Adopted:
    root = make_repo(build(tmp_path))
    report = adopt_json(root, "--owner", "field@example.org")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt")
    return Adopted(root, report["package"], report)


def columns_of(contract: dict) -> dict[str, dict]:
    return {p["name"]: p for p in contract["schema"][0]["properties"]}


def codes(report: dict) -> set[str]:
    return {w["code"] for w in report["warnings"]}


# --------------------------------------------------------------------------- reading as the notebook reads
def test_semicolon_csv_with_decimal_commas_and_a_bom_reads_as_the_notebook_reads_it(tmp_path):
    project = adopt(tmp_path, ff.semicolon_decimal_bom_repo)
    assert project.read_options() == {"format": "csv", "sep": ";", "decimal": ","}
    cols = columns_of(project.contract())
    assert list(cols)[0] == "id"  # the BOM is not glued to the first name
    assert cols["charges"]["logicalType"] == "number" and cols["plan"]["quality"][0]["arguments"][
        "validValues"] == ["básico", "padrão", "prêmio"]
    assert project.contract()["servers"][0]["path"].startswith("build/contract/")  # DuckDB reads no decimal commas
    tests = project.pytest()
    assert tests.returncode == 0, show(tests)
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "notebook" in trained.stdout and "version 1" in trained.stdout


def test_headerless_tsv_with_names_and_a_derived_target(tmp_path):
    project = adopt(tmp_path, ff.headerless_tsv_repo)
    assert project.read_options() == {"format": "csv", "header": None, "names": ["label", "message"], "sep": "\t"}
    assert project.report["target"]["value"] == "y_num"
    assert 'TARGET_SOURCE = "label"' in project.settings()
    cols = columns_of(project.contract())
    assert list(cols) == ["label", "message"] and cols["label"].get("tags") == ["target"]
    tests = project.pytest()
    assert tests.returncode == 0, show(tests)
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "notebook   Pipeline[MultinomialNB]" in trained.stdout, show(trained)  # the notebook's model trained


def test_latin1_file_with_blank_cells_reads_the_same_everywhere(tmp_path):
    project = adopt(tmp_path, ff.latin1_blank_cells_repo)
    assert project.read_options()["encoding"] == "latin-1"
    cols = columns_of(project.contract())
    # " " is a value of a text column, as pandas reads it: the contract and every reader agree
    assert cols["total"]["logicalType"] == "string" and cols["total"]["required"] is True
    assert "São Paulo" in cols["região"]["quality"][0]["arguments"]["validValues"]
    assert project.run("check-data").returncode == 0
    tests = project.pytest()
    assert tests.returncode == 0, show(tests)
    assert project.run("train").returncode == 0


def test_excel_with_a_named_sheet(tmp_path):
    project = adopt(tmp_path, ff.excel_repo)
    assert project.read_options() == {"format": "excel", "sheet_name": "dados"}
    assert '"openpyxl>=3.1"' in (project.root / "pyproject.toml").read_text(encoding="utf-8")
    assert set(columns_of(project.contract())) == {"cimento", "agua", "idade", "resistencia"}
    tests = project.pytest()
    assert tests.returncode == 0, show(tests)
    trained = project.run("train")
    assert trained.returncode == 0 and "r2" in trained.stdout, show(trained)


def test_text_table_with_a_preamble_read_from_a_subfolder(tmp_path):
    project = adopt(tmp_path, ff.preamble_txt_repo)
    assert project.report["data"]["value"] == "data/TG_000042.txt"
    assert project.read_options() == {"format": "csv", "header": 15}
    assert "    DATE" in columns_of(project.contract())
    assert project.run("check-data").returncode == 0
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "(notebook)" in trained.stdout or "notebook" in trained.stdout


# --------------------------------------------------------------------------- the notebook runs as in Jupyter
def test_pathlib_root_search_and_chdir_run_in_the_sandbox_and_change_nothing(tmp_path):
    project = adopt(tmp_path, ff.parquet_pathlib_repo)
    assert project.report["data"]["value"] == "data/houses.parquet"
    before = (project.root / "data" / "houses.parquet").read_bytes()
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "notebook   LGBMRegressor" in trained.stdout, show(trained)  # the notebook's model, not the baseline only
    assert "(notebook cell 3)" in trained.stderr or "notebook cell" in trained.stderr  # progress by notebook cell
    assert (project.root / "data" / "houses.parquet").read_bytes() == before
    assert git(project.root, "status", "--porcelain") == ""


def test_a_slow_cell_is_stopped_by_max_minutes_naming_it(tmp_path):
    project = adopt(tmp_path, ff.slow_cell_repo)
    started = time.monotonic()
    done = project.run("train", "--max-minutes", "0.05")
    assert time.monotonic() - started < 60
    assert done.returncode == 3, show(done)
    assert "notebook cell 5" in done.stderr and "still running" in done.stderr, show(done)  # cell 1 is markdown
    assert "--max-minutes" in done.stderr


# --------------------------------------------------------------------------- models
@pytest.fixture(scope="module")
def catboost_project(tmp_path_factory) -> Adopted:
    base = tmp_path_factory.mktemp("catboost")
    root = ff.catboost_joblib_repo(base)
    (root / "models").mkdir()
    subprocess.run([PYTHON, "-c", _RUN_NOTEBOOK, str(root / "notebooks" / "catboost.ipynb")], cwd=root / "notebooks",
                   check=True, capture_output=True)  # the notebook ran once and its model file was committed
    project = adopt(base, lambda _: root)
    return project


_RUN_NOTEBOOK = """\
import json, sys
cells = json.load(open(sys.argv[1]))["cells"]
namespace = {}
for cell in cells:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), namespace)
"""


def test_catboost_goes_through_the_generic_path_and_serves(catboost_project):
    project = catboost_project
    assert project.report["model"]["framework"] == "catboost"
    assert "model-framework-generic" in codes(project.report)
    assert 'MODEL_FILE = "models/churn.joblib"' in project.settings()
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "CatBoostClassifier" in trained.stdout


def test_a_committed_model_file_is_registered_without_running_the_notebook(catboost_project):
    project = catboost_project
    done = project.run("train", "--from-file")
    assert done.returncode == 0, show(done)
    assert "file " in done.stdout and "running" not in done.stdout  # no notebook run
    assert "not re-fitted" in done.stdout
    model = project.root / "models" / "churn.joblib"
    original = model.read_bytes()
    model.write_bytes(original + b"\0")  # a local change: not the committed file any more
    try:
        refused = project.run("train", "--from-file")
        assert refused.returncode == 1 and "not committed" in refused.stderr, show(refused)
    finally:
        model.write_bytes(original)


# --------------------------------------------------------------------------- one schema, training to serving
def test_requests_are_cast_to_the_training_dtypes_and_checked_by_type(tmp_path):
    """A LightGBM model with a pandas category column (the 9% batch effect): a training row's prediction
    is the same alone and in a batch of 100; a string for a number or an object for a string is a 422."""
    project = adopt(tmp_path, ff.parquet_pathlib_repo)
    trained = project.run("train")
    assert "(notebook) with alias" in trained.stdout, show(trained)
    assert project.run("promote").returncode == 0
    example = json.loads(project.run("request-example", "--rows", "5").stdout)["records"]
    code = f"""
import json, sys
from fastapi.testclient import TestClient
from {project.package}.service import create_app
records = json.loads(sys.argv[1])
with TestClient(create_app()) as client:
    schema = client.get("/schema").json()
    batch = (records * 20)[:100]
    together = client.post("/predict", json={{"records": batch}}).json()["predictions"]
    alone = [client.post("/predict", json={{"records": [r]}}).json()["predictions"][0] for r in records]
    wrong_number = client.post("/predict", json={{"records": [{{**records[0], "area": "not a number"}}]}})
    wrong_text = client.post("/predict", json={{"records": [{{**records[0], "district": {{"not": "a value"}}}}]}})
    print(json.dumps({{"schema": schema, "together": together[:5], "alone": alone,
                      "wrong_number": [wrong_number.status_code, wrong_number.json()],
                      "wrong_text": [wrong_text.status_code, wrong_text.json()]}}))
"""
    done = subprocess.run([PYTHON, "-c", code, json.dumps(example)], cwd=project.root, env=project.env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, show(done)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    dtypes = {c["name"]: c["dtype"] for c in out["schema"]["columns"]}
    assert dtypes["district"] == "category" and dtypes["area"] == "int64"
    assert out["together"] == out["alone"]
    status, body = out["wrong_number"]
    assert status == 422 and [(e["column"], e["rule"]) for e in body["detail"]] == [("area", "type")]
    status, body = out["wrong_text"]
    assert status == 422 and [(e["column"], e["rule"]) for e in body["detail"]] == [("district", "type")]


def test_every_pattern_project_installs_in_a_fresh_virtualenv(tmp_path):
    """`pip install -e .` of each generated project succeeds (one resolver run for all of them)."""
    builders = [ff.semicolon_decimal_bom_repo, ff.headerless_tsv_repo, ff.latin1_blank_cells_repo, ff.excel_repo,
                ff.preamble_txt_repo, ff.parquet_pathlib_repo, ff.slow_cell_repo]
    projects = [adopt(tmp_path / build.__name__, build) for build in builders]
    venv = tmp_path / "venv"
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    command = [str(python), "-m", "pip", "install", "--quiet"]
    for project in projects:
        command += ["-e", str(project.root)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    for project in projects:
        imported = subprocess.run([str(python), "-c", f"import {project.package}.train"], capture_output=True,
                                  text=True, cwd=tmp_path)
        assert imported.returncode == 0, imported.stderr[-2000:]


def test_a_column_of_dates_is_a_feature_of_the_baseline_not_an_id(tmp_path):
    project = adopt(tmp_path, ff.dated_series_repo)
    assert project.report["target"]["value"] == "AIR"
    done = project.run("train", "--baseline")
    assert done.returncode == 0, show(done)
    r2 = float(next(line.split()[2] for line in done.stdout.splitlines() if line.startswith("baseline ")))
    assert r2 > 0.8  # the trend in time explains the series


def test_day_first_dates_mean_the_same_day_alone_and_in_a_batch(tmp_path):
    """The generated project's own tests (batch identity among them) pass on a model fitted on dates."""
    project = adopt(tmp_path, ff.day_first_dates_repo)
    assert project.report["target"]["value"] == "Price"
    tested = project.pytest()
    assert tested.returncode == 0, show(tested)
    trained = project.run("train", "--baseline")
    assert trained.returncode == 0, show(trained)
    r2 = float(next(line.split()[2] for line in trained.stdout.splitlines() if line.startswith("baseline ")))
    assert r2 > 0.8  # the month read as the month, not the day, explains the fare


def test_a_rescaled_target_on_other_rows_is_not_compared_with_the_raw_one(tmp_path):
    project = adopt(tmp_path, ff.rescaled_target_repo)
    assert 'TARGET = "price_usd"' in project.settings() and 'TARGET_SOURCE = "Price"' in project.settings()
    trained = project.run("train")
    assert trained.returncode == 0, show(trained)
    assert "do not compare" in trained.stdout and "(notebook) with alias" in trained.stdout
    promoted = project.run("promote")  # the gate does not hold the raw-price baseline against it
    assert promoted.returncode == 0, show(promoted)


def test_keep_going_skips_a_failing_cell_and_trains_the_model(tmp_path):
    project = adopt(tmp_path, ff.failing_plot_repo)
    stopped = project.run("train")
    assert stopped.returncode == 1 and "notebook cell 3" in stopped.stderr, show(stopped)
    done = project.run("train", "--keep-going")
    assert done.returncode == 0, show(done)
    assert "skipped a failing cell (--keep-going)" in done.stdout and "notebook cell 3" in done.stdout
    assert "notebook   RandomForestClassifier" in done.stdout


def test_a_command_says_which_dependencies_are_missing_before_it_starts(tmp_path):
    """The field's signate-titanic keeps its own pyproject.toml: the generated project's dependencies are not
    installed, and `train` used to run the notebook for 20 minutes before failing on `import mlflow`."""
    project = adopt(tmp_path, ff.headerless_tsv_repo)
    bare = tmp_path / "bare"
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(bare)], check=True)
    for command, needs in (("train", "pandas, scikit-learn, mlflow-skinny"), ("check-ownership", "pyyaml")):
        done = subprocess.run([str(bare / "bin" / "python"), "-m", project.package, command], cwd=project.root,
                              env=project.env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, show(done)
        assert done.stderr.startswith(f"error: {command} needs {needs}, not installed in "), show(done)
        assert "pip install -e '.[dev]'" in done.stderr and "Traceback" not in done.stderr
