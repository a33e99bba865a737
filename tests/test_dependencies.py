"""Dependencies that install: only what the training code imports, pins checked against a real index.

A real HTTP package index runs on 127.0.0.1 (``http.server`` in a thread) and serves PEP 691 JSON
pages written into a temp dir; adopt is pointed at it with ``SHIPYARD_INDEX_URL`` and each test has
its own Shipyard cache.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import inspect_fixtures as fx
import pytest
from conftest import adopt_json, git, make_repo
from shipyard.index import display_url
from shipyard.inspect import inspect_repo
from shipyard.inspect.pins import verdict_by_rule

CP311 = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"


def wheel(name: str, version: str, tags: str, requires_python: str | None = None, **extra: object) -> dict:
    return {"filename": f"{name}-{version}-{tags}.whl", "requires-python": requires_python,
            "upload-time": "2024-03-01T10:00:00Z", "hashes": {}, "url": f"../../files/{name}-{version}.whl",
            "yanked": False, **extra}


def sdist(name: str, version: str, requires_python: str | None = None, year: int = 2014) -> dict:
    return {"filename": f"{name}-{version}.tar.gz", "requires-python": requires_python,
            "upload-time": f"{year}-05-01T10:00:00Z", "hashes": {}, "url": f"../../files/{name}-{version}.tar.gz",
            "yanked": False}


class Index:
    """A PEP 691 index on 127.0.0.1 serving ``<dir>/<name>/index.json`` (or ``index.html``); 404 otherwise."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                index.requests.append(self.path)
                name = self.path.removeprefix("/simple/").strip("/")
                page = index.folder / name
                for file, kind in (("index.json", "application/vnd.pypi.simple.v1+json"), ("index.html", "text/html")):
                    if "/" not in name and (page / file).is_file():
                        body = (page / file).read_bytes()
                        self.send_response(200)
                        self.send_header("Content-Type", kind)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                self.send_error(404)

            def log_message(self, *args: object) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, files: list[dict]) -> None:
        (self.folder / name).mkdir(parents=True, exist_ok=True)
        data = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        (self.folder / name / "index.json").write_text(json.dumps(data), encoding="utf-8")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    served = Index(tmp_path / "index")
    monkeypatch.setenv("SHIPYARD_INDEX_URL", served.url)
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SHIPYARD_OFFLINE", raising=False)
    yield served
    served.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def project_dependencies(root: Path) -> list[str]:
    """The generated pyproject.toml's dependencies beyond the template's own."""
    template = {"mlflow-skinny", "sqlalchemy", "alembic", "pandas", "scikit-learn", "skops", "fastapi", "uvicorn",
                "prometheus-client", "pyyaml", "pyarrow", "matplotlib", "numpy"}
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[\n(.*?)^\]", text, re.M | re.S)
    assert block is not None, text
    deps = [json.loads(line.strip().rstrip(",")) for line in block.group(1).splitlines() if line.strip()]
    return [d for d in deps if re.split(r"[<>=!~ ;\[]", d)[0].lower() not in template]


def dependency_lines(adoption: str) -> dict[str, str]:
    section = adoption.split("### Dependencies")[1].split("\n### ")[0].split("\n## ")[0]
    return {line.split("`")[1]: line for line in section.splitlines() if line.startswith("- `")}


# -- a repo pinning one distribution of each kind --------------------------------------------------------------

PINNED = {
    "goodlib": "==1.2.0",  # a cp311 manylinux wheel: kept
    "py2lib": "==0.3.0",  # only a py2 wheel: dropped
    "oldsdist": "==0.1.2",  # only a 2014 sdist without requires-python: dropped
    "yankedlib": "==1.0.0",  # its only file is yanked: dropped
    "ghostlib": "==2.0",  # the index has no such project (404): not installed
    "rangelib": ">=1.0",  # a range a current release (a py3-none-any wheel) satisfies: kept as is
    "sdistok": "==0.5",  # sdist-only, declares requires-python >=3.8: kept
    "compiled": "==0.9",  # cp36/cp37 wheels and a compiled sdist: dropped
    "htmllib": "==3.1",  # served as a PEP 503 HTML page with a py3 wheel: kept
    "nosuchver": "==9.9",  # the project exists, that release does not: dropped
}


