"""Fixture repos reproducing REALITY.md: adopt keeps every file, runs twice cleanly, states the facts."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import inspect_fixtures as fx
import pytest
from conftest import adopt_json, git, make_repo, snapshot


def codes(report: dict) -> set[str]:
    return {w["code"] for w in report["warnings"]}


def adopt_twice(root: Path) -> tuple[dict, str]:
    """Adopt, check nothing of the user's changed, commit, adopt again: nothing to do."""
    make_repo(root)
    before = snapshot(root)
    report = adopt_json(root)
    after = snapshot(root)
    changed = [rel for rel, content in before.items() if after.get(rel) != content]
    assert changed == [], f"pre-existing files changed: {changed}"
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt")
    again = adopt_json(root)
    assert again["changes_nothing"] is True, again["files"]
    assert again["files"]["conflict"] == report["files"]["conflict"], "re-adoption must not see its own output"
    assert git(root, "status", "--porcelain") == ""
    module = root / "src" / report["package"] / "from_notebook.py"
    if module.exists():
        ast.parse(module.read_text(encoding="utf-8"))
    return report, (root / "ADOPTION.md").read_text(encoding="utf-8")


def test_v3_notebook_with_python2_cells(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.python2_v3_repo(tmp_path))
    assert {"python2-syntax", "cell-not-python3"} <= codes(report)
    py2 = next(w for w in report["warnings"] if w["code"] == "python2-syntax")
    assert py2["path"] == "legacy/Titanic Analysis.ipynb" and py2["cell"] == 3
    assert "legacy/Titanic Analysis.ipynb, cell 3" in adoption
    assert "nbformat 3" in adoption


def test_absolute_windows_and_colab_paths(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.foreign_paths_repo(tmp_path))
    assert {"absolute-path", "data-missing", "colab-call"} <= codes(report)
    module = (tmp_path / "foreign/src/foreign/from_notebook.py").read_text(encoding="utf-8")
    assert "D:/Usu" not in module and "/content/drive/MyDrive/projeto" not in module
    assert "pd.read_csv(_data('data/train.csv'))" in module and "pd.read_csv(_data('data/holdout.csv'))" in module
    assert "/Users/bob/Downloads/extra.csv" in adoption


def test_repo_where_no_model_is_trained(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.exploration_only_repo(tmp_path))
    assert report["model"] is None and "no-model" in codes(report)
    assert "none trained" in adoption and "train --baseline" in adoption
    assert report["target"]["value"] == "species"


def test_missing_data_file(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.missing_data_and_chain_repo(tmp_path))
    missing = [w for w in report["warnings"] if w["code"] == "data-missing"]
    assert [(w["path"], w["cell"]) for w in missing] == [("1_prepare.ipynb", 2)]
    assert "data/raw_sales.csv" in adoption
    assert report["data"]["value"] == "data/sample.csv" and report["task"] == "regression"


def test_local_helper_module(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.local_helpers_repo(tmp_path))
    deps = " ".join(report["dependencies"])
    assert "xgboost" in deps and "seaborn" in deps
    assert "utils" not in report["dependencies"] and "helpers" not in report["dependencies"]
    assert "unknown-distribution" in codes(report)
    pyproject = (tmp_path / "helpers/pyproject.toml").read_text(encoding="utf-8")
    assert '"xgboost' in pyproject and '"utils' not in pyproject


def test_conda_environment_file(tmp_path: Path) -> None:
    report, adoption = adopt_twice(fx.conda_env_repo(tmp_path))
    assert "old-pin" in codes(report)
    assert any(d.startswith("xgboost") for d in report["dependencies"])
    assert "environment.yml" in adoption
    pyproject = (tmp_path / "conda/pyproject.toml").read_text(encoding="utf-8")
    assert "0.20.3" not in pyproject  # a decade-old pin is not carried into the project


@pytest.mark.parametrize("builder", [fx.sklearn_classic_repo, fx.boosting_repo, fx.statsmodels_formula_repo,
                                     fx.deep_learning_repo, fx.exercise_and_r_repo, fx.odd_names_repo])
