"""`predict --engine spark` on a real local Spark (pyspark + Java), against the pandas engine (opt-in).

A trained project registered in the embedded sqlite MLflow scores a file of valid and invalid rows with
both engines, for a classifier (labels and P(churned)) and a LightGBM regressor with a pandas category
column (the dtype Spark does not have: the scoring pyfunc casts it back): the same rows are scored, with
equal predictions (labels exactly, floats to 1e-9), and the same rows are rejected with the same rule,
column and message. spark-submit runs the same job through the file the generated workflow submits.

Run by `make scale-test` (SHIPYARD_SCALE_TEST=1: a missing pyspark or Java fails instead of skipping).
The timings are printed (pytest -s) and kept as the test's properties (--junitxml).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from runtime_harness import CLASSIFIER_MODULE, Project, churn_data, house_data, make_project, show

REQUIRED = os.environ.get("SHIPYARD_SCALE_TEST") == "1"
SPARK_TIMEOUT = 600


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark not installed: run make scale-test"
    if _java() is None:
        return "java not found (JAVA_HOME or PATH): run make scale-test"
    return None


MISSING = _missing()
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(MISSING is not None and not REQUIRED, reason=MISSING or "")]


@pytest.fixture(autouse=True)
def _required():
    if MISSING is not None and REQUIRED:
        pytest.fail(f"SHIPYARD_SCALE_TEST=1 but {MISSING}", pytrace=False)


CATEGORY_LGBM_MODULE = textwrap.dedent(
    """\
    # %%
    import pandas as pd
    from lightgbm import LGBMRegressor

    # %%
    houses = pd.read_csv(_data("data/houses.csv"))
    houses["city"] = houses["city"].astype("category")
    features = houses[["sqft", "rooms", "age", "city"]]
    target = houses["price"]

    # %%
    reg = LGBMRegressor(n_estimators=60, learning_rate=0.1, num_leaves=15, verbose=-1, random_state=0)
    reg.fit(features, target)
    """
)


def trained(root: Path, **kwargs) -> Project:
    project = make_project(root, **kwargs)
    for step in (("train",), ("promote",)):
        done = project.run(*step, timeout=300)
        assert done.returncode == 0, show(done)
    return project


@pytest.fixture(scope="module")
def churn(tmp_path_factory) -> Project:
    return trained(tmp_path_factory.mktemp("spark") / "churn-spark", package="churn_spark", df=churn_data(),
                   data_rel="data/customers.csv", target="churned", module_source=CLASSIFIER_MODULE)


@pytest.fixture(scope="module")
def houses(tmp_path_factory) -> Project:
    return trained(tmp_path_factory.mktemp("spark") / "house-spark", package="house_spark", df=house_data(),
                   data_rel="data/houses.csv", target="price", task="regression", model_variable="reg",
                   module_source=CATEGORY_LGBM_MODULE, framework="lightgbm", dependencies=["lightgbm>=4"])


def read_any(path: Path) -> pd.DataFrame:
    """A pandas output file, or Spark's folder of part files (CSV with a header, or Parquet)."""
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if not p.name.startswith(("_", ".")))
        if any(p.suffix == ".csv" for p in parts):
            return pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        return pd.read_parquet(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def timed(project: Project, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = project.run(*args, timeout=SPARK_TIMEOUT)
    return done, time.perf_counter() - start


def assert_same(pandas_dir: Path, spark_dir: Path, key: str, *, probability: bool) -> int:
    scored_p, scored_s = read_any(pandas_dir), read_any(spark_dir)
    assert len(scored_p) == len(scored_s) > 0
    merged = scored_p.merge(scored_s, on=key, suffixes=("_pandas", "_spark"), validate="one_to_one")
    assert len(merged) == len(scored_p), "the engines scored different rows"
    if merged["prediction_pandas"].dtype.kind == "f":
        assert merged["prediction_spark"].tolist() == pytest.approx(merged["prediction_pandas"].tolist(), rel=1e-9)
    else:
        assert merged["prediction_spark"].tolist() == merged["prediction_pandas"].tolist()
    assert ("probability" in scored_s.columns) == probability == ("probability" in scored_p.columns)
    if probability:
        assert merged["probability_spark"].tolist() == pytest.approx(merged["probability_pandas"].tolist(),
                                                                     rel=1e-9, abs=1e-12)
    return len(merged)


def assert_same_rejects(pandas_file: Path, spark_dir: Path, key: str, expected: dict) -> None:
    columns = ["reject_rule", "reject_column", "reject_message"]
    rej_p = read_any(pandas_file).set_index(key)[columns].sort_index()
    rej_s = read_any(spark_dir).set_index(key)[columns].sort_index()
    assert rej_p.index.astype(str).tolist() == rej_s.index.astype(str).tolist()
    assert rej_p.to_dict("records") == rej_s.to_dict("records")
    got = {str(k): (r["reject_column"], r["reject_rule"]) for k, r in rej_s.iterrows()}
    assert got == {str(k): v for k, v in expected.items()}


def within(df: pd.DataFrame, training: pd.DataFrame, key: str) -> pd.DataFrame:
    """``df`` with its numbers clipped to the training data's range (the contract's minimum and maximum)."""
    out = df.copy()
    for c in training.select_dtypes("number").columns.drop(key, errors="ignore"):
        out[c] = out[c].clip(training[c].min(), training[c].max())
    return out


def with_bad_rows(df: pd.DataFrame, bad: dict, key: str) -> tuple[pd.DataFrame, dict]:
    """``df`` with the cells of ``bad`` ({row: (column, value, rule)}) and the rejects expected: {key: (column, rule)}."""
    out = df.astype({c: object for _, (c, _, _) in bad.items()})
    for row, (column, value, _) in bad.items():
        out.loc[row, column] = value
    return out, {df.loc[row, key]: (column, rule) for row, (column, _, rule) in bad.items()}


def test_classifier_spark_scores_and_rejects_what_pandas_does(churn, tmp_path, record_property):
    batch = within(churn_data(n=5000, seed=21), churn_data(), "customer_id")
    bad = {3: ("tenure", -5, "minimum"), 50: ("plan", "enterprise", "allowed_values"),
           700: ("support_calls", None, "required"), 4999: ("tenure", "five", "type"),
           2500: ("monthly_charges", "NA", "required")}
    batch, expected = with_bad_rows(batch, bad, "customer_id")
    batch.to_csv(tmp_path / "batch.csv", index=False)
    pandas_run, pandas_s = timed(churn, "predict", str(tmp_path / "batch.csv"), str(tmp_path / "p.csv"))
    assert pandas_run.returncode == 0, show(pandas_run)
    spark_run, spark_s = timed(churn, "predict", "--engine", "spark", str(tmp_path / "batch.csv"),
                               str(tmp_path / "s.csv"))
    assert spark_run.returncode == 0, show(spark_run)
    assert spark_run.stdout.strip().splitlines()[-1] == (
        f"scored 4995 row(s) with churn_spark v1: {tmp_path / 's.csv'}; 5 row(s) rejected: "
        f"{tmp_path / 's.rejects.csv'}")
    assert (tmp_path / "s.csv").is_dir() and (tmp_path / "s.rejects.csv").is_dir()  # Spark writes part files
    assert assert_same(tmp_path / "p.csv", tmp_path / "s.csv", "customer_id", probability=True) == 4995
    assert_same_rejects(tmp_path / "p.rejects.csv", tmp_path / "s.rejects.csv", "customer_id", expected)
    strict = churn.run("predict", "--engine", "spark", str(tmp_path / "batch.csv"), str(tmp_path / "t.parquet"),
                       "--fail-on-rejects", timeout=SPARK_TIMEOUT)
    assert strict.returncode == 1 and "5 row(s) rejected" in strict.stdout, show(strict)
    record_property("pandas_seconds", round(pandas_s, 1))
    record_property("spark_seconds", round(spark_s, 1))
    print(f"\nclassifier, 5000 rows: pandas engine {pandas_s:.1f}s, spark engine (local[*]) {spark_s:.1f}s")


def test_regressor_with_a_category_column_from_parquet(houses, tmp_path, record_property):
    batch = within(house_data(n=3000, seed=33), house_data(), "house_id")
    bad = {10: ("sqft", 5.0, "minimum"), 20: ("city", "west", "allowed_values"), 30: ("rooms", "many", "type"),
           40: ("age", None, "required")}
    batch, expected = with_bad_rows(batch, bad, "house_id")
    batch.to_csv(tmp_path / "batch.csv", index=False)
    pd.read_csv(tmp_path / "batch.csv").to_parquet(tmp_path / "batch.parquet", index=False)
    pandas_run, pandas_s = timed(houses, "predict", str(tmp_path / "batch.csv"), str(tmp_path / "p.parquet"))
    assert pandas_run.returncode == 0, show(pandas_run)
    assert "scored 2996 row(s)" in pandas_run.stdout and "4 row(s) rejected" in pandas_run.stdout
    spark_run, spark_s = timed(houses, "predict", "--engine", "spark", str(tmp_path / "batch.csv"), "-o",
                               str(tmp_path / "s.parquet"))
    assert spark_run.returncode == 0, show(spark_run)
    assert assert_same(tmp_path / "p.parquet", tmp_path / "s.parquet", "house_id", probability=False) == 2996
    assert_same_rejects(tmp_path / "p.rejects.parquet", tmp_path / "s.rejects.parquet", "house_id", expected)
    from_parquet = houses.run("predict", "--engine", "spark", str(tmp_path / "batch.parquet"),
                              str(tmp_path / "q.parquet"), timeout=SPARK_TIMEOUT)
    assert from_parquet.returncode == 0, show(from_parquet)
    assert assert_same(tmp_path / "p.parquet", tmp_path / "q.parquet", "house_id", probability=False) == 2996
    record_property("pandas_seconds", round(pandas_s, 1))
    record_property("spark_seconds", round(spark_s, 1))
    print(f"\nregressor, 3000 rows: pandas engine {pandas_s:.1f}s, spark engine (local[*]) {spark_s:.1f}s")


def test_spark_submit_runs_the_job_file_the_workflow_submits(churn, tmp_path):
    submit = Path(sys.executable).parent / "spark-submit"
    assert submit.is_file(), "pyspark installs spark-submit next to the interpreter"
    within(churn_data(n=300, seed=5), churn_data(), "customer_id").to_csv(tmp_path / "batch.csv", index=False)
    job = churn.root / "src" / churn.package / "spark_job.py"
    env = churn.env(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    done = subprocess.run([str(submit), "--master", "local[2]", str(job), str(tmp_path / "batch.csv"),
                           str(tmp_path / "out.parquet")], cwd=churn.root, env=env, capture_output=True, text=True,
                          timeout=SPARK_TIMEOUT)
    assert done.returncode == 0, show(done)
    assert f"scored 300 row(s) with churn_spark v1: {tmp_path / 'out.parquet'}; 0 row(s) rejected" in done.stdout
    assert len(read_any(tmp_path / "out.parquet")) == 300


def test_inputs_spark_cannot_read_are_refused_before_it_starts(churn, tmp_path):
    churn_data(n=10).to_json(tmp_path / "batch.json", orient="records")
    done = churn.run("predict", "--engine", "spark", str(tmp_path / "batch.json"), str(tmp_path / "o.parquet"))
    assert done.returncode == 2, show(done)
    assert done.stderr.startswith("error: --engine spark reads CSV and Parquet files or tables, not json"), show(done)
    table = churn.run("predict", "--engine", "spark", "analytics.customers")
    assert table.returncode == 2 and "a table INPUT (analytics.customers) needs an OUTPUT" in table.stderr, show(table)

