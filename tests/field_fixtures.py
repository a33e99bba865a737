"""Small repos that reproduce what the field corpus showed (../shared/field), one pattern each.

No repository content is copied: the data is generated here, a few hundred rows each, and the
notebooks are written the way the field's notebooks are (their read calls, paths and quirks).
Every builder returns the repo root; its docstring states what adoption must find.
"""

from __future__ import annotations

import json
import random
from pathlib import Path


def notebook(cells: list[str], *, markdown_first: str = "") -> dict:
    body = [{"cell_type": "markdown", "metadata": {}, "source": markdown_first}] if markdown_first else []
    body += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
             for src in cells]
    return {"cells": body, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}}


def write_notebook(path: Path, cells: list[str], **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(cells, **kwargs), indent=1, ensure_ascii=False), encoding="utf-8")


def _customers(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        tenure = rng.randint(1, 72)
        charges = round(rng.uniform(20, 120), 2)
        plan = rng.choice(["básico", "padrão", "prêmio"])
        calls = rng.randint(0, 6)
        risk = calls * 0.4 + (plan == "básico") * 0.8 + (charges > 80) * 0.7 - tenure / 40 + rng.gauss(0, 0.5)
        rows.append({"id": 1000 + i, "tenure": tenure, "charges": charges, "plan": plan, "calls": calls,
                     "churn": "Yes" if risk > 0.6 else "No"})
    return rows


def semicolon_decimal_bom_repo(base: Path) -> Path:
    """A ';' CSV with decimal commas and a UTF-8 BOM, CRLF; the notebook reads it with sep and decimal.

    Facts: data ``data/clientes.csv``; READ_OPTIONS {sep: ';', decimal: ','}; `charges` is a number;
    target `churn` (Yes/No, derived to 0/1 with ``map`` in the notebook, same name); model RandomForest.
    """
    root = base / "clientes"
    (root / "data").mkdir(parents=True)
    rows = _customers(400, 1)
    text = "id;tenure;charges;plan;calls;churn\r\n" + "".join(
        f"{r['id']};{r['tenure']};{str(r['charges']).replace('.', ',')};{r['plan']};{r['calls']};{r['churn']}\r\n"
        for r in rows)
    (root / "data" / "clientes.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    write_notebook(root / "Modelo de churn.ipynb", [
        "import pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier\n"
        "from sklearn.model_selection import train_test_split",
        "df = pd.read_csv('data/clientes.csv', sep=';', decimal=',')\n"
        "df['churn'] = df['churn'].map({'Yes': 1, 'No': 0})\n"
        "df = pd.get_dummies(df, columns=['plan'])",
        "X = df.drop(columns=['churn', 'id'])\ny = df['churn']\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
        "modelo = RandomForestClassifier(n_estimators=30, random_state=0)\nmodelo.fit(X_train, y_train)",
    ])
    return root


def headerless_tsv_repo(base: Path) -> Path:
    """A headerless TSV read with ``read_table(path, header=None, names=[...])``; the target is derived.

    Facts: data ``sms.tsv``; READ_OPTIONS {sep: '\\t', header: None, names: ['label', 'message']};
    target `y_num` derived from `label` (target_source `label`); the model is a Pipeline on the text.
    """
    root = base / "sms"
    root.mkdir(parents=True)
    rng = random.Random(2)
    spam_words = ["win", "free", "prize", "cash", "claim", "urgent"]
    ham_words = ["lunch", "meeting", "tomorrow", "thanks", "home", "call"]
    lines = []
    for _ in range(300):
        spam = rng.random() < 0.35
        words = rng.sample(spam_words if spam else ham_words, 3) + rng.sample(spam_words + ham_words, 1)
        lines.append(f"{'spam' if spam else 'ham'}\t{' '.join(words)}\n")
    (root / "sms.tsv").write_text("".join(lines), encoding="utf-8")
    write_notebook(root / "spam.ipynb", [
        "import pandas as pd\nfrom sklearn.pipeline import make_pipeline\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.feature_extraction.text import CountVectorizer\nfrom sklearn.naive_bayes import MultinomialNB",
        "df = pd.read_table('sms.tsv', header=None, names=['label', 'message'])\n"
        "df['y_num'] = df.label.map({'ham': 0, 'spam': 1})",
        "X = df[['message']]\ny = df.y_num",
        "pipe = make_pipeline(make_column_transformer((CountVectorizer(), 'message')), MultinomialNB())\n"
        "pipe.fit(X, y)",
    ])
    return root