def pinned_repo(base: Path) -> Path:
    root = base / "pinned"
    fx.write(root, "requirements.txt", "".join(f"{name}{spec}\n" for name, spec in PINNED.items())
             + "edaonly==0.1\njustdeclared==1.0\n")
    fx.write(root, "data/churn.csv", fx.CHURN_CSV)
    imports = "\n".join(f"import {name}" for name in PINNED)
    fx.write(root, "train.ipynb", fx.nb4([
        f"import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n{imports}",
        "df = pd.read_csv('data/churn.csv')\nX = df[['tenure', 'monthly']]\ny = df['churn']",
        "model = LogisticRegression().fit(X, y)",
    ]))
    fx.write(root, "eda.ipynb", fx.nb4(["import edaonly\nimport pandas as pd"]))
    return make_repo(root)


def serve_pinned(index: Index) -> None:
    index.page("goodlib", [wheel("goodlib", "1.2.0", CP311, ">=3.9"), wheel("goodlib", "2.0.0", "py3-none-any")])
    index.page("py2lib", [wheel("py2lib", "0.3.0", "py2-none-any")])
    index.page("oldsdist", [sdist("oldsdist", "0.1.2")])
    index.page("yankedlib", [wheel("yankedlib", "1.0.0", "py3-none-any", yanked="broken build"),
                             wheel("yankedlib", "1.1.0", "py3-none-any")])
    index.page("rangelib", [sdist("rangelib", "0.9"), wheel("rangelib", "2.1", "py3-none-any", ">=3.8")])
    index.page("sdistok", [sdist("sdistok", "0.5", ">=3.8", year=2021)])
    index.page("compiled", [wheel("compiled", "0.9", "cp36-cp36m-manylinux1_x86_64"),
                            wheel("compiled", "0.9", "cp37-cp37m-manylinux1_x86_64"),
                            sdist("compiled", "0.9", ">=3.6", year=2019)])
    index.page("nosuchver", [wheel("nosuchver", "1.0", "py3-none-any")])
    (index.folder / "htmllib").mkdir()
    (index.folder / "htmllib" / "index.html").write_text(
        '<html><body><a href="../../files/htmllib-3.1-py3-none-any.whl#sha256=00" '
        'data-requires-python="&gt;=3.7">htmllib-3.1-py3-none-any.whl</a></body></html>', encoding="utf-8")


def test_pins_are_kept_only_when_the_index_has_an_installable_release(tmp_path: Path, index: Index) -> None:
    serve_pinned(index)
    root = pinned_repo(tmp_path)
    report = adopt_json(root)
    assert project_dependencies(root) == [
        "compiled", "goodlib==1.2.0", "htmllib==3.1", "nosuchver", "oldsdist", "py2lib", "rangelib>=1.0",
        "sdistok==0.5", "yankedlib",
    ]
    lines = dependency_lines((root / "ADOPTION.md").read_text(encoding="utf-8"))
    assert "in `pyproject.toml` as `goodlib==1.2.0` (1.2.0 has a wheel for CPython 3.11)" in lines["goodlib==1.2.0"]
    assert "pin dropped (0.3.0 has no wheel for CPython 3.11 (only Python 2 wheels)), so the project asks for " \
           "`py2lib`" in lines["py2lib==0.3.0"]
    assert "pin dropped (0.1.2 has no wheel for CPython 3.11 and the 2014 sdist declares no Python versions)" \
           in lines["oldsdist==0.1.2"]
    assert "pin dropped (1.0.0 is yanked on the index)" in lines["yankedlib==1.0.0"]
    assert "not installed (the index has no project named ghostlib)" in lines["ghostlib==2.0"]
    assert "as `rangelib>=1.0` (2.1 has a wheel for CPython 3.11)" in lines["rangelib>=1.0"]
    assert "as `sdistok==0.5` (0.5 has only an sdist, which declares Python >=3.8)" in lines["sdistok==0.5"]
    assert "pin dropped (0.9 has no wheel for CPython 3.11 (only for cp36, cp37) and its sdist needs compiling)" \
           in lines["compiled==0.9"]
    assert "as `htmllib==3.1`" in lines["htmllib==3.1"]
    assert "pin dropped (no such release on the index)" in lines["nosuchver==9.9"]
    assert "imported only by other notebooks, not by the training code: not installed" in lines["edaonly==0.1"]
    assert "declared but not imported by the training code: not installed" in lines["justdeclared==1.0"]
    warned = {(w["code"], w["message"].split(" pins ")[1].split(",")[0].split(" ")[0]) for w in report["warnings"]
              if w["code"] in ("pin-dropped", "not-on-index")}
    assert warned == {("pin-dropped", "py2lib==0.3.0"), ("pin-dropped", "oldsdist==0.1.2"),
                      ("pin-dropped", "yankedlib==1.0.0"), ("pin-dropped", "compiled==0.9"),
                      ("pin-dropped", "nosuchver==9.9"), ("not-on-index", "ghostlib==2.0")}
    assert "pins-checked-offline" not in {w["code"] for w in report["warnings"]}
    # Only the pins of project dependencies were asked about, each once; edaonly and justdeclared never.
    asked = sorted(path.strip("/").split("/")[-1] for path in index.requests)
    assert asked == sorted(PINNED)


