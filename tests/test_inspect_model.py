"""Model fits, training notebook choice, the model, target column and task."""

from __future__ import annotations

from pathlib import Path

import inspect_fixtures as fx
from shipyard.facts import RepoFacts, Severity
from shipyard.inspect import inspect_repo
from shipyard.inspect.estimators import task_of


def findings(facts: RepoFacts, code: str) -> list:
    return [f for f in facts.findings if f.code == code]


def test_task_from_class_names() -> None:
    assert task_of("LogisticRegression") == "classification"
    assert task_of("RandomForestClassifier") == "classification"
    assert task_of("SVC") == "classification"
    assert task_of("GaussianNB") == "classification"
    assert task_of("SVR") == "regression"
    assert task_of("LinearRegression") == "regression"
    assert task_of("Lasso") == "regression"
    assert task_of("XGBRegressor") == "regression"
    assert task_of("Sequential") == "unknown"


def test_classic_last_estimator_and_target(tmp_path: Path) -> None:
    facts = inspect_repo(fx.sklearn_classic_repo(tmp_path))
    nb = "notebooks/02 - Model training.ipynb"
    fits = [(p, f.variable, f.class_name) for p, f in facts.model_fits]
    assert fits == [(nb, "logreg", "LogisticRegression"), (nb, "rf", "RandomForestClassifier")]  # no scaler
    model = facts.model
    assert (model.variable, model.class_name, model.framework, model.task) == (
        "rf",
        "RandomForestClassifier",
        "sklearn",
        "classification",
    )
    assert (model.features_variable, model.target_variable) == ("X_train", "y_train")
    assert (model.evidence.path, model.evidence.cell, model.evidence.line) == (nb, 7, 2)
    assert facts.model_choice.reason.startswith(f"last estimator fitted in {nb}, cell 7")
    assert "2 candidates" in facts.model_choice.reason
    assert facts.training_notebook.value == nb and facts.training_notebook.flag == "--notebook"
    assert facts.data_file.value == "data/churn.csv" and "read by" in facts.data_file.reason
    target = facts.target
    assert target.value == "churn" and target.flag == "--target"
    assert "found in the header of data/churn.csv" in target.reason
    assert (target.evidence.cell, target.evidence.line) == (3, 2)
    assert facts.task == "classification"
    assert findings(facts, "several-models")


def test_exploration_only_has_no_model(tmp_path: Path) -> None:
    facts = inspect_repo(fx.exploration_only_repo(tmp_path))
    assert facts.model is None and facts.model_fits == () and facts.training_notebook is None
    (no_model,) = findings(facts, "no-model")
    assert no_model.severity is Severity.WARNING and "train --baseline" in no_model.message
    assert facts.data_file.value == "iris.csv"
    assert facts.target.value == "species" and facts.target.reason.startswith("column name")


def test_boosting_native_train(tmp_path: Path) -> None:
    facts = inspect_repo(fx.boosting_repo(tmp_path))
    assert [(f.variable, f.framework) for _, f in facts.model_fits] == [
        ("xgb_clf", "xgboost"),
        ("booster", "lightgbm"),
    ]
    first = facts.model_fits[0][1]
    assert (first.class_name, first.task) == ("XGBClassifier", "classification")
    model = facts.model
    assert (model.variable, model.class_name, model.task, model.evidence.cell) == (
        "booster",
        "Booster",
        "classification",
        4,
    )
    assert facts.target.value == "default"


def test_statsmodels_formula(tmp_path: Path) -> None:
    facts = inspect_repo(fx.statsmodels_formula_repo(tmp_path))
    arrays = facts.model_fits[0][1]
    assert (arrays.variable, arrays.class_name, arrays.target_variable, arrays.features_variable) == (
        "ols_res",
        "OLS",
        "y",
        "X",
    )
    model = facts.model
    assert (model.variable, model.framework, model.class_name, model.task) == (
        "results",
        "statsmodels",
        "OLS",
        "regression",
    )
    assert facts.target.value == "price"
    assert "formula" in facts.target.reason and "found in the header of houses.csv" in facts.target.reason
    assert facts.task == "regression"


def test_torch_and_keras(tmp_path: Path) -> None:
    facts = inspect_repo(fx.deep_learning_repo(tmp_path))
    fits = {p: f for p, f in facts.model_fits}
    torch_fit = fits["torch_train.ipynb"]
    assert (torch_fit.variable, torch_fit.class_name, torch_fit.framework, torch_fit.task) == (
        "net",
        "Net",
        "torch",
        "classification",
    )
    assert (torch_fit.evidence.cell, torch_fit.evidence.line) == (4, 5)
    keras_fit = fits["keras_model.ipynb"]
    assert (keras_fit.variable, keras_fit.class_name, keras_fit.framework, keras_fit.task) == (
        "model",
        "Sequential",
        "keras",
        "regression",
    )


