"""Imports -> distributions, local modules, removed APIs, declared versions and old pins."""

from __future__ import annotations

from pathlib import Path

import inspect_fixtures as fx
import pytest
from shipyard.facts import RepoFacts, Severity
from shipyard.inspect import inspect_repo
from shipyard.inspect.distributions import IMPORT_TO_DIST, close_match, distribution_for
from shipyard.inspect.pins import is_ancient


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """These tests never ask a package index: pins are checked by the offline rule (test_pins.py asks one)."""
    monkeypatch.setenv("SHIPYARD_OFFLINE", "1")
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))


def findings(facts: RepoFacts, code: str) -> list:
    return [f for f in facts.findings if f.code == code]


def req(facts: RepoFacts, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in facts.requirements if r.distribution.lower() == name.lower())


@pytest.mark.parametrize(
    ("module", "dist"),
    [
        ("sklearn", "scikit-learn"),
        ("cv2", "opencv-python"),
        ("PIL", "Pillow"),
        ("yaml", "PyYAML"),
        ("bs4", "beautifulsoup4"),
        ("skimage", "scikit-image"),
        ("dateutil", "python-dateutil"),
        ("dotenv", "python-dotenv"),
        ("IPython", "ipython"),
        ("imblearn", "imbalanced-learn"),
        ("Bio", "biopython"),
        ("xgboost", "xgboost"),
        ("statsmodels", "statsmodels"),
        ("torch", "torch"),
    ],
)
def test_distribution_table(module: str, dist: str) -> None:
    assert distribution_for(module) == (dist, True)


def test_table_size_colab_and_typos() -> None:
    assert len(IMPORT_TO_DIST) >= 60
    assert distribution_for("google.colab") == (None, True)
    assert distribution_for("somethingelse") == ("somethingelse", False)
    assert close_match("sklearnn") == "sklearn"
    assert close_match("fancyimpute") is None


def test_ancient_pins() -> None:
    assert is_ancient("scikit-learn", "==0.19.1")
    assert is_ancient("pandas", "<1.0")
    assert is_ancient("numpy", "==1.16.*")
    assert not is_ancient("numpy", ">=1.16")
    assert not is_ancient("scikit-learn", "==1.3.2")
    assert not is_ancient("some-lib", "==0.1")


def test_classic_imports_requirements_and_old_pins(tmp_path: Path) -> None:
    facts = inspect_repo(fx.sklearn_classic_repo(tmp_path))
    sk = next(i for i in facts.imports if i.module == "sklearn")
    assert (sk.distribution, sk.kind) == ("scikit-learn", "third-party")
    assert (sk.evidence.path, sk.evidence.cell, sk.evidence.line) == (
        "notebooks/02 - Model training.ipynb",
        1,
        5,
    )
    sklearn = req(facts, "scikit-learn")
    assert (sklearn.specifier, sklearn.source, sklearn.modules) == (
        "==0.19.1",
        "requirements.txt",
        ("sklearn",),
    )
    assert sklearn.pin_dropped and sklearn.project_pip() == "scikit-learn"
    assert sklearn.pip() == "scikit-learn==0.19.1"  # the original spec is kept
    numpy = req(facts, "numpy")
    assert (numpy.specifier, numpy.pin_dropped, numpy.project_pip()) == ("", False, "numpy")
    seaborn = req(facts, "seaborn")  # from `-r requirements-extra.txt`, extras and marker stripped
    assert (seaborn.specifier, seaborn.source) == ("==0.8.1", "requirements-extra.txt")
    # seaborn is imported by the EDA notebook only, matplotlib only declared: neither is a project dependency
    assert not seaborn.used and seaborn.modules == ("seaborn",)
    assert req(facts, "matplotlib").specifier == ">=2.0" and not req(facts, "matplotlib").used
    old = {f.message.split(" pins ")[1].split(",")[0] for f in findings(facts, "old-pin")}
    assert old == {"scikit-learn==0.19.1", "pandas==0.22.0"}  # template-provided, imported by the training code
    assert all(f.severity is Severity.WARNING for f in findings(facts, "old-pin"))


def test_removed_apis_in_classic(tmp_path: Path) -> None:
    facts = inspect_repo(fx.sklearn_classic_repo(tmp_path))
    removed = {(f.evidence.cell, f.evidence.line): f.message for f in findings(facts, "removed-api")}
    assert "sklearn.cross_validation" in removed[(1, 5)] and "model_selection" in removed[(1, 5)]
    assert "numpy.float" in removed[(4, 1)]