def test_a_second_adopt_asks_nothing_and_writes_the_same_bytes(tmp_path: Path, index: Index) -> None:
    serve_pinned(index)
    root = pinned_repo(tmp_path)
    adopt_json(root)
    first = {p: (root / p).read_bytes() for p in ("pyproject.toml", "ADOPTION.md", ".copier-answers.yml")}
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt")
    asked = len(index.requests)
    again = adopt_json(root)
    assert len(index.requests) == asked  # answered from the cache
    assert again["changes_nothing"] is True
    assert {p: (root / p).read_bytes() for p in first} == first


def test_unreachable_index_falls_back_to_the_offline_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SHIPYARD_OFFLINE", raising=False)
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    monkeypatch.setenv("SHIPYARD_INDEX_URL", url)
    root = pins_2014_repo(tmp_path)
    report = adopt_json(root)
    assert project_dependencies(root) == ["scipy", "seaborn"]
    (note,) = [w for w in report["warnings"] if w["code"] == "pins-checked-offline"]
    assert note["severity"] == "info" and f"the package index {url} could not be reached" in note["message"]
    assert "seaborn==0.5.1 dropped" in note["message"] and "scipy==0.14.0 dropped" in note["message"]
    adoption = (root / "ADOPTION.md").read_text(encoding="utf-8")
    assert adoption.count("pins checked offline by rule") == 1
    lines = dependency_lines(adoption)
    assert "pin dropped (offline rule: the first seaborn with a wheel for CPython 3.11 is 0.9.0)" \
           in lines["seaborn==0.5.1"]


