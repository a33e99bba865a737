"""How the data is read: the notebook's read options, sniffing without them, one reader for all.

Inspection records the read call's arguments; the template's tables.py (loaded by Shipyard itself)
reads with them. These tests drive inspection through real notebooks in small repos and the reader
on real files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_repo
from shipyard import datafiles
from shipyard.errors import InputFileError
from shipyard.inspect import inspect_repo
from shipyard.runtime import module

tables = module("tables")


def repo(tmp_path: Path, files: dict[str, str | bytes], cells: list[str], notebook: str = "train.ipynb") -> Path:
    root = tmp_path / "repo"
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / notebook).parent.mkdir(parents=True, exist_ok=True)
    (root / notebook).write_text(json.dumps(nb), encoding="utf-8")
    return make_repo(root)


FIT = "from sklearn.linear_model import LogisticRegression\nm = LogisticRegression()\nm.fit(X, y)"


# --------------------------------------------------------------------------- the notebook's read options
def test_read_options_are_the_notebooks_own_literal_arguments(tmp_path):
    root = repo(tmp_path, {"d.txt": "x\ty\n1\ta\n2\tb\n"}, [
        "import pandas as pd\ncols = ['num', 'label']\ndf = pd.read_table('d.txt', header=0, names=cols)",
        "X = df[['num']]\ny = df['label']", FIT])
    facts = inspect_repo(root)
    assert dict(facts.read_options) == {"format": "csv", "header": 0, "names": ["num", "label"], "sep": "\t"}
    assert facts.columns == ("num", "label") and facts.target.value == "label"


def test_a_computed_argument_is_left_out_and_reported(tmp_path):
    root = repo(tmp_path, {"d.csv": "a;b\n1;x\n2;y\n"}, [
        "import pandas as pd\nsep = ';'.strip()\ndf = pd.read_csv('d.csv', sep=sep, skiprows=0)",
        "X = df[['a']]\ny = df['b']", FIT])
    facts = inspect_repo(root)
    assert dict(facts.read_options) == {"format": "csv", "skiprows": 0}
    (finding,) = [f for f in facts.findings if f.code == "read-option-unresolved"]
    assert "sep=" in finding.message and "READ_OPTIONS['sep']" in finding.message


def test_without_a_read_call_the_file_is_sniffed_once(tmp_path):
    text = "titulo do relatorio\nfonte: interna, 2024\n\nnome;valor;grupo\nana;1,5;a\nbia;2,25;b\n" * 1
    root = repo(tmp_path, {"dados/tabela.csv": text.encode("cp1252")}, ["import pandas as pd"])
    facts = inspect_repo(root, data="dados/tabela.csv")
    assert dict(facts.read_options) == {"format": "csv", "sep": ";", "skiprows": 3, "decimal": ","}
    df = datafiles.load_table(root / "dados/tabela.csv", dict(facts.read_options))
    assert df["valor"].tolist() == [1.5, 2.25]


def test_a_committed_file_of_a_notebook_chain_is_the_training_data(tmp_path):
    root = repo(tmp_path, {"data/raw.csv": "a,b,t\n1,2,0\n", "data/clean.csv": "a,t\n1,0\n2,1\n"}, [
        "import pandas as pd\ndf = pd.read_csv('../data/clean.csv')", "X = df[['a']]\ny = df['t']", FIT],
        notebook="notebooks/02_model.ipynb")
    (root / "notebooks" / "01_clean.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": "import pandas as pd\npd.read_csv('../data/raw.csv').to_csv('../data/clean.csv')"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    facts = inspect_repo(root)
    assert facts.data_file.value == "data/clean.csv"
    assert "the committed copy is used" in facts.data_file.reason


@pytest.mark.parametrize(("derive", "source"), [
    ("df['y_num'] = df.label.map({'a': 0, 'b': 1})\ny = df['y_num']", "label"),
    ("df = df.rename(columns={'label': 'target'})\ny = df['target']", "label"),
    ("df.columns = ['num', 'classe']\ny = df['classe']", "label"),
    ("df.columns = df.columns.str.strip()\ny = df['label']", " label"),
])
def test_a_derived_target_keeps_the_column_it_comes_from(tmp_path, derive, source):
    header = "num, label" if source == " label" else "num,label"
    root = repo(tmp_path, {"d.csv": f"{header}\n1,a\n2,b\n3,a\n"}, [
        "import pandas as pd\ndf = pd.read_csv('d.csv')", derive + "\nX = df[['num']]", FIT])
    facts = inspect_repo(root)
    assert facts.target_source == source


def test_the_model_the_notebook_saves_is_the_model(tmp_path):
    root = repo(tmp_path, {"d.csv": "a,t\n1,0\n2,1\n", "models/best.pkl": b"committed"}, [
        "import pandas as pd, pickle\ndf = pd.read_csv('d.csv')\nX = df[['a']]\ny = df['t']",
        "from sklearn.tree import DecisionTreeClassifier\nbest = DecisionTreeClassifier()\nbest.fit(X, y)",
        FIT.replace("m = ", "last = ").replace("m.fit", "last.fit"),
        "with open('models/best.pkl', 'wb') as fh:\n    pickle.dump(best, fh)"])
    facts = inspect_repo(root)
    assert facts.model.variable == "best" and facts.model_file == "models/best.pkl"
    assert "saves it to models/best.pkl" in facts.model_choice.reason


# --------------------------------------------------------------------------- the reader
def test_the_reader_refuses_unknown_options_naming_them(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(tables.ProjectError, match="sheet_name"):
        tables.read_table(path, {"format": "csv", "sheet_name": 0})


def test_utf16_pip_freeze_style_file_and_a_headerless_file_are_sniffed(tmp_path):
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes("a,b\n1,x\n2,y\n".encode("utf-16"))
    options, _ = tables.sniff_options(utf16)
    assert options["encoding"] == "utf-16"
    assert tables.read_table(utf16, options)["b"].tolist() == ["x", "y"]
    headerless = tmp_path / "h.csv"
    headerless.write_text("1,2.5,x\n2,3.5,y\n3,4.5,z\n", encoding="utf-8")
    options, notes = tables.sniff_options(headerless)
    assert options["header"] is None and options["names"] == ["column_1", "column_2", "column_3"]
    assert len(tables.read_table(headerless, options)) == 3


def test_blank_cells_are_values_and_empty_cells_are_missing(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1, \n2,\n3,x\n", encoding="utf-8")
    df = tables.read_table(path, {"format": "csv"})
    assert df["b"].tolist()[0] == " " and pd.isna(df["b"].tolist()[1])
    assert [tables.is_missing(v) for v in df["b"].tolist()] == [False, True, False]


def test_excel_sheet_and_several_sheets(tmp_path):
    path = tmp_path / "w.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"n": [1]}).to_excel(writer, sheet_name="notes", index=False)
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_excel(writer, sheet_name="data", index=False)
    assert list(datafiles.load_table(path, {"format": "excel", "sheet_name": "data"}).columns) == ["a", "b"]
    with pytest.raises(InputFileError, match="several sheets"):
        datafiles.load_table(path, {"format": "excel", "sheet_name": None})


def test_paths_from_the_repos_own_config_module_resolve(tmp_path):
    """`from src.config import TRAIN_CSV` with pathlib constants rooted at `Path(__file__).parents[1]`."""
    config = ("from pathlib import Path\nPROJECT_ROOT = Path(__file__).resolve().parents[1]\n"
              "DATA_DIR = PROJECT_ROOT / 'data'\nTRAIN_CSV = DATA_DIR / 'raw' / 'train.csv'\n")
    root = repo(tmp_path, {"src/__init__.py": "", "src/config.py": config,
                           "data/raw/train.csv": "id,a,t\n1,2,0\n2,3,1\n", "data/raw/big.csv": "x\n" + "1\n" * 500}, [
        "import sys\nsys.path.append('../..')\nimport pandas as pd\nfrom src.config import TRAIN_CSV",
        "train = pd.read_csv(TRAIN_CSV, index_col=0)\nX = train[['a']]\ny = train['t']", FIT],
        notebook="experiments/01_lr/lr.ipynb")
    facts = inspect_repo(root)
    assert facts.data_file.value == "data/raw/train.csv"
    assert dict(facts.read_options) == {"format": "csv", "index_col": 0}
    assert facts.columns == ("a", "t")


@pytest.mark.parametrize(("features", "flagged"), [
    ("X_arr = X.values\nm.fit(X_arr, y)", True),
    ("Xs = StandardScaler().fit_transform(X)\nm.fit(Xs, y)", True),
    ("m.fit(X, y)", False),
])
def test_a_model_fitted_on_an_array_is_flagged_at_adoption(tmp_path, features, flagged):
    root = repo(tmp_path, {"d.csv": "a,b,t\n1,2,0\n2,3,1\n"}, [
        "import pandas as pd\nfrom sklearn.preprocessing import StandardScaler\n"
        "from sklearn.linear_model import LogisticRegression\ndf = pd.read_csv('d.csv')",
        "X = df[['a', 'b']]\ny = df['t']\nm = LogisticRegression()\n" + features])
    facts = inspect_repo(root)
    assert any(f.code == "model-fitted-on-array" for f in facts.findings) is flagged


def test_a_forecaster_does_not_hide_the_tabular_model_fitted_before_it(tmp_path):
    root = repo(tmp_path, {"d.csv": "ds,y,m\n2020-01-01,1,1\n2020-01-02,2,1\n"}, [
        "import pandas as pd\nfrom prophet import Prophet\nfrom sklearn.linear_model import LinearRegression",
        "df = pd.read_csv('d.csv')\nlr = LinearRegression()\nlr.fit(df[['m']], df['y'])",
        "fc = Prophet()\nfc.fit(df)"])
    facts = inspect_repo(root)
    assert facts.model.variable == "lr" and "time-series model" in facts.model_choice.reason