def test_other_reality_patterns_adopt_cleanly(tmp_path: Path, builder: Callable[[Path], Path]) -> None:
    report, adoption = adopt_twice(builder(tmp_path))
    assert report["applied"] is True
    assert "## Needs your attention" in adoption


def test_a_v3_training_notebook_becomes_a_module_with_its_python2_cell_commented_out(tmp_path: Path) -> None:
    root = tmp_path / "v3model"
    fx.write(root, "titanic.csv", "Pclass,Age,Fare,Survived\n" + "".join(
        f"{1 + i % 3},{20 + i % 40},{10.5 + i},{i % 2}\n" for i in range(80)))
    fx.write(root, "Titanic model.ipynb", fx.nb3([
        ("heading", "Titanic"),
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
        "df = pd.read_csv('/content/titanic.csv')\nprint \"rows\", len(df)\ndef first((a, b)): return a",
        ("markdown", "Model"),
        "X = df[['Pclass', 'Age', 'Fare']]\ny = df['Survived']\nclf = LogisticRegression().fit(X, y)",
    ]))
    report, adoption = adopt_twice(root)
    assert report["model"]["variable"] == "clf" and report["target"]["value"] == "Survived"
    module = (root / "src/v3model/from_notebook.py").read_text(encoding="utf-8")
    assert "clf = LogisticRegression().fit(X, y)" in module
    assert "# [shipyard] cell commented out: not Python 3" in module
    commented = next(w for w in report["warnings"] if w["code"] == "cell-commented-out")
    assert commented["cell"] == 3  # 1-based among all cells, the v3 heading cell included


def test_hostile_cells_and_data_give_findings_not_tracebacks(tmp_path: Path) -> None:
    root = tmp_path / "hostile"
    fx.write(root, "data/train.json", '[{"a": [1, 2], "y": 1}, {"a": [3], "y": 0}]')
    fx.write(root, "nb.ipynb", fx.nb4([
        "import pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier",
        "df = pd.read_json('data/train.json')\nx = 1\x00",
        "m = DecisionTreeClassifier().fit(df[['y']], df['y'])",
    ]))
    make_repo(root)
    report = adopt_json(root, "--target", "y")
    found = codes(report)
    assert "contract-not-inferred" in found
    module = root / "src/hostile/from_notebook.py"
    if module.exists():  # converted with the NUL cell commented out, and importable
        ast.parse(module.read_text(encoding="utf-8"))
    else:
        assert "notebook-not-converted" in found


def test_deep_learning_models_and_gpu_code_are_flagged_at_adoption(tmp_path: Path) -> None:
    root = fx.deep_learning_repo(tmp_path)
    nb = json.loads((root / "torch_train.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": "net = net.cuda()\nxb = xb.to('cuda')"})
    (root / "torch_train.ipynb").write_text(json.dumps(nb))
    report, adoption = adopt_twice(root)
    wrapper = next(w for w in report["warnings"] if w["code"] == "model-needs-wrapper")
    assert "fit(X, y)" in wrapper["message"] and "train --baseline" in wrapper["message"]
    gpu = next(w for w in report["warnings"] if w["code"] == "gpu-code")
    assert gpu["cell"] == len(nb["cells"])
    assert "model-needs-wrapper" in adoption and "gpu-code" in adoption


def test_empty_and_repeated_header_names_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "header"
    fx.write(root, "data.csv", ",price,price,y\n1,2,3,0\n4,5,6,1\n")
    fx.write(root, "nb.ipynb", fx.nb4(["import pandas as pd\ndf = pd.read_csv('data.csv')"]))
    make_repo(root)
    report = adopt_json(root, "--dry-run", "--target", "y")
    [odd] = [w for w in report["warnings"] if w["code"] == "odd-header"]
    assert "Unnamed: 0" in odd["message"] and "price.1" in odd["message"] and odd["path"] == "data.csv"