def test_shipyard_offline_sends_no_request(tmp_path: Path, index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    serve_pinned(index)
    monkeypatch.setenv("SHIPYARD_OFFLINE", "1")
    root = pinned_repo(tmp_path)
    report = adopt_json(root)
    assert index.requests == []
    (note,) = [w for w in report["warnings"] if w["code"] == "pins-checked-offline"]
    assert note["message"].startswith("SHIPYARD_OFFLINE is set: pins checked offline by rule")
    lines = dependency_lines((root / "ADOPTION.md").read_text(encoding="utf-8"))
    # No rule covers these distributions: kept as declared, and said so.
    assert "as `goodlib==1.2.0` (offline rule: not checked" in lines["goodlib==1.2.0"]


def test_offline_rule_table() -> None:
    assert not verdict_by_rule("numpy", "==1.8.0", "3.11").keep
    assert verdict_by_rule("numpy", "==1.8.0", "3.11").reason == "the first numpy with a wheel for CPython 3.11 is 1.23.2"
    assert verdict_by_rule("numpy", "==1.23.*", "3.11").keep  # 1.23.2 matches
    assert not verdict_by_rule("numpy", "==1.23.*", "3.12").keep
    assert verdict_by_rule("numpy", ">=1.16", "3.11").keep
    assert not verdict_by_rule("pandas", "<1.0", "3.11").keep
    assert not verdict_by_rule("pandas", "~=1.3", "3.12").keep and verdict_by_rule("pandas", "~=1.3", "3.11").keep
    assert verdict_by_rule("somelib", "==0.1", "3.11").keep  # no rule: kept unchecked


def test_index_urls_are_reported_without_credentials() -> None:
    assert display_url("https://ana:s3cret@pypi.example.org/simple/") == "https://pypi.example.org/simple/"
    assert display_url("https://pypi.org/simple/") == "https://pypi.org/simple/"


# -- 2014 pins and a local package --------------------------------------------------------------------------------


def pins_2014_repo(base: Path) -> Path:
    """2014 pins (tornado, wsgiref, numpy, pandas, scikit-learn, seaborn, scipy, requests nobody imports) and a
    notebook in notebooks/ doing ``sys.path.append('..')``, ``from helpers import predict``, ``import utils``.

    ``helpers/`` is a package whose ``predict`` module imports its sibling ``features`` the Python 2 way and
    seaborn; ``utils.py`` at the root imports scipy. The project's dependencies beyond the template are
    exactly scipy and seaborn, without their 2014 pins.
    """
    root = base / "pins2014"
    fx.write(root, "requirements.txt", "tornado==3.2.2\nwsgiref==0.1.2\nnumpy==1.8.0\npandas==0.13.1\n"
             "scikit-learn==0.14.1\nseaborn==0.5.1\nscipy==0.14.0\nrequests==2.2.1\nipython==2.0.0\n")
    fx.write(root, "helpers/__init__.py", "from . import predict\n")
    fx.write(root, "helpers/predict.py", "import features\nimport seaborn as sns\n\n\ndef predict(model, X):\n"
             "    return model.predict(X)\n")
    fx.write(root, "helpers/features.py", "import numpy as np\n")
    fx.write(root, "utils.py", "from scipy import stats\n\n\ndef zscore(x):\n    return stats.zscore(x)\n")
    fx.write(root, "data/churn.csv", fx.CHURN_CSV)
    fx.write(root, "notebooks/train.ipynb", fx.nb4([
        "import sys\nsys.path.append('..')\nfrom helpers import predict\nimport utils\nimport pandas as pd\n"
        "import numpy as np\nfrom sklearn.linear_model import LogisticRegression",
        "df = pd.read_csv('../data/churn.csv')\nX = df[['tenure', 'monthly']]\ny = df['churn']",
        "model = LogisticRegression().fit(X, y)",
    ]))
    fx.write(root, "notebooks/eda.ipynb", fx.nb4(["import pandas as pd\nimport plotly.express as px"]))
    return make_repo(root)


def serve_2014(index: Index) -> None:
    index.page("seaborn", [sdist("seaborn", "0.5.1"), wheel("seaborn", "0.13.2", "py3-none-any", ">=3.8")])
    index.page("scipy", [sdist("scipy", "0.14.0"), wheel("scipy", "1.13.1", CP311, ">=3.9")])


def test_2014_pins_and_a_local_package(tmp_path: Path, index: Index) -> None:
    serve_2014(index)
    root = pins_2014_repo(tmp_path)
    report = adopt_json(root)
    assert project_dependencies(root) == ["scipy", "seaborn"]
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    for absent in ("tornado", "wsgiref", "requests", "plotly", "ipython", '"predict', '"helpers', '"utils',
                   '"features', "==0.", "==1.8", "==3.2"):
        assert absent not in pyproject, absent
    assert sorted(p.strip("/").split("/")[-1] for p in index.requests) == ["scipy", "seaborn"]
    lines = dependency_lines((root / "ADOPTION.md").read_text(encoding="utf-8"))
    assert "declared but not imported by the training code: not installed" in lines["tornado==3.2.2"]
    assert "declared but not imported by the training code: not installed" in lines["wsgiref==0.1.2"]
    assert "imported only by other notebooks" in lines["plotly"]
    assert "the project uses the template's current requirement" in lines["numpy==1.8.0"]
    assert "pin dropped (0.5.1 has no wheel for CPython 3.11 and the 2014 sdist declares no Python versions), " \
           "so the project asks for `seaborn`" in lines["seaborn==0.5.1"]
    codes = {(w["code"], w["path"]) for w in report["warnings"]}
    assert ("old-pin", "requirements.txt") in codes and ("pin-dropped", "requirements.txt") in codes


def test_local_modules_and_optional_imports_are_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_OFFLINE", "1")
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "locals"
    fx.write(root, "lib/predict.py", "import tabulate\n")  # reached through sys.path.append('../lib')
    fx.write(root, "src/pipeline/__init__.py", "from .steps import clean\n")
    fx.write(root, "src/pipeline/steps.py", "import termcolor\ntry:\n    import torch\nexcept ImportError:\n"
             "    torch = None\n\n\ndef clean(df):\n    return df\n")
    fx.write(root, "notebooks/plots.py", "import missingno\n")  # next to the notebook
    fx.write(root, "helpers/__init__.py", "")
    fx.write(root, "helpers/predict.py", "import emoji\n")
    fx.write(root, "notebooks/model.ipynb", fx.nb4([
        "import sys\nsys.path.append('../lib')\nimport predict\nimport helpers.predict\nfrom pipeline import clean\n"
        "import plots\nfrom sklearn.tree import DecisionTreeClassifier",
        "m = DecisionTreeClassifier().fit([[0], [1]], [0, 1])",
    ]))
    facts = inspect_repo(root)
    used = {r.distribution for r in facts.requirements if r.used}
    assert used == {"tabulate", "termcolor", "missingno", "emoji", "scikit-learn"}
    torch = next(r for r in facts.requirements if r.distribution == "torch")
    assert (torch.used, torch.optional) == (False, True)  # only inside try/except ImportError: not installed
    kinds = {i.module: i.kind for i in facts.imports if i.evidence.path == "notebooks/model.ipynb"}
    assert kinds["predict"] == kinds["helpers"] == kinds["pipeline"] == kinds["plots"] == "local"


def test_utf16_pip_freeze_and_aliases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_OFFLINE", "1")
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "freeze"
    jupyter = [f"jupyter-internal-{i}=={i}.0.1" for i in range(120)]
    frozen = "\r\n".join([*jupyter, "seaborn==0.13.2", "sklearn==0.0", "tornado==6.4"]) + "\r\n"
    fx.write(root, "requirements.txt", b"\xff\xfe" + frozen.encode("utf-16-le"))
    fx.write(root, "nb.ipynb", fx.nb4(["import seaborn as sns\nfrom sklearn.svm import SVC",
                                       "m = SVC().fit([[0], [1]], [0, 1])"]))
    facts = inspect_repo(root)
    assert len(facts.requirements) == 123
    assert {r.pip() for r in facts.requirements if r.used} == {"seaborn==0.13.2", "scikit-learn==0.0"}
    sk = next(r for r in facts.requirements if r.distribution == "scikit-learn")
    assert (sk.declared_as, sk.declared(), sk.modules) == ("sklearn", "sklearn==0.0", ("sklearn",))
    make_repo(root)
    adopt_json(root)
    assert project_dependencies(root) == ["seaborn==0.13.2"]


def test_a_pin_that_installs_but_not_with_the_templates_stack_is_dropped() -> None:
    """seaborn 0.11 installs on CPython 3.11, then fails at import on matplotlib 3.8+ (field: Flight-Fare)."""
    from shipyard.inspect.pins import below_stack_floor

    assert "seaborn 0.13" in below_stack_floor("seaborn", "==0.11.2")
    assert "seaborn 0.13" in below_stack_floor("Seaborn", "<0.12")
    assert below_stack_floor("seaborn", "==0.13.2") == ""
    assert below_stack_floor("seaborn", ">=0.11") == ""  # a range a current release satisfies is kept
    assert below_stack_floor("wordcloud", "==1.8.1") == ""
