"""Notebook repos big enough to train on, for the end-to-end tests (data generated, a few KB each)."""

from __future__ import annotations

import json
import random
from pathlib import Path


def _notebook(cells: list[str]) -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": src} for src in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 4,
    }


def lightgbm_repo(base: Path) -> Path:
    """House prices: a LightGBM regressor fitted on a DataFrame read through a Windows path.

    Facts: notebook ``Price model.ipynb``; data ``data/houses.csv`` (read as ``C:\\\\Users\\\\joao\\\\houses.csv``);
    target ``price``; model ``reg`` (LGBMRegressor, lightgbm, regression). The last cell writes over the
    data file, dumps ``model.pkl`` (committed) and writes ``../leaked.txt``: training must change none of it.
    """
    root = base / "house-prices"
    (root / "data").mkdir(parents=True)
    rng = random.Random(3)
    lines = ["area,rooms,age,district,price"]
    for _ in range(600):
        area = rng.randint(35, 220)
        rooms = max(1, area // 35 + rng.randint(-1, 1))
        age = rng.randint(0, 80)
        district = rng.choice(["centro", "norte", "sul", "leste"])
        price = 1500 * area + 9000 * rooms - 700 * age + {"centro": 90000, "norte": 20000, "sul": 0,
                                                          "leste": 35000}[district] + rng.gauss(0, 15000)
        lines.append(f"{area},{rooms},{age},{district},{price:.0f}")
    (root / "data/houses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    nb = _notebook([
        "import pandas as pd\nimport lightgbm as lgb\nfrom sklearn.model_selection import train_test_split",
        "df = pd.read_csv(r'C:\\Users\\joao\\houses.csv')\ndf['district'] = df['district'].astype('category')",
        "X = df.drop(columns=['price'])\ny = df['price']\nX_train, X_test, y_train, y_test = train_test_split(X, y)",
        "reg = lgb.LGBMRegressor(n_estimators=80, learning_rate=0.1, verbose=-1)\nreg.fit(X_train, y_train)",
        "print(reg.score(X_test, y_test))",
        # Notebooks write things: over their own data, a model file, even outside the repo.
        "import joblib\ndf.to_csv(r'C:\\Users\\joao\\houses.csv', index=False)\njoblib.dump(reg, 'model.pkl')\n"
        "open('../leaked.txt', 'w').write('x')",
    ])
    (root / "Price model.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    (root / "requirements.txt").write_text("pandas\nlightgbm\nscikit-learn\n", encoding="utf-8")
    (root / "model.pkl").write_bytes(b"the model of last spring, committed by hand")
    return root


def exploration_repo(base: Path) -> Path:
    """Exploration only: plots and group-bys on a loan table; no model is trained.

    Facts: no model (``no-model``); data ``loans.csv``; target ``defaulted`` chosen by column name;
    ``train --baseline`` must carry the project.
    """
    root = base / "loans"
    root.mkdir(parents=True)
    rng = random.Random(5)
    lines = ["income,loan_amount,term_months,purpose,defaulted"]
    for _ in range(500):
        income = rng.randint(1500, 12000)
        amount = rng.randint(1000, 40000)
        term = rng.choice([12, 24, 36, 60])
        purpose = rng.choice(["car", "home", "education", "business"])
        risk = amount / (income * term / 12) + (purpose == "business") * 0.3 + rng.random() * 0.4
        lines.append(f"{income},{amount},{term},{purpose},{int(risk > 0.75)}")
    (root / "loans.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    nb = _notebook([
        "%matplotlib inline\nimport pandas as pd\nimport matplotlib.pyplot as plt",
        "loans = pd.read_csv('/Users/maria/Downloads/loans.csv')\nloans.describe()",
        "loans.groupby('purpose')['defaulted'].mean().plot(kind='bar')",
    ])
    (root / "Exploração.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return root