def test_removed_apis_catalogue(tmp_path: Path) -> None:
    root = tmp_path / "removed"
    fx.write(
        root,
        "old.ipynb",
        fx.nb4(
            [
                "import numpy as np\nimport pandas as pd\nfrom pandas.tools.plotting import scatter_matrix",
                "from statsmodels.tsa.arima_model import ARIMA\nfrom sklearn.preprocessing import Imputer",
                "from sklearn.externals import joblib\nfrom sklearn.grid_search import GridSearchCV",
                "df = pd.read_csv('x.csv')\ndf = df.append(df)\nrow = df.ix[0]\nt = pd.datetime.now()",
                "x = np.float64(1) + np.int(2)",
            ]
        ),
    )
    facts = inspect_repo(root)
    apis = {
        f.message.split(" uses ")[1].split(":")[0]: f.evidence.cell for f in findings(facts, "removed-api")
    }
    assert apis == {
        "pandas.tools": 1,
        "statsmodels.tsa.arima_model": 2,
        "sklearn.preprocessing.Imputer": 2,
        "sklearn.externals.joblib": 3,
        "sklearn.grid_search": 3,
        "DataFrame.append": 4,
        "DataFrame.ix": 4,
        "pandas.datetime": 4,
        "numpy.int": 5,
    }


def test_local_modules_and_their_imports(tmp_path: Path) -> None:
    facts = inspect_repo(fx.local_helpers_repo(tmp_path))
    assert {"utils", "helpers", "feature_eng"} <= set(facts.local_modules)
    kinds = {i.module: i.kind for i in facts.imports if i.evidence.path == "notebooks/work.ipynb"}
    assert kinds["utils"] == kinds["helpers"] == kinds["feature_eng"] == "local"
    xgb = next(i for i in facts.imports if i.module == "xgboost")
    assert (xgb.evidence.path, xgb.evidence.line, xgb.evidence.cell) == ("utils.py", 3, None)
    sns = next(i for i in facts.imports if i.module == "seaborn")
    assert sns.evidence.path == "src/helpers/plots.py"
    names = {r.distribution for r in facts.requirements}
    assert {"xgboost", "seaborn", "pandas"} <= names
    assert "sklearnn" not in names  # a typo is not a requirement


def test_unknown_imports(tmp_path: Path) -> None:
    facts = inspect_repo(fx.local_helpers_repo(tmp_path))
    (typo,) = findings(facts, "unknown-distribution")
    assert typo.severity is Severity.WARNING and "sklearnn" in typo.message and "sklearn" in typo.message
    assert (typo.evidence.cell, typo.evidence.line) == (2, 1)
    (unknown,) = findings(facts, "unknown-import")
    assert unknown.severity is Severity.INFO and "fancyimpute" in unknown.message


def test_colab_import_is_not_installable(tmp_path: Path) -> None:
    facts = inspect_repo(fx.foreign_paths_repo(tmp_path))
    colab = next(i for i in facts.imports if i.module == "google.colab")
    assert (colab.distribution, colab.kind) == (None, "unavailable")
    (finding,) = findings(facts, "colab-only")
    assert (finding.evidence.cell, finding.evidence.line) == (1, 1)
    assert not any("colab" in r.distribution for r in facts.requirements)


def test_conda_environment(tmp_path: Path) -> None:
    facts = inspect_repo(fx.conda_env_repo(tmp_path))
    assert facts.python_version == "3.7"
    assert findings(facts, "old-python")[0].path == "environment.yml"
    xgb = req(facts, "xgboost")
    # xgboost 0.90 has a py2.py3 manylinux1 wheel: the offline rule keeps the pin
    assert (xgb.specifier, xgb.source, xgb.pin_dropped, xgb.pin_by_rule) == ("==0.90.*", "environment.yml", False, True)
    assert req(facts, "lightgbm").specifier == "==2.2.3"
    assert req(facts, "scikit-learn").specifier == "==0.20.3"
    assert req(facts, "pandas").specifier == "==0.24.*"
    names = {r.distribution.lower() for r in facts.requirements}
    assert not names & {"mkl", "libgcc-ng", "pip", "python"}


def test_pyproject_and_python2_modules(tmp_path: Path) -> None:
    root = tmp_path / "pyproj"
    fx.write(
        root,
        "pyproject.toml",
        '[project]\nname = "x"\nrequires-python = ">=3.11"\n'
        'dependencies = ["pandas>=2.1", "scikit-learn~=1.4"]\n',
    )
    fx.write(
        root,
        "nb.ipynb",
        fx.nb4(
            [
                "import pandas as pd\nimport cPickle\ntry:\n"
                "    import cStringIO\nexcept ImportError:\n    import io",
            ]
        ),
    )
    facts = inspect_repo(root)
    assert facts.python_version == "3.11"
    assert req(facts, "pandas").specifier == ">=2.1" and req(facts, "pandas").source == "pyproject.toml"
    assert req(facts, "scikit-learn").specifier == "~=1.4"
    py2 = findings(facts, "python2-module")
    assert [f.evidence.line for f in py2] == [2]  # the guarded cStringIO import is not reported
