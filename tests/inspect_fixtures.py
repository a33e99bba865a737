"""Builders of small fixture repos reproducing real notebook-repo patterns (see /work/shared/REALITY.md).

Each builder takes a directory (usually pytest's ``tmp_path``), writes a repo into ``root/<name>``
and returns that root. Notebooks are plain JSON dicts (nbformat v3 or v4), written without nbformat.
The docstring of each builder names the facts it is built to show; reuse them for end-to-end tests.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

Cells = list[str | tuple[str, str]]


# -- low-level helpers ------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def nb4(
    cells: Cells,
    *,
    kernel: str = "python3",
    language: str = "python",
    minor: int = 4,
    version: str = "3.11.7",
    outputs: dict[int, list[dict[str, object]]] | None = None,
) -> dict[str, object]:
    """An nbformat v4 notebook: str items are code cells, ("markdown"|"raw", text) tuples other cells.

    ``outputs`` maps 0-based code cell positions to output lists. Source alternates list/str forms.
    """
    out_cells: list[dict[str, object]] = []
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            out_cells.append({"cell_type": cell[0], "metadata": {}, "source": _lines(cell[1])})
            if minor >= 5:
                out_cells[-1]["id"] = f"cell-{i}"
            continue
        out_cells.append(
            {
                "cell_type": "code",
                "execution_count": i + 1,
                "metadata": {},
                "outputs": (outputs or {}).get(i, []),
                "source": _lines(cell) if i % 2 == 0 else cell,
            }
        )
        if minor >= 5:
            out_cells[-1]["id"] = f"cell-{i}"
    return {
        "cells": out_cells,
        "metadata": {
            "kernelspec": {"display_name": kernel, "language": language, "name": kernel},
            "language_info": {"name": language, "version": version},
        },
        "nbformat": 4,
        "nbformat_minor": minor,
    }


def nb3(cells: Cells, *, name: str = "") -> dict[str, object]:
    """An nbformat v3 notebook (``worksheets``, ``input``, ``prompt_number``, heading cells).

    ("heading", text) makes a heading cell, ("markdown", text) a markdown cell.
    """
    out_cells: list[dict[str, object]] = []
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            kind, text = cell
            item: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": _lines(text)}
            if kind == "heading":
                item["level"] = 1
            out_cells.append(item)
            continue
        out_cells.append(
            {
                "cell_type": "code",
                "collapsed": False,
                "input": _lines(cell),
                "language": "python",
                "metadata": {},
                "outputs": [],
                "prompt_number": i + 1,
            }
        )
    return {
        "metadata": {"name": name},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": out_cells, "metadata": {}}],
    }


def write(root: Path, rel: str, content: str | bytes | dict[str, object]) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, dict):
        path.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _repo(base: Path, name: str) -> Path:
    root = base / name
    root.mkdir(parents=True, exist_ok=True)
    return root


CHURN_CSV = "customer_id,tenure,monthly,contract,churn\n" + "".join(
    f"{i},{i % 70},{20 + i % 50}.5,{'month' if i % 3 else 'year'},{i % 2}\n" for i in range(60)
)


# -- builders ------------------------------------------------------------------------------------------------


def sklearn_classic_repo(base: Path) -> Path:
    """A typical repo: EDA notebook + training notebook, old requirements.txt, magics, removed APIs.

    Facts: training notebook ``notebooks/02 - Model training.ipynb`` (name suggests training) over
    ``notebooks/01-eda.ipynb``; model ``rf`` RandomForestClassifier (sklearn, classification) fitted in
    cell 7 after ``logreg`` in cell 6 (StandardScaler.fit in cell 5 is not a model); target ``churn``
    (``y = df["churn"]``, verified in the header of ``data/churn.csv``); data ``data/churn.csv`` read as
    ``../data/churn.csv``; findings ``removed-api`` (sklearn.cross_validation cell 1, np.float cell 4),
    ``old-pin`` for scikit-learn==0.19.1 and pandas==0.22.0 from requirements.txt; magics
    ``%matplotlib inline`` and ``!pip install seaborn`` (cell 1).
    """
    root = _repo(base, "classic")
    write(
        root,
        "requirements.txt",
        "# old pins\nscikit-learn==0.19.1\npandas==0.22.0  # data\nnumpy\n"
        "matplotlib>=2.0\n-r requirements-extra.txt\n",
    )
    write(root, "requirements-extra.txt", "seaborn[stats]==0.8.1 ; python_version >= '3'\n")
    write(root, "data/churn.csv", CHURN_CSV)
    write(
        root,
        "notebooks/01-eda.ipynb",
        nb4(
            [
                ("markdown", "# Exploração"),
                "import pandas as pd\nimport seaborn as sns\n%matplotlib inline",
                "df = pd.read_csv('../data/churn.csv')\ndf.describe()",
                "sns.pairplot(df)",
            ]
        ),
    )
    write(
        root,
        "notebooks/02 - Model training.ipynb",
        nb4(
            [
                "%matplotlib inline\n!pip install seaborn\nimport pandas as pd\nimport numpy as np\n"
                "from sklearn.cross_validation import train_test_split\n"
                "from sklearn.preprocessing import StandardScaler\n"
                "from sklearn.linear_model import LogisticRegression\n"
                "from sklearn.ensemble import RandomForestClassifier as RFC",
                'df = pd.read_csv("../data/churn.csv")',
                "X = df.drop(columns=['churn', 'customer_id'])\ny = df[\"churn\"]",
                "X = X.select_dtypes(include=[np.number]).astype(np.float)\n"
                "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)",
                "scaler = StandardScaler()\nscaler.fit(X_train)\nX_train_s = scaler.transform(X_train)",
                "logreg = LogisticRegression()\nlogreg.fit(X_train_s, y_train)",
                "rf = RFC(n_estimators=50)\n%time rf.fit(X_train, y_train)",
                "rf.score(X_test, y_test)",
            ]
        ),
    )
    return root


def python2_v3_repo(base: Path) -> Path:
    """nbformat v3 notebook with heading cells and Python 2 code, plus a v4 notebook with a python2 kernel.

    Facts: ``legacy/Titanic Analysis.ipynb`` is nbformat 3 with 5 cells (heading, markdown, 3 code); code
    cells 3 and 5 are Python 2 (``print "..."``) -> one ``python2-syntax`` finding (cell 3, line 2);
    ``legacy/kernel2.ipynb`` declares kernel ``python2`` but parses -> ``python2-kernel`` info;
    ``legacy/broken.ipynb`` cell 1 has a non-Python-2 syntax error -> ``cell-not-python3``.
    """
    root = _repo(base, "py2")
    write(
        root,
        "legacy/Titanic Analysis.ipynb",
        nb3(
            [
                ("heading", "Titanic"),
                ("markdown", "Some *text*"),
                "import pandas as pd\nprint \"loading\"\ndf = pd.read_csv('train.csv')",
                "df.head()",
                "for c in df.columns:\n    print c",
            ],
            name="Titanic Analysis",
        ),
    )
    write(root, "legacy/train.csv", "PassengerId,Survived,Age\n1,0,22\n2,1,38\n")
    write(root, "legacy/kernel2.ipynb", nb4(["x = 1\nprint(x)"], kernel="python2", version="2.7.15"))
    write(root, "legacy/broken.ipynb", nb4(["def f(:\n    pass"]))
    return root


def foreign_paths_repo(base: Path) -> Path:
    """Windows, Colab and home-directory paths, a Colab drive mount, os.chdir, a URL.

    Facts (notebook ``analysis.ipynb``): cell 2 reads ``D:/Usuários/ana/dados/train.csv`` (foreign) ->
    resolved ``data/train.csv``; cell 3 reads ``/content/drive/MyDrive/projeto/holdout.csv`` (foreign)
    -> ``data/holdout.csv``; cell 4 reads ``r"C:\\Users\\ana\\Desktop\\train.csv"`` (foreign, raw
    string) -> ``data/train.csv``; cell 5 reads ``/Users/bob/Downloads/extra.csv`` (absolute) ->
    missing (``data-missing``); cell 6 reads a URL (kind ``url``, ``data-url``); cell 1 mounts the drive
    (``colab-call``, ``colab-only`` for ``google.colab``); cell 7 calls ``os.chdir`` (``os-chdir``);
    cell 8 fits ``clf`` (LogisticRegression) on ``df``, so ``analysis.ipynb`` is the training notebook and
    the data file is ``data/train.csv``, target ``label``.
    """
    root = _repo(base, "foreign")
    write(root, "data/train.csv", "a,b,label\n1,2,yes\n3,4,no\n")
    write(root, "data/holdout.csv", "a,b,label\n5,6,yes\n")
    write(
        root,
        "analysis.ipynb",
        nb4(
            [
                "from google.colab import drive\n"
                "drive.mount('/content/drive')\nimport pandas as pd\nimport os",
                "df = pd.read_csv('D:/Usuários/ana/dados/train.csv')",
                'hold = pd.read_csv("/content/drive/MyDrive/projeto/holdout.csv")',
                'df2 = pd.read_csv(r"C:\\Users\\ana\\Desktop\\train.csv")',
                "extra = pd.read_csv('/Users/bob/Downloads/extra.csv')",
                "remote = pd.read_csv('https://raw.githubusercontent.com/x/y/main/data.csv')",
                "os.chdir('/content/drive/MyDrive')",
                "from sklearn.linear_model import LogisticRegression\n"
                "clf = LogisticRegression().fit(df[['a', 'b']], df['label'])",
            ]
        ),
    )
    return root


def exploration_only_repo(base: Path) -> Path:
    """Only exploration: plots and a StandardScaler/PCA fit, no model.

    Facts: ``model`` is None and a ``no-model`` warning; ``model_fits`` is empty (scaler and PCA fits
    are not models); ``data_file`` is ``iris.csv`` (read by the notebook); ``target`` is ``species``
    chosen by column name.
    """
    root = _repo(base, "explore")
    write(
        root,
        "iris.csv",
        "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n",
    )
    write(
        root,
        "EDA.ipynb",
        nb4(
            [
                "import pandas as pd\nimport matplotlib.pyplot as plt\n"
                "from sklearn.preprocessing import StandardScaler\n"
                "from sklearn.decomposition import PCA",
                "iris = pd.read_csv('iris.csv')\niris.hist()",
                "sc = StandardScaler().fit(iris[['sepal_length', 'sepal_width']])\n"
                "pca = PCA(2)\npca.fit(iris[['sepal_length']])",
            ]
        ),
    )
    return root


def missing_data_and_chain_repo(base: Path) -> Path:
    """A notebook reading a file that is not committed, and a notebook chain through ``X_train.csv``.

    Facts: ``1_prepare.ipynb`` cell 2 reads ``data/raw_sales.csv`` (missing -> ``data-missing`` naming
    notebook, cell and literal) and cell 3 writes ``X_train.csv``; ``2_train.ipynb`` cell 2 reads
    ``X_train.csv`` (``notebook-chain`` info, not ``data-missing``) and trains ``model``
    (GradientBoostingRegressor, regression); the data file is not ``X_train.csv``: ``data/sample.csv``
    (largest CSV) is chosen instead.
    """
    root = _repo(base, "chain")
    write(root, "data/sample.csv", "x1,x2,sales\n" + "".join(f"{i},{i * 2},{i * 3.5}\n" for i in range(30)))
    write(
        root,
        "1_prepare.ipynb",
        nb4(
            [
                "import pandas as pd",
                "raw = pd.read_csv('data/raw_sales.csv')",
                "raw.dropna().to_csv('X_train.csv', index=False)",
            ]
        ),
    )
    write(
        root,
        "2_train.ipynb",
        nb4(
            [
                "import pandas as pd\nfrom sklearn.ensemble import GradientBoostingRegressor",
                "train = pd.read_csv('X_train.csv')\ny = train['sales']\nX = train.drop('sales', axis=1)",
                "model = GradientBoostingRegressor()\nmodel.fit(X, y)",
            ]
        ),
    )
    return root


def local_helpers_repo(base: Path) -> Path:
    """Local helper module and package imported by a notebook in ``notebooks/``.

    Facts: ``utils`` (``utils.py`` at the root, latin-1 encoded with a coding line) and ``helpers``
    (``src/helpers/__init__.py``) are local modules (kind ``local``); their own third-party imports are
    learnt: ``xgboost`` from ``utils.py`` line 3 and ``seaborn`` from ``src/helpers/plots.py``, so
    requirements include xgboost and seaborn; ``notebooks/feature_eng.py`` (next to the notebook) is
    local too; ``import sklearnn`` is a typo -> ``unknown-distribution``; ``import fancyimpute`` ->
    ``unknown-import`` (info).
    """
    root = _repo(base, "helpers")
    write(
        root,
        "utils.py",
        "# -*- coding: latin-1 -*-\n# Funções auxiliares: média\nimport xgboost as xgb\n"
        "import os\n\ndef load():\n    return 'é'\n".encode("latin-1"),
    )
    write(root, "src/helpers/__init__.py", "from .plots import show\n")
    write(
        root, "src/helpers/plots.py", "import seaborn as sns\nimport numpy as np\n\ndef show():\n    pass\n"
    )
    write(root, "notebooks/feature_eng.py", "import pandas as pd\n")
    write(
        root,
        "notebooks/work.ipynb",
        nb4(
            [
                "import utils\nfrom helpers import show\nimport feature_eng\nimport pandas as pd",
                "import sklearnn\nimport fancyimpute",
            ]
        ),
    )
    return root


def conda_env_repo(base: Path) -> Path:
    """Conda ``environment.yml`` with Python 3.7, conda-only names and a pip subsection.

    Facts: ``python_version == "3.7"`` (``old-python`` info); requirements from environment.yml:
    scikit-learn ``==0.20.3`` (``old-pin``, ``pin_dropped``), pandas ``==0.24.*``, xgboost ``==0.90.*``
    (conda name ``py-xgboost``), lightgbm ``==2.2.3`` (pip subsection, ``old-pin``); conda-only
    packages (``mkl``, ``libgcc``) are not requirements.
    """
    root = _repo(base, "conda")
    write(
        root,
        "environment.yml",
        "name: proj\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.7\n"
        "  - scikit-learn=0.20.3=py37h_0\n  - pandas=0.24\n  - conda-forge::py-xgboost=0.90\n"
        "  - mkl\n  - libgcc-ng\n  - pip\n  - pip:\n    - lightgbm==2.2.3\n",
    )
    write(
        root,
        "model.ipynb",
        nb4(
            [
                "import pandas as pd\nimport xgboost as xgb\n"
                "import lightgbm as lgb\nfrom sklearn import metrics",
            ]
        ),
    )
    return root


def malformed_repo(base: Path) -> Path:
    """Broken notebooks next to a good one: malformed JSON, non-UTF-8 bytes, JSON that is not a notebook.

    Facts: ``notebook-unreadable`` errors for ``broken.ipynb`` (malformed JSON),
    ``latin.ipynb`` (not UTF-8) and ``not_a_notebook.ipynb``; ``good.ipynb`` is still inspected;
    a checkpoint copy in ``.ipynb_checkpoints/`` is ignored.
    """
    root = _repo(base, "malformed")
    write(root, "broken.ipynb", '{"cells": [ {"cell_type": "code", "source": "x = 1"')
    write(
        root,
        "latin.ipynb",
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 2, "x": "ã"}'.encode("latin-1"),
    )
    write(root, "not_a_notebook.ipynb", '["just", "a", "list"]')
    write(root, "good.ipynb", nb4(["import numpy as np"]))
    write(root, ".ipynb_checkpoints/good-checkpoint.ipynb", nb4(["import numpy as np"]))
    return root


def huge_output_repo(base: Path, megabytes: int = 20) -> Path:
    """A notebook with ~``megabytes`` MB of embedded base64 PNG output and a model fit after it.

    Facts: inspected quickly without keeping outputs; ``size_bytes`` > ``megabytes`` MB; model ``clf``
    (DecisionTreeClassifier) fitted in cell 3.
    """
    root = _repo(base, "huge")
    blob = base64.b64encode(os.urandom(megabytes * 750_000)).decode("ascii")
    output = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": blob, "text/plain": ["<Figure>"]},
    }
    write(
        root,
        "plots.ipynb",
        nb4(
            [
                "import pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier",
                "df = pd.read_csv('d.csv')\ndf.plot()",
                "clf = DecisionTreeClassifier()\nclf.fit(df[['a']], df['label'])",
            ],
            outputs={1: [output]},
        ),
    )
    write(root, "d.csv", "a,label\n1,0\n2,1\n")
    return root


def non_utf8_csv_repo(base: Path) -> Path:
    """A latin-1, semicolon-separated CSV with non-ASCII column names.

    Facts: data ``dados/vendas.csv``; target ``preço`` (``y = df["preço"]``) verified in the header read
    with the latin-1 fallback; task regression (Ridge).
    """
    root = _repo(base, "latin")
    rows = "área;quartos;preço\n" + "".join(f"{50 + i};{i % 4};{1000.5 * i}\n" for i in range(20))
    write(root, "dados/vendas.csv", rows.encode("latin-1"))
    write(
        root,
        "previsão.ipynb",
        nb4(
            [
                "import pandas as pd\nfrom sklearn.linear_model import Ridge",
                "df = pd.read_csv('dados/vendas.csv', sep=';', encoding='latin-1')",
                "y = df['preço']\nX = df[['área', 'quartos']]\nmodelo = Ridge().fit(X, y)",
            ]
        ),
    )
    return root


def odd_names_repo(base: Path) -> Path:
    """Names with spaces, ``&``, hyphens and non-ASCII; a read-only notebook; symlinks; checkpoints.

    Facts: notebook ``my notebooks/Section 1-2 - Análise & Modelo.ipynb`` (read-only) reads
    ``../dados/Preços & vendas-.csv`` -> resolved ``dados/Preços & vendas-.csv`` (exact path, relative
    to the notebook); a symlink ``outside.csv`` pointing out of the repo is not read
    (``symlink-outside``); ``.ipynb_checkpoints`` copies and ``.DS_Store`` are ignored;
    ``Untitled.ipynb`` fits nothing.
    """
    root = _repo(base, "odd names & ç")
    write(root, "dados/Preços & vendas-.csv", "mês,total,alvo\njan,10,1\nfev,20,0\n")
    nb = write(
        root,
        "my notebooks/Section 1-2 - Análise & Modelo.ipynb",
        nb4(
            [
                "import pandas as pd\nfrom sklearn.svm import SVC",
                "df = pd.read_csv('../dados/Preços & vendas-.csv')",
                "svm = SVC()\nsvm.fit(df[['total']], df['alvo'])",
            ]
        ),
    )
    nb.chmod(0o444)
    write(
        root, "my notebooks/.ipynb_checkpoints/Section 1-2 - Análise & Modelo-checkpoint.ipynb", nb4(["x=1"])
    )
    write(root, ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(root, "Untitled.ipynb", nb4(["1 + 1"]))
    outside = base / "outside-secret.csv"
    outside.write_text("secret,1\n", encoding="utf-8")
    try:
        (root / "outside.csv").symlink_to(outside)
        (root / "loop").symlink_to(root, target_is_directory=True)
    except OSError:  # pragma: no cover - platforms without symlinks
        pass
    return root


def boosting_repo(base: Path) -> Path:
    """XGBoost sklearn API, then LightGBM native ``lgb.train`` with a params dict.

    Facts: fits in ``boost.ipynb``: ``xgb_clf`` XGBClassifier (xgboost, classification) cell 3, then
    ``booster`` = ``lgb.train(params, dtrain)`` (lightgbm, Booster, classification from
    ``objective: binary``) cell 4 -> the model is ``booster``; target ``default`` traced from
    ``lgb.Dataset(X, label=y)`` and ``y = df.default``.
    """
    root = _repo(base, "boost")
    write(
        root,
        "credit.csv",
        "income,age,default\n" + "".join(f"{i * 100},{20 + i},{i % 2}\n" for i in range(30)),
    )
    write(
        root,
        "boost.ipynb",
        nb4(
            [
                "import pandas as pd\nimport xgboost as xgb\nimport lightgbm as lgb",
                "df = pd.read_csv('credit.csv')\ny = df.default\nX = df.drop(['default'], axis=1)",
                "xgb_clf = xgb.XGBClassifier(n_estimators=10)\nxgb_clf.fit(X, y)",
                "params = {'objective': 'binary', 'verbose': -1}\ndtrain = lgb.Dataset(X, label=y)\n"
                "booster = lgb.train(params, dtrain, num_boost_round=10)",
            ]
        ),
    )
    return root


def statsmodels_formula_repo(base: Path) -> Path:
    """statsmodels: formula API (patsy) and array API.

    Facts: ``houses.ipynb`` fits ``ols_res`` = ``sm.OLS(y, X).fit()`` (cell 2) then ``results`` =
    ``smf.ols("price ~ area + rooms", data=houses).fit()`` (cell 3); the model is ``results``
    (statsmodels, OLS, regression); target ``price`` from the formula's left-hand side, verified in
    ``houses.csv``.
    """
    root = _repo(base, "statsm")
    write(
        root,
        "houses.csv",
        "area,rooms,price\n" + "".join(f"{40 + i},{1 + i % 5},{1000 * i + 0.5}\n" for i in range(25)),
    )
    write(
        root,
        "houses.ipynb",
        nb4(
            [
                "import pandas as pd\nimport statsmodels.api as sm\nimport statsmodels.formula.api as smf\n"
                "houses = pd.read_csv('houses.csv')",
                "y = houses['price']\nX = sm.add_constant(houses[['area']])\nols_res = sm.OLS(y, X).fit()",
                'results = smf.ols("price ~ area + rooms", data=houses).fit()\nprint(results.summary())',
            ]
        ),
    )
    return root


def deep_learning_repo(base: Path) -> Path:
    """PyTorch ``nn.Module`` training loop and a Keras ``Sequential`` model in separate notebooks.

    Facts: ``torch_train.ipynb`` -> fit variable ``net`` (class ``Net``, torch, classification from
    ``CrossEntropyLoss``) at the ``optimizer.step()`` line; ``keras_model.ipynb`` -> ``model``
    (Sequential, keras, regression from ``loss='mse'``).
    """
    root = _repo(base, "deep")
    write(
        root,
        "torch_train.ipynb",
        nb4(
            [
                "import torch\nimport torch.nn as nn\nimport torch.optim as optim",
                "class Net(nn.Module):\n    def __init__(self):\n"
                "        super().__init__()\n        self.fc = nn.Linear(4, 2)\n"
                "    def forward(self, x):\n        return self.fc(x)",
                "net = Net()\ncriterion = nn.CrossEntropyLoss()\n"
                "optimizer = optim.SGD(net.parameters(), lr=0.1)",
                "for epoch in range(3):\n    optimizer.zero_grad()\n"
                "    loss = criterion(net(xb), yb)\n    loss.backward()\n"
                "    optimizer.step()",
            ]
        ),
    )
    write(
        root,
        "keras_model.ipynb",
        nb4(
            [
                "from tensorflow import keras\nfrom tensorflow.keras import layers",
                "model = keras.Sequential([layers.Dense(8), layers.Dense(1)])\n"
                "model.compile(optimizer='adam', loss='mse')",
                "history = model.fit(X_train, y_train, epochs=5)",
            ]
        ),
    )
    return root


def exercise_and_r_repo(base: Path) -> Path:
    """An exercise notebook with no code cells, a notebook with ``%%R`` cells, and an R-kernel notebook.

    Facts: ``exercise.ipynb`` -> ``no-code-cells`` info; ``mixed.ipynb`` cell 2 is ``%%R`` ->
    ``r-cells`` info, and it still parses (the cell is commented out); ``analysis_r.ipynb`` has language
    ``R`` -> ``non-python-notebook`` info and no ``cell-not-python3``.
    """
    root = _repo(base, "exercise")
    write(
        root,
        "exercise.ipynb",
        nb4([("markdown", "## Exercício 1\nEscreva o código."), ("raw", "answer here")]),
    )
    write(
        root,
        "mixed.ipynb",
        nb4(
            [
                "%load_ext rpy2.ipython\nimport pandas as pd",
                "%%R -i df\nlibrary(ggplot2)\nggplot(df, aes(x=a)) + geom_histogram()",
            ]
        ),
    )
    write(
        root, "analysis_r.ipynb", nb4(["library(dplyr)\ndf <- read.csv('x.csv')"], kernel="ir", language="R")
    )
    return root


def many_notebooks_repo(base: Path, count: int = 10, cells: int = 20) -> Path:
    """``count`` ordinary notebooks of ``cells`` code cells each (speed checks)
    plus one 200-cell notebook.

    Facts: ``count + 1`` notebooks; ``big.ipynb`` has 200 cells; training notebook ``nb_{count-1}_train``.
    """
    root = _repo(base, "many")
    write(root, "data.csv", "a,b,target\n1,2,0\n3,4,1\n")
    body = [
        "import pandas as pd\nimport numpy as np\nfrom sklearn.linear_model import LogisticRegression",
        "df = pd.read_csv('data.csv')\ny = df['target']\nX = df.drop(columns=['target'])",
    ]
    body += [f"v{i} = np.mean(X['a']) * {i}\n%matplotlib inline\nprint(v{i})" for i in range(cells - 3)]
    body += ["clf = LogisticRegression()\nclf.fit(X, y)"]
    for i in range(count):
        suffix = "_train" if i == count - 1 else "_explore"
        write(root, f"notebooks/nb_{i}{suffix}.ipynb", nb4(body))
    write(
        root, "big.ipynb", nb4([f"x{i} = {i}" if i % 3 else ("markdown", f"# part {i}") for i in range(200)])
    )
    return root


def no_notebooks_repo(base: Path) -> Path:
    """No notebooks at all (only a checkpoint copy and a script). Facts: ``NoNotebooksError``."""
    root = _repo(base, "empty")
    write(root, "train.py", "print('hi')\n")
    write(root, ".ipynb_checkpoints/x-checkpoint.ipynb", nb4(["x = 1"]))
    return root
