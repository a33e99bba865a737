"""Spark batch scoring in the production template, everything that runs without Spark (issue 10, part 4).

- The `spark` answer adds a scheduled spark-submit workflow, clean under actionlint, zizmor and the
  workflow schemas, pinned by commit SHA like the other workflows; without it there is none.
- `predict` (pandas engine) checks each row as the service does: the rows that break a rule go to the
  rejects file with the rule, column and message, the others are scored exactly as in a clean file.
- `predict --engine spark` without pyspark stops at once (exit 2) with the extra to install; READ_OPTIONS
  Spark cannot honour are refused in one line naming them.

Spark itself (local[*], real pyspark and Java): tests/test_scale_spark.py (`make scale-test`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from runtime_harness import churn_data, make_project, show
from test_template_delivery import ANSWER_SETS, TEMPLATE, run, tool

WORKFLOW = ".github/workflows/batch-score.yml"
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(?:\s*#\s*(\S+))?", re.M)


# --------------------------------------------------------------------------- the workflow
@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    import copier

    sets = {
        "spark": {"project_name": "churn-model", "ci_provider": "github", "spark": True},
        "spark_both_unusual": {"project_name": "Análise & Churn", "package_name": "analise_churn",
                               "ci_provider": "both", "spark": True, "data_path": "raw data/clientes 2024.csv"},
        "spark_hostile": {**ANSWER_SETS["hostile"], "spark": True},  # shell and expression syntax in every answer
        "no_spark": {"project_name": "churn-model", "ci_provider": "github"},
        "spark_gitlab": {"project_name": "churn-model", "ci_provider": "gitlab", "spark": True},
    }
    out = {}
    for name, data in sets.items():
        dst = tmp_path_factory.mktemp(f"render-{name}")
        copier.run_copy(str(TEMPLATE), dst, data=data, defaults=True, unsafe=False, quiet=True)
        out[name] = dst
    return out


def test_spark_true_adds_the_workflow_and_false_does_not(rendered):
    assert (rendered["spark"] / WORKFLOW).is_file()
    assert (rendered["spark_both_unusual"] / WORKFLOW).is_file() and (rendered["spark_hostile"] / WORKFLOW).is_file()
    assert not (rendered["no_spark"] / WORKFLOW).exists()
    assert sorted(p.name for p in (rendered["no_spark"] / ".github/workflows").iterdir()) == [
        "ci.yml", "monitor.yml", "release.yml", "train.yml"]
    assert not (rendered["spark_gitlab"] / ".github").exists()  # no GitHub workflows for a GitLab project
    for root in rendered.values():
        assert not [p for p in root.rglob("*") if p.name.endswith(".jinja") or "{%" in p.name]


@pytest.mark.parametrize("name", ["spark", "spark_both_unusual", "spark_hostile"])
def test_the_workflow_is_clean_under_actionlint_zizmor_and_the_schemas(rendered, name):
    root = rendered[name]
    proc = run([tool("actionlint"), "-no-color", WORKFLOW], root)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    for persona in ("regular", "auditor"):
        proc = run([tool("zizmor"), "--offline", f"--persona={persona}", "--format=plain", WORKFLOW], root)
        assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout + proc.stderr
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        proc = run([tool("check-jsonschema"), "--builtin-schema", schema, WORKFLOW], root)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_workflow_submits_the_project_with_secrets_and_pinned_actions(rendered):
    root = rendered["spark"]
    text = (root / WORKFLOW).read_text(encoding="utf-8")
    flow = yaml.safe_load(text)
    triggers = flow[True]  # YAML 1.1 reads the `on:` key as True
    assert triggers["schedule"][0]["cron"] and set(triggers["workflow_dispatch"]["inputs"]) == {"input", "output"}
    assert flow["permissions"] == {}
    job = flow["jobs"]["score"]
    assert job["permissions"] == {"contents": "read"} and job["timeout-minutes"] > 0
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    # the cluster and its credentials come from variables and secrets, never from the file
    assert job["env"]["SPARK_MASTER"] == "${{ vars.SPARK_MASTER }}"
    # each secret only in the step that needs it, not in the job (the installs never see them)
    assert not any("secrets." in str(v) for v in job["env"].values()), job["env"]
    conf = next(s for s in job["steps"] if "SPARK_CONF_DIR" in s.get("run", ""))
    assert conf["env"] == {"SPARK_DEFAULTS": "${{ secrets.SPARK_DEFAULTS }}"}
    submit = next(s for s in job["steps"] if "spark-submit" in s.get("run", ""))
    assert submit["env"]["MLFLOW_TRACKING_URI"] == "${{ secrets.MLFLOW_TRACKING_URI }}"
    assert "::error::nothing to score" in submit["run"]  # no input anywhere: one clear line, not a Spark trace
    assert not re.search(r"(spark|k8s|yarn)://[\w.]", text.replace("spark://host:7077", "").replace(
        "k8s://https://host:443", "")), "a literal cluster address"
    score = next(s["run"] for s in job["steps"] if "spark-submit" in s.get("run", ""))
    assert 'spark-submit --master "$master" --py-files "$WHEEL"' in score
    assert "import churn_model.spark_job as job" in score
    install = next(s["run"] for s in job["steps"] if "pip wheel" in s.get("run", ""))
    assert '"${wheel}[spark]"' in install
    # every action pinned by the same commit as the other workflows pin it
    pins: dict[str, set[str]] = {}
    for other in (root / ".github/workflows").glob("*.yml"):
        if other.name != "batch-score.yml":
            for ref, _ in USES.findall(other.read_text(encoding="utf-8")):
                pins.setdefault(ref.split("@")[0], set()).add(ref.split("@")[1])
    used = USES.findall(text)
    assert len(used) == 3
    for ref, version in used:
        action, sha = ref.split("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha) and version.startswith("v"), ref
        assert pins.get(action) == {sha}, (action, sha, pins.get(action))


def test_the_generated_project_declares_the_spark_extra(rendered):
    import tomllib

    project = tomllib.loads((rendered["no_spark"] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["spark"] == ["pyspark>=3.5"]
    assert not any(d.startswith("pyspark") for d in project["dependencies"])  # an extra, never a default


# --------------------------------------------------------------------------- the pandas engine's rejects
BAD = {3: ("tenure", -5, "minimum"), 5: ("plan", "enterprise", "allowed_values"),
       7: ("support_calls", None, "required"), 9: ("tenure", "five", "type")}


def with_bad_rows(df: pd.DataFrame) -> pd.DataFrame:
    out = df.astype({"tenure": object, "support_calls": object})
    for row, (column, value, _) in BAD.items():
        out.loc[row, column] = value
    return out


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-churn") / "churn-batch"
    project = make_project(root, package="churn_batch", df=churn_data(), data_rel="data/customers.csv",
                           target="churned")
    for step in (("train", "--baseline"), ("promote",)):
        done = project.run(*step)
        assert done.returncode == 0, show(done)
    return project


def test_rows_that_break_a_rule_are_rejected_and_the_others_scored_as_in_a_clean_file(churn, tmp_path):
    clean = churn_data(seed=9).head(40)
    clean.to_csv(tmp_path / "clean.csv", index=False)
    with_bad_rows(clean).to_csv(tmp_path / "batch.csv", index=False)
    base = churn.run("predict", str(tmp_path / "clean.csv"), str(tmp_path / "clean-scored.csv"))
    assert base.returncode == 0, show(base)
    done = churn.run("predict", str(tmp_path / "batch.csv"), str(tmp_path / "scored.csv"))
    assert done.returncode == 0, show(done)
    rejects = tmp_path / "scored.rejects.csv"
    assert done.stdout.strip() == (f"scored 36 row(s) with churn_batch v1: {tmp_path / 'scored.csv'}; "
                                   f"4 row(s) rejected: {rejects}")
    scored, rejected = pd.read_csv(tmp_path / "scored.csv"), pd.read_csv(rejects)
    bad_ids = {clean.loc[i, "customer_id"] for i in BAD}
    assert set(scored["customer_id"]) == set(clean["customer_id"]) - bad_ids
    assert {"prediction", "probability"} <= set(scored.columns) and "reject_rule" not in scored.columns
    assert scored["probability"].between(0, 1).all()
    expected = pd.read_csv(tmp_path / "clean-scored.csv").set_index("customer_id").loc[scored["customer_id"]]
    assert scored["prediction"].tolist() == expected["prediction"].tolist()
    assert scored["probability"].tolist() == pytest.approx(expected["probability"].tolist(), rel=1e-12)
    got = {r.customer_id: (r.reject_column, r.reject_rule) for r in rejected.itertuples()}
    assert got == {clean.loc[i, "customer_id"]: (column, rule) for i, (column, _, rule) in BAD.items()}
    messages = dict(zip(rejected["customer_id"], rejected["reject_message"], strict=True))
    assert "below the minimum" in messages[clean.loc[3, "customer_id"]]
    assert "'five' is not an integer" in messages[clean.loc[9, "customer_id"]]
    assert list(rejected.columns) == [*clean.columns, "reject_rule", "reject_column", "reject_message"]


def test_the_exit_code_says_when_rows_were_rejected(churn, tmp_path):
    clean = churn_data(seed=11).head(20)
    with_bad_rows(clean).to_csv(tmp_path / "batch.csv", index=False)
    strict = churn.run("predict", str(tmp_path / "batch.csv"), "-o", str(tmp_path / "s.parquet"),
                       "--rejects", str(tmp_path / "bad.csv"), "--fail-on-rejects")
    assert strict.returncode == 1, show(strict)
    assert "scored 16 row(s)" in strict.stdout and f"4 row(s) rejected: {tmp_path / 'bad.csv'}" in strict.stdout
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == 16 and len(pd.read_csv(tmp_path / "bad.csv")) == 4
    everything = clean.assign(plan="enterprise")
    everything.to_csv(tmp_path / "all-bad.csv", index=False)
    none = churn.run("predict", str(tmp_path / "all-bad.csv"), str(tmp_path / "none.csv"))
    assert none.returncode == 1 and "scored 0 row(s)" in none.stdout, show(none)
    assert len(pd.read_csv(tmp_path / "none.rejects.csv")) == 20
    clean.to_csv(tmp_path / "clean.csv", index=False)
    fine = churn.run("predict", str(tmp_path / "clean.csv"), "--fail-on-rejects")
    assert fine.returncode == 0 and "0 row(s) rejected" in fine.stdout, show(fine)
    assert (tmp_path / "clean.predictions.csv").is_file() and (tmp_path / "clean.predictions.rejects.csv").is_file()
    twice = churn.run("predict", str(tmp_path / "clean.csv"), str(tmp_path / "a.csv"), "-o", str(tmp_path / "b.csv"))
    assert twice.returncode == 2 and "two outputs" in twice.stderr, show(twice)


# --------------------------------------------------------------------------- no pyspark, options Spark lacks
def python_without_pyspark(where: Path) -> Path:
    """A virtualenv holding this interpreter's packages but pyspark: the project installed without its extra."""
    venv = where / "no-spark"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    source = Path(next(p for p in sys.path if p.endswith("site-packages") and (Path(p) / "pandas").is_dir()))
    for entry in source.iterdir():
        if not entry.name.lower().startswith("pyspark") and not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    return venv / "bin" / "python"