def latin1_blank_cells_repo(base: Path) -> Path:
    """A latin-1 CSV (read with encoding='latin-1') whose `total` column has blank cells (" "),
    converted with ``pd.to_numeric(..., errors='coerce')`` in the notebook (the Telco pattern).

    Facts: READ_OPTIONS {encoding: 'latin-1'}; the contract says `total` is a string column (that is
    what the reader gives); `região` keeps its accents; training and the tests read it the same way.
    """
    root = base / "telco"
    root.mkdir(parents=True)
    rng = random.Random(3)
    lines = ["cliente,região,meses,mensal,total,saiu"]
    for i in range(300):
        months = rng.randint(0, 60)
        monthly = round(rng.uniform(20, 110), 2)
        total = " " if months == 0 else f"{months * monthly:.2f}"
        left = "Sim" if (monthly > 70 and months < 20) ^ (rng.random() < 0.15) else "Não"
        lines.append(f"C{i:04d},{rng.choice(['Nordeste', 'Sudeste', 'São Paulo'])},{months},{monthly},{total},{left}")
    (root / "clientes.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    write_notebook(root / "notebooks" / "modelo.ipynb", [
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
        "df = pd.read_csv('../clientes.csv', encoding='latin-1')\n"
        "df['total'] = pd.to_numeric(df['total'], errors='coerce').fillna(0)",
        "X = df[['meses', 'mensal', 'total']]\ny = df['saiu']",
        "clf = LogisticRegression(max_iter=500)\nclf.fit(X, y)",
    ])
    return root


def excel_repo(base: Path) -> Path:
    """An .xlsx workbook read with ``read_excel(..., sheet_name='dados')`` (a first sheet of notes).

    Facts: READ_OPTIONS {format: 'excel', sheet_name: 'dados'}; openpyxl in pyproject.toml; regression.
    """
    import pandas as pd

    root = base / "concreto"
    root.mkdir(parents=True)
    rng = random.Random(4)
    rows = []
    for _ in range(200):
        cement, water, age = rng.uniform(100, 500), rng.uniform(120, 250), rng.choice([3, 7, 28, 90])
        rows.append({"cimento": round(cement, 1), "agua": round(water, 1), "idade": age,
                     "resistencia": round(0.08 * cement - 0.1 * water + 4 * age ** 0.5 + rng.gauss(0, 3), 2)})
    with pd.ExcelWriter(root / "Concreto.xlsx") as writer:
        pd.DataFrame({"nota": ["dados de laboratório", "versão 2"]}).to_excel(writer, sheet_name="notas", index=False)
        pd.DataFrame(rows).to_excel(writer, sheet_name="dados", index=False)
    write_notebook(root / "Resistência.ipynb", [
        "import pandas as pd\nfrom sklearn.ensemble import GradientBoostingRegressor",
        "df = pd.read_excel('Concreto.xlsx', sheet_name='dados')",
        "X = df.drop('resistencia', axis=1)\ny = df['resistencia']",
        "gbr = GradientBoostingRegressor(random_state=0)\ngbr.fit(X, y)",
    ])
    return root


