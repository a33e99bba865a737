"""Mechanical modernisation: safe rewrites in the generated module, reported; the notebook itself untouched.

Rewritten code is executed here against the libraries installed in the venv (current scikit-learn, numpy,
pandas, statsmodels), so "safe" means "runs and gives the old result", not "looks right".
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import inspect_fixtures as fx
import numpy as np
import pytest
from conftest import adopt_json, git, make_repo
from shipyard.facts import Evidence, Finding, Severity
from shipyard.modernise import CellResult, Edit, Moderniser, _apply_parsing, drop_settled, make_fix


def modernise(*cells: str) -> list[CellResult]:
    """Cells of one notebook, in order (imports of earlier cells resolve names in later ones)."""
    moderniser = Moderniser()
    results = [moderniser.cell(cell) for cell in cells]
    for cell, result in zip(cells, results, strict=True):
        assert result.source.count("\n") == cell.count("\n"), "a cell must keep its number of lines"
        ast.parse(result.source)
    return results


def run(*cells: str, namespace: dict | None = None) -> tuple[dict, str]:
    """Modernise the cells, then execute them as the module would; the namespace and what they printed."""
    namespace = {} if namespace is None else namespace
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for result in modernise(*cells):
            exec(compile(result.source, "<cell>", "exec"), namespace)
    return namespace, out.getvalue()


def changes(*cells: str) -> list[tuple[str, str, str]]:
    return [(c.rule, c.before, c.after) for r in modernise(*cells) for c in r.changes]


def by_hand(*cells: str) -> list[str]:
    return [n.message for r in modernise(*cells) for n in r.by_hand]


# -- Python 2 statements ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "printed"), [
    ('print "hello"', "hello\n"),
    ('x = 3\nprint "x =", x', "x = 3\n"),
    ('print "a %d and %s" % (1, "b")', "a 1 and b\n"),
    ('print "a",\nprint "b"', "a b\n"),
    ('print "a"\nprint', "a\n\n"),
    ('for i in range(3):\n    print i,\nprint', "0 1 2 \n"),
    ('if True: print "one-line if"', "one-line if\n"),
    ('print "x"\nprint (1), 2', "x\n1 2\n"),
    ('print "continued", \\\n      "line"', "continued line\n"),
    ('print "a"; print "b"', "a\nb\n"),
])
def test_python2_print_statements_become_calls_that_print_the_same(cell: str, printed: str) -> None:
    assert run(cell)[1] == printed
    assert modernise(cell)[0].ported


def test_python2_rules_never_touch_a_cell_that_parses_as_python3() -> None:
    for cell in ("print", "print (1), 2", "print(1)"):  # valid Python 3 (if not what Python 2 meant)
        assert modernise(cell)[0].source == cell and not modernise(cell)[0].changes


def test_print_to_a_file_and_bare_print_to_a_file() -> None:
    # `print >>f, x` even parses as Python 3 (a tuple), and fails only when it runs
    namespace, printed = run('print >>f, "to", "file",\nprint >>f\nprint >>f, "x"', namespace={"f": io.StringIO()})
    assert printed == "" and namespace["f"].getvalue() == "to file \nx\n"
    assert ("python2-print", 'print >>f, "to", "file",', 'print("to", "file", end=" ", file=f)') in changes(
        'print >>f, "to", "file",')


def test_print_inside_a_string_or_a_comment_is_untouched() -> None:
    cell = 'print "s = \'print x\'"  # print y\ns = "print z"'
    result = modernise(cell)[0]
    first, second = result.source.split("\n")
    assert first.startswith("print(\"s = 'print x'\")  # print y") and second == 's = "print z"'
    assert run(cell)[1] == "s = 'print x'\n"
    python3 = 'msg = "print x"\nprint(msg)  # print y'
    assert modernise(python3)[0].source == python3 and not modernise(python3)[0].changes


def test_other_python2_syntax_runs_as_it_did() -> None:
    cell = ("try:\n    raise ValueError, 'bad value'\nexcept ValueError, e:\n    caught = str(e)\n"
            "mode = 0755 + 10L\nsame = 1 <> 2\nshown = `[1, 2]`\npattern = ur'\\d+'\nexec 'y = 2' in globals()")
    namespace, _ = run(cell)
    assert namespace["caught"] == "bad value" and namespace["mode"] == 0o755 + 10
    assert namespace["same"] is True and namespace["shown"] == "[1, 2]"
    assert namespace["pattern"] == r"\d+" and namespace["y"] == 2
    rules = {rule for rule, _, _ in changes(cell)}
    assert rules == {"python2-raise", "python2-except", "python2-octal", "python2-long", "python2-not-equal",
                     "python2-backticks", "python2-ur-string", "python2-exec"}


def test_error_lines_still_point_at_the_notebook_cell() -> None:
    cell = 'print "before"\nx = 1\nprint x, 1 / 0'
    source = modernise(cell)[0].source
    with pytest.raises(ZeroDivisionError) as caught, contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<cell>", "exec"), {})
    assert caught.traceback[-1].lineno + 1 == 3  # pytest counts from 0


def test_changed_lines_say_what_they_were() -> None:
    lines = modernise('import numpy as np\nx = np.zeros(2).astype(np.float)\nprint "x"')[0].source.split("\n")
    assert lines[0] == "import numpy as np"
    assert lines[1] == "x = np.zeros(2).astype(float)  # [shipyard] was: x = np.zeros(2).astype(np.float)"
    assert lines[2] == 'print("x")  # [shipyard] was: print "x"'


def test_a_cell_that_python2_rules_cannot_port_is_left_as_written() -> None:
    cell = 'def swap((a, b)):\n    print a\n    return b, a'  # tuple parameters: no safe rewrite
    result = Moderniser().cell(cell)
    assert result.source == cell and not result.changes and not result.ported


def test_print_function_future_import_stops_the_print_rewrite() -> None:
    moderniser = Moderniser()
    first = moderniser.cell("from __future__ import print_function\nimport os")
    assert first.source.startswith("pass  # [shipyard] was: from __future__ import print_function")
    later = moderniser.cell('print "x"')  # was not valid code in that notebook either
    assert later.source == 'print "x"' and not later.changes


def test_future_imports_no_longer_break_the_module() -> None:
    cell = "from __future__ import division, print_function\nhalf = 1 / 2"
    prologue = "import sys as _sys\n"  # the module's prologue comes first: a __future__ import there is an error
    with pytest.raises(SyntaxError):
        compile(prologue + cell, "<module>", "exec")
    module = prologue + modernise(cell)[0].source
    namespace: dict = {}
    exec(compile(module, "<module>", "exec"), namespace)
    assert namespace["half"] == 0.5
    assert by_hand("from __future__ import annotations") and not changes("from __future__ import annotations")


def test_python2_builtins_where_unambiguous() -> None:
    namespace, _ = run("d = {'a': 1}\npairs = [k + str(v) for k, v in d.iteritems()]\n"
                       "values = list(d.itervalues())\nkeys = sorted(d.iterkeys())\nn = sum(xrange(4))")
    assert namespace["pairs"] == ["a1"] and namespace["values"] == [1] and namespace["keys"] == ["a"]
    assert namespace["n"] == 6
    assert run("answer = raw_input('? ')", namespace={"input": lambda prompt: "42"})[0]["answer"] == "42"
    shim = "try:\n    xrange\nexcept NameError:\n    xrange = range\nn = sum(xrange(3))"
    assert not changes(shim)  # the notebook defines xrange itself
    assert not changes("first = next(d.iteritems())")  # next() of a view would fail: left as written


# -- scikit-learn -------------------------------------------------------------------------------------------


DATA = "import numpy as np\nX = np.arange(40, dtype=float).reshape(20, 2)\ny = np.array([0, 1] * 10)"


@pytest.mark.parametrize("cells", [
    ("from sklearn.cross_validation import train_test_split",
     "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)"),
    ("import sklearn.cross_validation",
     "X_train, X_test, y_train, y_test = sklearn.cross_validation.train_test_split(X, y, test_size=0.25)"),
    ("from sklearn import cross_validation, svm",
     "X_train, X_test, y_train, y_test = cross_validation.train_test_split(X, y, test_size=0.25)"),
    ("import sklearn.cross_validation as cv",
     "X_train, X_test, y_train, y_test = cv.train_test_split(X, y, test_size=0.25)"),
])
def test_cross_validation_imports_and_chains_move_to_model_selection(cells: tuple[str, str]) -> None:
    namespace, _ = run(DATA, *cells)
    assert len(namespace["X_train"]) == 15 and len(namespace["X_test"]) == 5
    results = modernise(DATA, *cells)
    assert "sklearn.cross_validation" not in "".join(r.source.split("# [shipyard]")[0] for r in results)
    assert "sklearn.cross_validation" in {api for r in results for api in r.settled}


def test_grid_search_moves_to_model_selection() -> None:
    namespace, _ = run(DATA, "from sklearn.grid_search import GridSearchCV\nfrom sklearn.tree import DecisionTreeClassifier",
                       "search = GridSearchCV(DecisionTreeClassifier(), {'max_depth': [1, 2]}, cv=2).fit(X, y)")
    assert namespace["search"].best_params_["max_depth"] in (1, 2)
    assert by_hand("search.grid_scores_")  # removed: cv_results_ instead, by hand


@pytest.mark.parametrize(("call", "advice"), [
    ("KFold(len(y), n_folds=3)", "KFold(n_splits=k)"),
    ("StratifiedKFold(y, n_folds=3)", "StratifiedKFold(n_splits=k)"),
])
def test_old_cv_iterators_are_left_with_a_warning(call: str, advice: str) -> None:
    cells = ("from sklearn.cross_validation import KFold, StratifiedKFold", f"kf = {call}")
    results = modernise(*cells)
    assert results[1].source == f"kf = {call}" and not results[1].changes
    assert any(advice in m and "split(" in m for m in by_hand(*cells))


IMPUTE_DATA = "import numpy as np\nX = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])"


@pytest.mark.parametrize("cells", [
    ("from sklearn.preprocessing import Imputer",
     "imp = Imputer(missing_values='NaN', strategy='mean', axis=0)\nfilled = imp.fit_transform(X)"),
    ("from sklearn import preprocessing",
     "imp = preprocessing.Imputer(strategy='mean', axis=0, verbose=0)\nfilled = imp.fit_transform(X)"),
    ("from sklearn.preprocessing import StandardScaler, Imputer as Imp",
     "filled = Imp(strategy='mean').fit_transform(X)"),
    ("import sklearn.preprocessing", "filled = sklearn.preprocessing.Imputer(axis=0).fit_transform(X)"),
])
def test_imputer_becomes_simple_imputer_and_fills_the_same_values(cells: tuple[str, str]) -> None:
    namespace, _ = run(IMPUTE_DATA, *cells)
    assert namespace["filled"].tolist() == [[1.0, 6.0], [3.0, 4.0], [2.0, 8.0]]
    assert "sklearn.preprocessing.Imputer" in {api for r in modernise(IMPUTE_DATA, *cells) for api in r.settled}


def test_imputer_along_rows_is_left_with_a_warning() -> None:
    cells = ("from sklearn import preprocessing", "imp = preprocessing.Imputer(strategy='mean', axis=1)")
    results = modernise(*cells)
    assert results[1].source == cells[1] and not results[1].changes and not results[1].settled
    assert any("axis=1" in m and "transpose" in m for m in by_hand(*cells))


# -- numpy, pandas ------------------------------------------------------------------------------------------


def test_numpy_aliases_become_builtins_where_np_is_numpy() -> None:
    cells = ("import numpy as np\nimport numpy",
             "a = np.zeros(2, dtype=np.float)\nb = np.array([1.5]).astype(np.int)\nc = numpy.bool(1)\n"
             "d = np.float64(2)\ne = np.object\nf = [np.NaN, np.Inf, np.float_(1)]")
    namespace, _ = run(*cells)
    assert namespace["a"].dtype == np.float64 and namespace["b"].tolist() == [1] and namespace["c"] is True
    assert namespace["d"] == 2.0 and namespace["e"] is object and namespace["f"][2] == 1.0
    after = modernise(*cells)[1].source
    assert "d = np.float64(2)" in after  # never touched
    assert ("numpy-aliases", "np.float", "float") in changes(*cells)


def test_np_that_is_not_numpy_or_a_shadowed_builtin_is_untouched() -> None:
    assert not changes("x = np.float")  # np never imported: not known to be numpy
    assert not changes("import mylib as np\nx = np.float")
    assert not changes("import numpy as np\nstr = 'text'\nx = np.str")  # str is the user's variable here
    assert changes("import numpy as nump\nx = nump.int") == [("numpy-aliases", "nump.int", "int")]


def test_pandas_tools_plotting_moves_to_pandas_plotting() -> None:
    import pandas as pd

    for cells in (("from pandas.tools.plotting import scatter_matrix",),
                  ("import pandas as pd", "scatter_matrix = pd.tools.plotting.scatter_matrix"),
                  ("from pandas.tools import plotting", "scatter_matrix = plotting.scatter_matrix")):
        namespace, _ = run(*cells)
        assert namespace["scatter_matrix"] is pd.plotting.scatter_matrix, cells


# -- statsmodels --------------------------------------------------------------------------------------------


SERIES = "import numpy as np\nseries = np.cumsum(np.random.default_rng(0).normal(size=60)) + 10"


@pytest.mark.parametrize("cells", [
    ("from statsmodels.tsa.arima_model import ARIMA",
     "model = ARIMA(series, (1, 1, 0))\nresults = model.fit(disp=0)\nforecast = results.forecast(3)"),
    ("import statsmodels.api as sm",
     "results = sm.tsa.ARIMA(series, (1, 0, 0)).fit(disp=False)\nforecast = results.forecast(3)"),
    ("import statsmodels.tsa.arima_model as am",
     "model = am.ARIMA(series, order=(1, 0, 0))\nresults = model.fit(disp=-1)\n"
     "forecast = results.predict(len(series), len(series) + 2, typ='levels')"),
])
def test_old_arima_runs_on_current_statsmodels(cells: tuple[str, str]) -> None:
    namespace, _ = run(SERIES, *cells)
    assert len(namespace["forecast"]) == 3 and np.isfinite(namespace["forecast"]).all()
    assert len(namespace["results"].params) >= 2


def test_arima_changes_are_reported_and_what_is_not_safe_is_left() -> None:
    cells = ("from statsmodels.tsa.arima_model import ARIMA",
             "model = ARIMA(series, (2, 1, 0))\nres = model.fit(disp=0, trend='nc')\nfc, se, conf = res.forecast(5)")
    assert ("statsmodels-arima", "ARIMA(series, (2, 1, 0))", "ARIMA(series, order=(2, 1, 0))") in changes(*cells)
    assert ("statsmodels-arima", "model.fit(disp=0, trend='nc')", "model.fit(trend='nc')") in changes(*cells)
    notes = by_hand(*cells)
    assert any("trend=" in m for m in notes) and any("get_forecast" in m for m in notes)
    ambiguous = ("import statsmodels.api as sm", "model = sm.tsa.ARIMA(series, exog_or_order)")
    assert not changes(*ambiguous) and any("exog" in m for m in by_hand(*ambiguous))


# -- the guarantees and the report ----------------------------------------------------------------------------


def test_a_fix_whose_result_does_not_parse_is_dropped() -> None:
    text = "x = 1\ny = 2"
    broken = make_fix("demo", "demo", (0, 5), [Edit(0, 1, "x x")])
    fine = make_fix("demo", "demo", (6, 11), [Edit(10, 11, "3")])
    assert _apply_parsing(text, [broken, fine]) == ("x = 1\ny = 3", [fine])
    assert _apply_parsing(text, [broken]) == (text, [])


def test_settled_removed_apis_no_longer_ask_for_a_hand() -> None:
    def removed(cell: int, api: str, severity: Severity) -> Finding:
        return Finding(code="removed-api", severity=severity, evidence=Evidence(path="nb.ipynb", cell=cell, line=1),
                       message=f"nb.ipynb cell {cell} line 1 uses {api}: removed")

    inspection = [removed(1, "numpy.float", Severity.WARNING), removed(2, "numpy.float", Severity.WARNING),
                  removed(1, "pandas.datetime", Severity.WARNING)]
    note = modernise("import numpy as np\nx = np.float(1)")[0].findings("nb.ipynb", 1)
    kept = drop_settled(inspection + note)
    assert [f for f in kept if f.severity is Severity.WARNING] == inspection[1:]  # other cell, other API: kept
    assert any(f.code == "removed-api" and f.severity is Severity.INFO for f in kept)
    python2 = Finding(code="python2-syntax", severity=Severity.ERROR, evidence=Evidence(path="nb.ipynb", cell=2),
                      message="nb.ipynb is Python 2 code")
    moderniser = Moderniser()
    moderniser.cell('print "x"')
    assert drop_settled([python2, *moderniser.summary("nb.ipynb")])[0].severity is Severity.INFO
    moderniser.cell("def f((a, b)): pass")  # one cell still not Python 3: the error stands
    assert python2 in drop_settled([python2, *moderniser.summary("nb.ipynb")])


# -- through the real CLI --------------------------------------------------------------------------------------


def test_adopt_modernises_the_module_runs_it_and_reports_each_rewrite(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_OFFLINE", "1")  # no package index lookups for the pins
    root = tmp_path / "legacy"
    fx.write(root, "data/train.csv", "a,b,label\n" + "".join(
        f"{'' if i % 7 == 3 else i % 13},{(i * 5) % 11},{int(i % 13 > 6)}\n" for i in range(40)))
    notebook = fx.write(root, "Train model.ipynb", fx.nb4([
        "from __future__ import division\nimport numpy as np\nimport pandas as pd\nimport sklearn.cross_validation\n"
        "from sklearn import preprocessing\nfrom sklearn.linear_model import LogisticRegression\n"
        "from pandas.tools.plotting import scatter_matrix",
        "df = pd.read_csv('data/train.csv')\nprint \"rows\", len(df)",
        "X = df[['a', 'b']].values.astype(np.float)\ny = df['label']\n"
        "imp = preprocessing.Imputer(strategy='mean', axis=0)\nX = imp.fit_transform(X)",
        "X_train, X_test, y_train, y_test = sklearn.cross_validation.train_test_split(X, y, test_size=0.25, "
        "random_state=0)",
        "model = LogisticRegression().fit(X_train, y_train)\nprint \"accuracy: %.2f\" % model.score(X_test, y_test)",
    ], kernel="python2", version="2.7.15"))
    written = notebook.read_bytes()
    make_repo(root)
    report = adopt_json(root)
    assert notebook.read_bytes() == written, "the notebook itself is never changed"
    module = root / "src" / report["package"] / "from_notebook.py"
    text = module.read_text(encoding="utf-8")
    assert "cell commented out" not in text

    # the module runs as the project runs it: current scikit-learn, numpy and pandas, its own folder
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-c", "import runpy, sys; ns = runpy.run_path(sys.argv[1]); "
                           "print(type(ns['model']).__name__, ns['X'].shape)", str(module)],
                          cwd=scratch, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "rows 40" and done.stdout.splitlines()[1].startswith("accuracy: ")
    assert done.stdout.splitlines()[2] == "LogisticRegression (40, 2)"

    adoption = (root / "ADOPTION.md").read_text(encoding="utf-8")
    section = adoption.split("### Modernised in the module", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    for before, after in [
        ("from __future__ import division", "pass"),
        ("import sklearn.cross_validation", "import sklearn.model_selection"),
        ("from pandas.tools.plotting import scatter_matrix", "from pandas.plotting import scatter_matrix"),
        ('print "rows", len(df)', 'print("rows", len(df))'),
        ("np.float", "float"),
        ("sklearn.cross_validation", "sklearn.model_selection"),
        ('print "accuracy: %.2f" % model.score(X_test, y_test)', 'print("accuracy: %.2f" % model.score(X_test, y_test))'),
    ]:
        assert f"`{before}` became `{after}`" in section, before
    assert "`imp = preprocessing.Imputer(strategy='mean', axis=0)` became " \
           "`from sklearn.impute import SimpleImputer; imp = SimpleImputer(strategy='mean')`" in section
    assert "Train model.ipynb, cell 2, line 2" in section
    attention = adoption.split("## Needs your attention", 1)[1].split("## What was found", 1)[0]
    assert "removed-api" not in attention and "python2-syntax" not in attention  # fixed in the module
    warned = [(w["code"], w["severity"]) for w in report["warnings"]]
    assert ("removed-api", "warning") not in warned and ("python2-syntax", "error") not in warned
    assert ("modernised", "info") in warned

    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt")
    assert adopt_json(root)["changes_nothing"] is True  # the report and the module are the same bytes again
    assert json.loads(notebook.read_text(encoding="utf-8")) == json.loads(written)


@pytest.mark.parametrize(("source", "expected"), [
    ("import fbprophet\nm = fbprophet.Prophet()", "import prophet as fbprophet"),
    ("from fbprophet import Prophet", "from prophet import Prophet"),
    ("from pyramid.arima import auto_arima", "from pmdarima.arima import auto_arima"),
])
def test_renamed_distributions_are_imported_by_their_new_name(source, expected):
    from shipyard.modernise import Moderniser

    out = Moderniser().cell(source).source
    assert out.startswith(expected + "  # [shipyard] was: ")
    assert out.count("\n") == source.count("\n")


def test_corr_on_a_frame_with_text_columns_keeps_working_on_pandas_2():
    """Field (Flight-Fare, LightGBM): `df.corr()['Income']` on a frame with text columns raises on pandas >= 2."""
    import pandas as pd
    from shipyard.modernise import Moderniser

    source = "c = df.corr()['b']\nother = s.corr(t)"
    out = Moderniser().cell(source).source
    assert "df.corr(numeric_only=True)['b']" in out and "s.corr(t)" in out.splitlines()[1]
    df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 4, 7], "name": ["x", "y", "z"]})
    namespace = {"df": df, "s": df["a"], "t": df["b"]}
    exec(out, namespace)  # noqa: S102 - the rewritten code, on current pandas
    assert namespace["c"]["a"] > 0.9


def test_a_chained_inplace_fill_becomes_an_assignment():
    """Field (timeseries_analysis_temperature): `df['tg'].ffill(inplace=True)` fills a copy under copy-on-write."""
    import numpy as np
    import pandas as pd
    from shipyard.modernise import Moderniser

    source = "df['tg'].ffill(axis=0, inplace=True)\ndf.fillna(0, inplace=True)"
    out = Moderniser().cell(source).source
    assert out.splitlines()[0].startswith("df['tg'] = df['tg'].ffill(axis=0)")
    assert out.splitlines()[1] == "df.fillna(0, inplace=True)"  # in place on the frame itself still works
    df = pd.DataFrame({"tg": [1.0, np.nan, 3.0], "q": [np.nan, 1.0, 1.0]})
    exec(out, {"df": df})  # noqa: S102
    assert df["tg"].tolist() == [1.0, 1.0, 3.0] and df["q"].tolist() == [0.0, 1.0, 1.0]