def test_engine_spark_without_pyspark_exits_2_with_the_extra_to_install(churn, tmp_path):
    python = python_without_pyspark(tmp_path)
    probe = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('pyspark'), "
                            "u.find_spec('pandas') is not None, u.find_spec('mlflow') is not None)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.split() == ["None", "True", "True"], probe.stdout
    done = subprocess.run([str(python), "-m", churn.package, "predict", "--engine", "spark", "data/customers.csv",
                           "out.parquet"], cwd=churn.root, env=churn.env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, show(done)
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"error: predict --engine spark needs pyspark, not installed in {python}", show(done)
    assert lines[1].startswith("hint: install the project with its dependencies: pip install -e '.[spark]'")
    assert len(lines) == 2 and not (churn.root / "out.parquet").exists()
    pandas_engine = subprocess.run([str(python), "-m", churn.package, "predict", "data/customers.csv", str(
        tmp_path / "p.csv")], cwd=churn.root, env=churn.env(), capture_output=True, text=True, timeout=120)
    assert pandas_engine.returncode == 0, show(pandas_engine)  # the default engine does not need it


def test_read_options_spark_cannot_honour_are_refused_naming_them(churn):
    code = (
        "import json\n"
        "from churn_batch.errors import ProjectError\n"
        "from churn_batch.spark_scoring import csv_options\n"
        "out = {}\n"
        "for opts in ({'format': 'csv', 'sep': ';', 'header': 0, 'encoding': 'latin-1', 'na_values': ['?']},\n"
        "             {'format': 'csv', 'sep': ';', 'decimal': ',', 'thousands': '.', 'skiprows': 2},\n"
        "             {'format': 'csv', 'header': None, 'names': ['a', 'b']}):\n"
        "    try:\n"
        "        spark, names, usecols, na = csv_options(opts)\n"
        "        out[repr(opts)] = {'spark': spark, 'names': names, 'na': na[-1]}\n"
        "    except ProjectError as exc:\n"
        "        out[repr(opts)] = {'error': exc.message, 'code': exc.exit_code}\n"
        "print(json.dumps(list(out.values())))\n"
    )
    done = churn.python(code)
    assert done.returncode == 0, show(done)
    honoured, refused, headerless = json.loads(done.stdout.strip().splitlines()[-1])
    assert honoured == {"spark": {"sep": ";", "encoding": "latin-1", "header": "true", "multiLine": "true",
                                    "escape": "\""}, "names": None, "na": "?"}
    assert refused["code"] == 2 and "\n" not in refused["error"]
    assert "decimal=','" in refused["error"] and "thousands='.'" in refused["error"]
    assert "skiprows=2" in refused["error"] and "sep" not in refused["error"]
    assert headerless == {"spark": {"header": "false", "multiLine": "true", "escape": "\""}, "names": ["a", "b"],
                          "na": "null"}