def preamble_txt_repo(base: Path) -> Path:
    """A .txt table with a prose preamble above a space-padded header, read with ``header=15`` from
    ``own_code/`` as ``f'../data/TG_{station}.txt'`` (the ECA&D pattern); the notebook fits a regression.

    Facts: data ``data/TG_000042.txt``; READ_OPTIONS {header: 15}; columns keep pandas' names.
    """
    root = base / "temperatures"
    (root / "data").mkdir(parents=True)
    preamble = [f"LINE {i}: prose about the source, the station and the licence." for i in range(15)]
    rng = random.Random(5)
    rows = ["STAID,    DATE,   TG, Q_TG"]
    for day in range(365 * 2):
        month = (day // 30) % 12 + 1
        temp = int(100 * (0.5 - abs(month - 7) / 12) + rng.gauss(0, 20))
        rows.append(f"    42,{20200101 + day:>9},{temp:>5},    0")
    (root / "data" / "TG_000042.txt").write_text("\n".join(preamble + rows) + "\n", encoding="utf-8")
    write_notebook(root / "own_code" / "temperature.ipynb", [
        "import pandas as pd\nfrom sklearn.linear_model import LinearRegression",
        "station = '000042'\ndf = pd.read_csv(f'../data/TG_{station}.txt', header=15)",
        "df.columns = df.columns.str.strip()\ndf['month'] = (df['DATE'] // 100) % 100",
        "X = df[['month']]\ny = df['TG']\nreg = LinearRegression()\nreg.fit(X, y)",
    ])
    return root


def parquet_pathlib_repo(base: Path) -> Path:
    """Parquet data found from ``notebooks/`` with a pathlib root search (``Path.cwd()`` upwards), an
    ``os.chdir`` into the root, then a relative read: only the sandbox makes this run outside Jupyter.

    Facts: data ``data/houses.parquet``; the notebook's LightGBM model trains (not the baseline).
    """
    import pandas as pd

    root = base / "houses"
    (root / "data").mkdir(parents=True)
    rng = random.Random(6)
    rows = []
    for _ in range(400):
        area, rooms = rng.randint(30, 220), rng.randint(1, 6)
        district = rng.choice(["norte", "sul", "centro"])
        premium = {"norte": 1.0, "sul": 1.3, "centro": 2.5}[district]  # non-linear: trees beat the linear baseline
        rows.append({"area": area, "rooms": rooms, "district": district,
                     "price": 1500 * area * premium * (1.4 if 60 < area < 120 else 1.0) + 8000 * (rooms > 3)
                     + rng.gauss(0, 10000)})
    pd.DataFrame(rows).to_parquet(root / "data" / "houses.parquet", index=False)
    write_notebook(root / "notebooks" / "price model.ipynb", [
        "import os\nfrom pathlib import Path\nimport pandas as pd\nimport lightgbm as lgb",
        "ROOT = Path.cwd()\nwhile not (ROOT / 'data').is_dir():\n    ROOT = ROOT.parent\nos.chdir(ROOT)\n"
        "DATA_DIR = Path('data')",
        "df = pd.read_parquet(DATA_DIR / 'houses.parquet')\ndf['district'] = df['district'].astype('category')",
        "X = df.drop(columns=['price'])\ny = df['price']",
        "reg = lgb.LGBMRegressor(n_estimators=60, verbose=-1, random_state=0)\nreg.fit(X, y)",
        "df.to_parquet(DATA_DIR / 'houses.parquet')  # writes over its own data: only in the sandbox",
    ])
    return root


def catboost_joblib_repo(base: Path) -> Path:
    """A CatBoost classifier (a framework with no dedicated path) that the notebook saves with
    ``joblib.dump`` to ``models/churn.joblib``, committed; data in ``data/`` read from ``notebooks/``.

    Facts: model `cb` (CatBoostClassifier, catboost); MODEL_FILE models/churn.joblib; adopt warns
    (model-framework-generic) and does not stop.
    """
    root = base / "churn-cat"
    (root / "data").mkdir(parents=True)
    rows = _customers(300, 7)
    lines = ["id,tenure,charges,plan,calls,churn"] + [
        f"{r['id']},{r['tenure']},{r['charges']},{r['plan']},{r['calls']},{r['churn']}" for r in rows]
    (root / "data" / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "notebooks" / "catboost.ipynb", [
        "import joblib\nimport pandas as pd\nfrom catboost import CatBoostClassifier",
        "df = pd.read_csv('../data/customers.csv')\nX = df[['tenure', 'charges', 'plan', 'calls']]\ny = df['churn']",
        "cb = CatBoostClassifier(iterations=60, depth=4, verbose=0, random_seed=0, cat_features=['plan'])\n"
        "cb.fit(X, y)",
        "joblib.dump(cb, '../models/churn.joblib')",
    ])
    return root


def slow_cell_repo(base: Path) -> Path:
    """A notebook whose search cell runs far longer than anyone waits (an Optuna-sized loop).

    Facts: `train --max-minutes` stops it and names notebook cell 4.
    """
    root = base / "slow"
    root.mkdir(parents=True)
    rows = _customers(200, 8)
    lines = ["tenure,charges,calls,churn"] + [f"{r['tenure']},{r['charges']},{r['calls']},{r['churn']}" for r in rows]
    (root / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "tuning.ipynb", [
        "import time\nimport pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier",
        "df = pd.read_csv('data.csv')\nX = df[['tenure', 'charges', 'calls']]\ny = df['churn']",
        "best = None",
        "for trial in range(100000):  # the search\n    time.sleep(0.01)",
        "tree = DecisionTreeClassifier(max_depth=3)\ntree.fit(X, y)",
    ], markdown_first="# Tuning")
    return root


def dated_series_repo(base: Path) -> Path:
    """A monthly series with M/D/YYYY dates and one value column; the notebook only plots it (the field's
    TimeSeries repo forecasts it with Prophet on data from the network).

    Facts: no model; the baseline trains on the date as a point in time (it is not an id column).
    """
    root = base / "passengers"
    root.mkdir(parents=True)
    lines = ["DATE,AIR"] + [f"{m % 12 + 1}/1/{1949 + m // 12},{100 + 2 * m + (m % 12) * 3}" for m in range(144)]
    (root / "data1.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "serie.ipynb", ["import pandas as pd\ndf = pd.read_csv('data1.csv')\ndf.plot()"])
    return root


def day_first_dates_repo(base: Path) -> Path:
    """Fares with the journey date written day first ("24/03/2019"), as the field's flight-fare repos have
    it; the notebook only explores the data, so the baseline is the model.

    Facts: a row gets the same prediction alone and in a batch. pandas infers a date format from the first
    value of each call, so "05/12/2019" read alone is May 12 and in a batch led by "24/03/2019" December 5,
    unless the format is decided once, on the training data.
    """
    import random

    rng = random.Random(7)
    root = base / "fares"
    root.mkdir(parents=True)
    lines = ["Airline,Date_of_Journey,Price"]
    for _ in range(300):
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        airline = rng.choice(["IndiGo", "Air India", "SpiceJet"])
        price = 3000 + 400 * month + 15 * day + (900 if airline == "Air India" else 0) + rng.randint(0, 200)
        lines.append(f"{airline},{day:02d}/{month:02d}/2019,{price}")
    (root / "fares.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "fares.ipynb", ["import pandas as pd\ndf = pd.read_csv('fares.csv')\ndf.describe()",
                                          "df.groupby('Airline').Price.mean()"])
    return root


def rescaled_target_repo(base: Path) -> Path:
    """The notebook drops rows and resets the index, then predicts a rescaled target (`Price` / 77.9, as the
    field's airline notebook does): the baseline cannot use the notebook's rows, and predicts the raw Price.

    Facts: TARGET `price_usd`, TARGET_SOURCE `Price`; the two candidates' metrics do not compare.
    """
    root = base / "fares"
    root.mkdir(parents=True)
    rng = random.Random(9)
    lines = ["duration,stops,Price"]
    for _ in range(300):
        duration, stops = rng.randint(60, 900), rng.randint(0, 3)
        lines.append(f"{duration},{stops},{int(2000 + 9 * duration + 1500 * stops + rng.gauss(0, 800))}")
    (root / "fares.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "fares.ipynb", [
        "import pandas as pd\nfrom sklearn.ensemble import RandomForestRegressor",
        "df = pd.read_csv('fares.csv')\ndf = df[df.stops < 3].reset_index(drop=True)\n"
        "df['price_usd'] = df['Price'] / 77.9",
        "X = df[['duration', 'stops']]\ny = df['price_usd']\nrf = RandomForestRegressor(n_estimators=30, random_state=0)\n"
        "rf.fit(X, y)",
    ])
    return root


def failing_plot_repo(base: Path) -> Path:
    """A plot cell that fails on current libraries between the data and the model cells.

    Facts: `train` stops at notebook cell 3; `train --keep-going` skips it, says so, and trains the model.
    """
    root = base / "plots"
    root.mkdir(parents=True)
    rows = _customers(200, 10)
    lines = ["tenure,charges,churn"] + [f"{r['tenure']},{r['charges']},{r['churn']}" for r in rows]
    (root / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_notebook(root / "model.ipynb", [
        "import pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier\ndf = pd.read_csv('data.csv')",
        "X = df[['tenure', 'charges']]\ny = df['churn']",
        "df.plot(kind='no-such-kind')",
        "forest = RandomForestClassifier(n_estimators=20, random_state=0)\nforest.fit(X, y)",
    ])
    return root