def test_training_notebook_choice_and_override(tmp_path: Path) -> None:
    root = fx.many_notebooks_repo(tmp_path)
    facts = inspect_repo(root)
    choice = facts.training_notebook
    assert choice.value == "notebooks/nb_9_train.ipynb"
    assert "name suggests training" in choice.reason and choice.ambiguous
    assert len(choice.candidates) == 10
    forced = inspect_repo(root, notebook="notebooks/nb_3_explore.ipynb")
    assert forced.training_notebook.value == "notebooks/nb_3_explore.ipynb"
    assert forced.training_notebook.reason == "given with --notebook"
    assert forced.model.evidence.path == "notebooks/nb_3_explore.ipynb"


def test_target_and_data_overrides(tmp_path: Path) -> None:
    root = fx.sklearn_classic_repo(tmp_path)
    facts = inspect_repo(root, target="tenure", data="data/churn.csv")
    assert (facts.target.value, facts.target.reason) == ("tenure", "given with --target")
    assert facts.data_file.reason == "given with --data"
    wrong = inspect_repo(root, target="nope")
    assert wrong.target.value == "nope"
    assert findings(wrong, "target-not-in-data")


def test_chain_regression(tmp_path: Path) -> None:
    facts = inspect_repo(fx.missing_data_and_chain_repo(tmp_path))
    assert (facts.model.variable, facts.model.class_name, facts.model.task) == (
        "model",
        "GradientBoostingRegressor",
        "regression",
    )
    assert facts.target.value == "sales"


def test_wrappers_functions_loops_and_task_from_data(tmp_path: Path) -> None:
    root = tmp_path / "wrappers"
    fx.write(root, "data.csv", "a,b,price\n" + "".join(f"{i},{i},{i * 1.5}\n" for i in range(40)))
    fx.write(
        root,
        "train.ipynb",
        fx.nb4(
            [
                "import pandas as pd\nfrom sklearn.model_selection import GridSearchCV\n"
                "from sklearn.ensemble import RandomForestRegressor\n"
                "from sklearn.pipeline import make_pipeline\n"
                "from sklearn.preprocessing import StandardScaler, OneHotEncoder\n"
                "from sklearn.svm import SVR",
                "df = pd.read_csv('data.csv')\nX = df.drop('price', axis=1)\ny = df.price",
                "grid = GridSearchCV(RandomForestRegressor(), {'n_estimators': [10]})\ngrid.fit(X, y)",
                "pipe = make_pipeline(StandardScaler(), SVR())\n"
                "pipe.fit(X, y)\nenc = OneHotEncoder()\nenc.fit(X)",
                "def objective(trial):\n    m = RandomForestRegressor()\n    m.fit(X, y)\n    return 0",
            ]
        ),
    )
    facts = inspect_repo(root)
    fits = [(f.variable, f.class_name, f.task) for _, f in facts.model_fits]
    assert fits == [
        ("grid", "GridSearchCV", "regression"),
        ("pipe", "Pipeline", "regression"),
        ("m", "RandomForestRegressor", "regression"),
    ]
    assert facts.model.variable == "pipe"  # the fit inside a function is not the notebook's model
    assert facts.target.value == "price"

    fx.write(
        root,
        "loop.ipynb",
        fx.nb4(
            [
                "import pandas as pd\ndf = pd.read_csv('data.csv')\ny = df['price']\nX = df[['a']]",
                "for name, est in models.items():\n    est.fit(X, y)",
            ]
        ),
    )
    loop = inspect_repo(root, notebook="loop.ipynb")
    assert (loop.model.variable, loop.model.class_name, loop.model.framework) == ("est", "", "unknown")
    assert loop.task == "regression"  # from the values of the target column


def test_target_named_like_one_or_else_the_last_column_with_a_warning(tmp_path: Path) -> None:
    nb4, write = fx.nb4, fx.write
    named = tmp_path / "named"
    write(named, "loans.csv", "income,amount,defaulted\n1,2,0\n3,4,1\n")
    write(named, "eda.ipynb", nb4(["import pandas as pd\nloans = pd.read_csv('loans.csv')"]))
    facts = inspect_repo(named)
    assert facts.target is not None and facts.target.value == "defaulted"
    assert "target-guessed" not in {f.code for f in facts.findings}

    unnamed = tmp_path / "unnamed"
    write(unnamed, "measures.csv", "width,height,weight\n1,2,3\n4,5,6\n")
    write(unnamed, "eda.ipynb", nb4(["import pandas as pd\nm = pd.read_csv('measures.csv')"]))
    facts = inspect_repo(unnamed)
    assert facts.target is not None and facts.target.value == "weight"
    guessed = [f for f in facts.findings if f.code == "target-guessed"]
    assert guessed and "--target" in guessed[0].message
