"""Data files, data references (relative, absolute, foreign, URL), resolution and chains."""

from __future__ import annotations

from pathlib import Path

import inspect_fixtures as fx
from shipyard import datafiles
from shipyard.facts import DataRef, RepoFacts, Severity
from shipyard.inspect import inspect_repo
from shipyard.inspect.data import classify
from shipyard.inspect.reading import PEEK_ROWS


def findings(facts: RepoFacts, code: str) -> list:
    return [f for f in facts.findings if f.code == code]


def refs_by_cell(facts: RepoFacts) -> dict[int, DataRef]:
    return {ref.evidence.cell: ref for _, ref in facts.data_refs}


def test_classify() -> None:
    assert classify("data/x.csv") == "relative"
    assert classify("../data/x.csv") == "relative"
    assert classify("/Users/ana/x.csv") == "absolute"
    assert classify("/home/bob/x.csv") == "absolute"
    assert classify("~/x.csv") == "absolute"
    assert classify("D:/Usuários/ana/dados/train.csv") == "foreign"
    assert classify("D:\\dados\\train.csv") == "foreign"
    assert classify("/content/drive/MyDrive/x.csv") == "foreign"
    assert classify("/kaggle/input/titanic/train.csv") == "foreign"
    assert classify("https://example.org/x.csv") == "url"


def test_foreign_and_absolute_paths(tmp_path: Path) -> None:
    facts = inspect_repo(fx.foreign_paths_repo(tmp_path))
    refs = refs_by_cell(facts)
    win = refs[2]
    assert (win.literal, win.kind, win.resolved, win.call) == (
        "D:/Usuários/ana/dados/train.csv",
        "foreign",
        "data/train.csv",
        "read_csv",
    )
    assert "file name" in win.reason
    assert (refs[3].kind, refs[3].resolved) == ("foreign", "data/holdout.csv")
    assert refs[4].literal == "C:\\Users\\ana\\Desktop\\train.csv" and refs[4].resolved == "data/train.csv"
    assert (refs[5].kind, refs[5].resolved) == ("absolute", None)
    assert (refs[6].kind, refs[6].resolved) == ("url", None)
    rewritten = {f.evidence.cell: f for f in findings(facts, "absolute-path")}
    assert set(rewritten) == {2, 3, 4}
    assert "that file is data/train.csv in this repo" in rewritten[2].message
    assert rewritten[2].severity is Severity.WARNING
    (missing,) = findings(facts, "data-missing")
    assert (missing.evidence.cell, missing.evidence.line) == (5, 1)
    assert "/Users/bob/Downloads/extra.csv" in missing.message and "analysis.ipynb" in missing.message
    assert findings(facts, "data-url")[0].evidence.cell == 6
    assert findings(facts, "colab-call")[0].evidence.cell == 1
    assert findings(facts, "os-chdir")[0].evidence.cell == 7
    assert facts.training_notebook.value == "analysis.ipynb"
    assert facts.data_file.value == "data/train.csv" and facts.target.value == "label"


def test_missing_file_and_notebook_chain(tmp_path: Path) -> None:
    facts = inspect_repo(fx.missing_data_and_chain_repo(tmp_path))
    (missing,) = findings(facts, "data-missing")
    assert (missing.path, missing.evidence.cell, missing.evidence.line) == ("1_prepare.ipynb", 2, 1)
    assert "'data/raw_sales.csv'" in missing.message and "1_prepare.ipynb cell 2" in missing.message
    (chain,) = findings(facts, "notebook-chain")
    assert chain.severity is Severity.INFO and (chain.path, chain.evidence.cell) == ("2_train.ipynb", 2)
    assert "1_prepare.ipynb cell 3" in chain.message
    ref = next(ref for nb, ref in facts.data_refs if nb == "2_train.ipynb")
    assert ref.resolved is None and "written by 1_prepare.ipynb" in ref.reason
    assert facts.data_file is not None and facts.data_file.value == "data/sample.csv"
    assert "largest CSV" in facts.data_file.reason


def test_relative_to_notebook_with_odd_names(tmp_path: Path) -> None:
    facts = inspect_repo(fx.odd_names_repo(tmp_path))
    ((nb, ref),) = facts.data_refs
    assert nb == "my notebooks/Section 1-2 - Análise & Modelo.ipynb"
    assert ref.literal == "../dados/Preços & vendas-.csv"
    assert ref.resolved == "dados/Preços & vendas-.csv"
    assert ref.reason == "exact path, relative to the notebook"
    assert facts.data_file.value == "dados/Preços & vendas-.csv"


