"""Notebook discovery and reading, magics neutralisation, Python 2 detection, robustness, speed."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import inspect_fixtures as fx
import pytest
from shipyard.errors import InputFileError, NoNotebooksError
from shipyard.facts import RepoFacts, Severity
from shipyard.inspect import cell_parses, inspect_repo, neutralise
from shipyard.inspect.notebooks import MARK


def findings(facts: RepoFacts, code: str) -> list:
    return [f for f in facts.findings if f.code == code]


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    state = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            st = path.lstat()
            state[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return state


# -- neutralise -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%matplotlib inline\nimport pandas as pd", f"{MARK}%matplotlib inline\nimport pandas as pd"),
        ("!pip install xgboost", f"{MARK}!pip install xgboost"),
        ("files = !ls data", f"{MARK}files = !ls data"),
        ("x = %sx ls", f"{MARK}x = %sx ls"),
        ("pip install lightgbm", f"{MARK}pip install lightgbm"),
        ("cd ../data", f"{MARK}cd ../data"),
        (
            "get_ipython().run_line_magic('matplotlib', 'inline')",
            f"{MARK}get_ipython().run_line_magic('matplotlib', 'inline')",
        ),
        ("df.head?", f"{MARK}df.head?"),
        ("%reload_ext autoreload\n%autoreload 2", f"{MARK}%reload_ext autoreload\n{MARK}%autoreload 2"),
    ],
)
def test_neutralise_comments_out_ipython_lines(source: str, expected: str) -> None:
    assert neutralise(source) == expected
    assert cell_parses(source) == (True, "")


def test_time_magics_keep_the_statement() -> None:
    out = neutralise("%time model.fit(X, y)\n%timeit -n 10 -r 3 predict(X)")
    assert out.split("\n") == [f"model.fit(X, y)  {MARK}%time", f"predict(X)  {MARK}%timeit"]


def test_cell_magics_r_and_bash_comment_the_whole_cell() -> None:
    out = neutralise("%%R -i df\nlibrary(ggplot2)\nx <- 1")
    assert all(line.startswith(MARK) for line in out.split("\n"))
    assert neutralise("%%bash\necho hi").split("\n") == [f"{MARK}%%bash", f"{MARK}echo hi"]


def test_cell_magics_with_python_body_keep_the_body() -> None:
    out = neutralise("%%time\nmodel.fit(X, y)\n!ls")
    assert out.split("\n") == [f"{MARK}%%time", "model.fit(X, y)", f"{MARK}!ls"]
    assert neutralise("%%capture out\nimport x").split("\n")[1] == "import x"


def test_neutralise_keeps_python_that_looks_like_a_command() -> None:
    source = 'cd = 3\nls\nrun(x)\ntime.sleep(1)\ns = """\n!not a magic\n%not either\n"""\nx = (1,\n  2)'
    assert neutralise(source) == source


def test_indented_magic_becomes_pass_and_line_numbers_are_kept() -> None:
    source = "for f in files:\n    !cp {f} out/\nprint('done')"
    out = neutralise(source)
    assert out.split("\n")[1] == f"    pass  {MARK}!cp {{f}} out/"
    assert len(out.split("\n")) == 3
    ast.parse(out)


def test_cell_parses_reports_python2_print() -> None:
    ok, error = cell_parses('import os\nprint "hello"')
    assert not ok
    assert "Missing parentheses" in error and "line 2" in error


# -- reading notebooks ------------------------------------------------------------------------------------


def test_v3_notebook_with_python2_cells(tmp_path: Path) -> None:
    facts = inspect_repo(fx.python2_v3_repo(tmp_path))
    nb = facts.notebook("legacy/Titanic Analysis.ipynb")
    assert nb is not None
    assert (nb.nbformat, nb.cells, nb.language) == (3, 5, "python")
    assert [c.index for c in nb.code_cells] == [3, 4, 5]
    assert [c.parses for c in nb.code_cells] == [False, True, False]
    assert 'print "loading"' in nb.code_cells[0].source
    (py2,) = findings(facts, "python2-syntax")
    assert py2.severity is Severity.ERROR
    assert (py2.evidence.path, py2.evidence.cell, py2.evidence.line) == (
        "legacy/Titanic Analysis.ipynb",
        3,
        2,
    )
    assert "cells 3, 5" in py2.message
    assert not [f for f in findings(facts, "cell-not-python3") if f.path == nb.path]
    # imports and reads of the Python 2 cell are still learnt from its parseable lines
    assert any(i.module == "pandas" and i.evidence.cell == 3 for i in facts.imports)
    assert any(
        ref.literal == "train.csv" and ref.resolved == "legacy/train.csv" for _, ref in facts.data_refs
    )


def test_python2_kernel_and_plain_syntax_error(tmp_path: Path) -> None:
    facts = inspect_repo(fx.python2_v3_repo(tmp_path))
    assert facts.notebook("legacy/kernel2.ipynb").kernel == "python2"
    (kernel,) = findings(facts, "python2-kernel")
    assert kernel.path == "legacy/kernel2.ipynb" and kernel.severity is Severity.INFO
    (bad,) = findings(facts, "cell-not-python3")
    assert (bad.path, bad.evidence.cell, bad.evidence.line) == ("legacy/broken.ipynb", 1, 1)
    assert "invalid syntax" in bad.message


def test_malformed_notebooks_are_findings_and_others_still_read(tmp_path: Path) -> None:
    facts = inspect_repo(fx.malformed_repo(tmp_path))
    unreadable = {f.path: f for f in findings(facts, "notebook-unreadable")}
    assert set(unreadable) == {"broken.ipynb", "latin.ipynb", "not_a_notebook.ipynb"}
    assert all(f.severity is Severity.ERROR for f in unreadable.values())
    assert "malformed JSON" in unreadable["broken.ipynb"].message
    assert "not UTF-8" in unreadable["latin.ipynb"].message
    assert "not a Jupyter notebook" in unreadable["not_a_notebook.ipynb"].message
    assert [nb.path for nb in facts.notebooks] == ["good.ipynb"]  # checkpoint copy ignored


def test_huge_embedded_outputs(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = fx.huge_output_repo(tmp_path_factory.mktemp("huge"), megabytes=20)
    start = time.perf_counter()
    facts = inspect_repo(root)
    elapsed = time.perf_counter() - start
    nb = facts.notebook("plots.ipynb")
    assert nb.size_bytes > 20_000_000
    assert facts.model is not None and facts.model.variable == "clf"
    assert elapsed < 2.0


def test_exercise_r_cells_and_r_kernel(tmp_path: Path) -> None:
    facts = inspect_repo(fx.exercise_and_r_repo(tmp_path))
    assert findings(facts, "no-code-cells")[0].path == "exercise.ipynb"
    (r_cells,) = findings(facts, "r-cells")
    assert (r_cells.path, r_cells.evidence.cell, r_cells.severity) == ("mixed.ipynb", 2, Severity.INFO)
    assert all(c.parses for c in facts.notebook("mixed.ipynb").code_cells)
    assert facts.notebook("analysis_r.ipynb").language == "R"
    assert findings(facts, "non-python-notebook")[0].path == "analysis_r.ipynb"
    assert not findings(facts, "cell-not-python3")


def test_magics_are_recorded_with_evidence(tmp_path: Path) -> None:
    facts = inspect_repo(fx.sklearn_classic_repo(tmp_path))
    nb = facts.notebook("notebooks/02 - Model training.ipynb")
    where = {(m.cell, m.line): m.snippet for m in nb.magics}
    assert where[(1, 1)] == "%matplotlib inline"
    assert where[(1, 2)] == "!pip install seaborn"
    assert where[(7, 2)].startswith("%time rf.fit")


def test_odd_names_read_only_symlinks_and_checkpoints(tmp_path: Path) -> None:
    root = fx.odd_names_repo(tmp_path)
    before = tree_state(root)
    facts = inspect_repo(root)
    paths = [nb.path for nb in facts.notebooks]
    assert "my notebooks/Section 1-2 - Análise & Modelo.ipynb" in paths
    assert "Untitled.ipynb" in paths
    assert not any(".ipynb_checkpoints" in p for p in paths)
    assert [f.path for f in findings(facts, "symlink-outside")] == ["outside.csv"]
    assert all("outside" not in d.path for d in facts.data_files)
    assert tree_state(root) == before  # nothing written


def test_many_notebooks_fast_and_200_cells(tmp_path: Path) -> None:
    root = fx.many_notebooks_repo(tmp_path)
    inspect_repo(root)  # warm imports
    best = min(_timed(root) for _ in range(3))
    assert best < 0.3
    facts = inspect_repo(root)
    assert len(facts.notebooks) == 11
    assert facts.notebook("big.ipynb").cells == 200


def _timed(root: Path) -> float:
    start = time.perf_counter()
    inspect_repo(root)
    return time.perf_counter() - start


def test_no_notebooks_raises(tmp_path: Path) -> None:
    root = fx.no_notebooks_repo(tmp_path)
    with pytest.raises(NoNotebooksError) as info:
        inspect_repo(root)
    assert info.value.message == f"no notebooks found in {root}"
    assert info.value.hint


def test_missing_override_files_raise_input_errors(tmp_path: Path) -> None:
    root = fx.sklearn_classic_repo(tmp_path)
    with pytest.raises(InputFileError) as info:
        inspect_repo(root, notebook="notebooks/nope.ipynb")
    assert "notebooks/nope.ipynb" in info.value.message and "--notebook" in info.value.hint
    with pytest.raises(InputFileError) as info:
        inspect_repo(root, data="data/missing.csv")
    assert "data/missing.csv" in info.value.message and "--data" in info.value.hint
    with pytest.raises(InputFileError):
        inspect_repo(root, notebook="../outside.ipynb")


def test_notebook_override_on_unreadable_notebook_raises(tmp_path: Path) -> None:
    root = fx.malformed_repo(tmp_path)
    with pytest.raises(InputFileError) as info:
        inspect_repo(root, notebook="broken.ipynb")
    assert "broken.ipynb" in info.value.message