def test_composed_paths_case_and_root_fallback(tmp_path: Path) -> None:
    root = tmp_path / "composed"
    fx.write(root, "data/train.csv", "a,y\n1,0\n")
    fx.write(root, "data/test.csv", "a,y\n1,0\n")
    fx.write(root, "data/extra.parquet", b"PAR1")
    fx.write(root, "model.pkl", b"\x80\x04")
    fx.write(root, "package.json", "{}")
    fx.write(
        root,
        "nbs/load.ipynb",
        fx.nb4(
            [
                "import os\nimport pandas as pd\nfrom pathlib import Path\nDATA = 'data'",
                "a = pd.read_csv(os.path.join(DATA, 'train.csv'))",
                "b = pd.read_csv(f'{DATA}/test.csv')",
                "c = pd.read_csv('Data/TRAIN.CSV')",
                "d = pd.read_parquet(Path(DATA) / 'extra.parquet')",
                "e = pd.read_csv('D:\\\\dados\\\\train.csv')",
                "with open('data/test.csv') as fh:\n    pass",
                "f = pd.read_csv(some_function())",
            ]
        ),
    )
    facts = inspect_repo(root)
    refs = refs_by_cell(facts)
    assert (refs[2].literal, refs[2].resolved, refs[2].reason) == (
        "data/train.csv",
        "data/train.csv",
        "relative to the repo root",
    )
    assert "os.path.join" in refs[2].expression
    assert (refs[3].literal, refs[3].resolved) == ("data/test.csv", "data/test.csv")
    assert refs[4].resolved == "data/train.csv" and "ignoring case" in refs[4].reason
    assert (refs[5].call, refs[5].resolved) == ("read_parquet", "data/extra.parquet")
    assert refs[6].literal == "D:\\\\dados\\\\train.csv"  # as written between the quotes
    assert (refs[6].kind, refs[6].resolved) == ("foreign", "data/train.csv")
    assert (refs[7].call, refs[7].resolved) == ("open", "data/test.csv")
    assert 8 not in refs  # unknown value: no reference
    formats = {d.path: d.format for d in facts.data_files}
    assert formats == {"data/extra.parquet": "parquet", "data/test.csv": "csv", "data/train.csv": "csv"}
    assert next(d for d in facts.data_files if d.path == "data/train.csv").size_bytes == 8
    assert any(r.distribution == "pyarrow" for r in facts.requirements)  # read_parquet needs an engine


def test_data_written_back_over_its_source(tmp_path: Path) -> None:
    root = tmp_path / "overwrite"
    fx.write(root, "sales.csv", "a,b\n1,2\n")
    fx.write(
        root,
        "clean.ipynb",
        fx.nb4(
            [
                "import pandas as pd\ndf = pd.read_csv('sales.csv')",
                "df = df.dropna()\ndf.to_csv('sales.csv', index=False)",
            ]
        ),
    )
    facts = inspect_repo(root)
    (over,) = findings(facts, "data-overwritten")
    assert (over.path, over.evidence.cell, over.evidence.line) == ("clean.ipynb", 2, 2)
    assert not findings(facts, "notebook-chain")


def test_non_utf8_csv_header(tmp_path: Path) -> None:
    root = fx.non_utf8_csv_repo(tmp_path)
    facts = inspect_repo(root)
    assert facts.columns == ("área", "quartos", "preço")  # read as the project reads it
    assert facts.target.value == "preço" and "found in the header of dados/vendas.csv" in facts.target.reason


def test_inspection_peeks_at_a_bounded_number_of_rows(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("a,b,target\n")
        fh.write("1,2,0\n" * 1_000_000)  # 6 MB
    peeked = datafiles.load_table(big, {"format": "csv"}, max_rows=PEEK_ROWS)
    assert list(peeked.columns) == ["a", "b", "target"]
    assert len(peeked) == PEEK_ROWS and peeked.attrs["truncated"] is True


def test_rows_dropped_by_position_are_reported_with_their_cell(tmp_path: Path) -> None:
    root = tmp_path / "junk"
    fx.write(root, "vendas.tsv", "a\tb\ty\n1\t2\t0\n3\t4\t1\nFonte: sistema interno\t\t\nTotal\t\t\n")
    fx.write(root, "nb.ipynb", fx.nb4([
        "import pandas as pd\ndf = pd.read_csv('vendas.tsv', sep='\\t')",
        "df.head()\ndf = df[:-2]",
        "tail = pd.read_csv('vendas.tsv', sep='\\t', skipfooter=2, engine='python')",
    ]))
    facts = inspect_repo(root)
    drops = [f for f in facts.findings if f.code == "rows-dropped-by-position"]
    assert [(f.evidence.cell, f.evidence.line) for f in drops] == [(2, 2), (3, 1)]
    assert "df[:-2]" in drops[0].message
