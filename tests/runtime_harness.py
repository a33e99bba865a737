"""Helpers for the end-to-end tests of the production template's runtime (tests/test_template_runtime.py).

Renders the template with copier into a temporary directory, writes a small synthetic data file, a
data contract and a notebook module, and runs the generated project's CLI in subprocesses with the
same interpreter (PYTHONPATH=<project>/src, the default sqlite tracking store in the project root).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = REPO / "templates" / "production"
PYTHON = sys.executable
CLI_TIMEOUT = 120


# --------------------------------------------------------------------------- data
def churn_data(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """Binary target `churned`: a linear part (support calls, plan) and an interaction a tree finds."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n)
    charges = np.round(rng.uniform(20, 120, n), 2)
    calls = rng.poisson(2.0, n)
    plan = rng.choice(["basic", "standard", "premium"], n, p=[0.5, 0.3, 0.2])
    logit = (
        -1.0
        + 1.0 * (calls - 2)
        + 1.2 * (plan == "basic")
        + 2.5 * (((tenure < 24) & (charges > 70)) | ((tenure >= 48) & (charges < 40)))
        - 1.5 * ((tenure >= 24) & (tenure < 48))
    )
    churned = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "tenure": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "plan": plan,
            "churned": churned,
        }
    )


def shifted(df: pd.DataFrame) -> pd.DataFrame:
    """A copy that drifted: higher charges, longer tenure, everyone on a plan never seen in training."""
    out = df.copy()
    out["monthly_charges"] = out["monthly_charges"] + 60
    out["tenure"] = np.minimum(out["tenure"] + 30, 72)
    out["plan"] = "enterprise"
    return out


def house_data(n: int = 500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sqft = rng.uniform(400, 3000, n).round(0)
    rooms = rng.integers(1, 7, n)
    age = rng.integers(0, 80, n)
    city = rng.choice(["north", "south", "east"], n)
    price = 50 * sqft + 8000 * rooms - 300 * age + 20000 * (city == "north") + 30 * np.maximum(sqft - 1800, 0) ** 1.2
    price = price + rng.normal(0, 15000, n)
    return pd.DataFrame({"house_id": np.arange(n), "sqft": sqft, "rooms": rooms, "age": age, "city": city,
                         "price": price.round(0)})


# What `shipyard adopt` puts at the top of every notebook module: project files are read through
# _data(), because `train` runs the module in a scratch working directory.
DATA_HELPER = (
    "from pathlib import Path as _Path\n"
    "_ROOT = _Path(__file__).resolve().parents[2]\n\n\n"
    "def _data(path):\n"
    "    return str(_ROOT / path)\n\n\n"
)

CLASSIFIER_MODULE = textwrap.dedent(
    """\
    # %% [markdown]
    # Churn model (converted from notebooks/train.ipynb)

    # %%
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    # %%
    df = pd.read_csv(_data("data/customers.csv"))
    X = df.drop(columns=["churned", "customer_id"])
    y = df["churned"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

    # %%
    model = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                                   remainder="passthrough")),
        ("rf", RandomForestClassifier(n_estimators=40, min_samples_leaf=3, random_state=0)),
    ])
    model.fit(X_train, y_train)
    print("test accuracy", model.score(X_test, y_test))
    """
)

BROKEN_MODULE = textwrap.dedent(
    """\
    # %%
    import pandas as pd

    # %%
    df = pd.read_csv(_data("data/customers.csv"))

    # %%
    df["ratio"] = df["tenure"] / df["no_such_column"]
    model = None
    """
)

LGBM_MODULE = textwrap.dedent(
    """\
    # %%
    import pandas as pd
    from lightgbm import LGBMRegressor

    # %%
    houses = pd.read_csv(_data("data/houses.csv"))
    features = houses[["sqft", "rooms", "age"]]
    target = houses["price"]

    # %%
    reg = LGBMRegressor(n_estimators=80, learning_rate=0.1, num_leaves=15, verbose=-1, random_state=0)
    reg.fit(features, target)
    """
)


STATSMODELS_OLS_MODULE = textwrap.dedent(
    """\
    # %%
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf

    # %%
    houses = pd.read_csv(_data("data/houses.csv"))

    # %%
    res = smf.ols("price ~ sqft + I(np.maximum(sqft - 1800, 0) ** 1.2) + rooms + age + C(city)", data=houses).fit()
    print(res.summary())
    """
)

STATSMODELS_LOGIT_MODULE = textwrap.dedent(
    """\
    # %%
    import pandas as pd
    import statsmodels.formula.api as smf

    # %%
    customers = pd.read_csv(_data("data/customers.csv"))
    formula = (
        "churned ~ support_calls + C(plan) + I((tenure >= 24) & (tenure < 48))"
        " + I(((tenure < 24) & (monthly_charges > 70)) | ((tenure >= 48) & (monthly_charges < 40)))"
    )

    # %%
    logit_model = smf.logit(formula, data=customers)
    result = logit_model.fit(disp=0)
    """
)


# --------------------------------------------------------------------------- project
@dataclass
class Project:
    root: Path
    package: str
    data_file: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.pop(f"{self.package.upper()}_PROJECT_ROOT", None)
        env.update(
            PYTHONPATH=str(self.root / "src"),
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = CLI_TIMEOUT, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-m", self.package, *args],
            cwd=self.root,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, "-c", code], cwd=self.root, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def aliases(self) -> dict[str, str]:
        """Registry aliases of the model, read with MlflowClient in a subprocess (same default URI)."""
        code = textwrap.dedent(
            f"""\
            import json
            from mlflow import MlflowClient
            from {self.package}.settings import Settings
            s = Settings.load()
            rm = MlflowClient(s.tracking_uri).get_registered_model(s.model_name)
            print(json.dumps({{k: str(v) for k, v in rm.aliases.items()}}))
            """
        )
        proc = self.python(code)
        assert proc.returncode == 0, proc.stderr
        import json

        return json.loads(proc.stdout.strip().splitlines()[-1])


def write_contract(root: Path, df: pd.DataFrame, *, dataset: str, data_rel: str, target: str,
                   read_options: dict | None = None) -> Path:
    """The contract `shipyard adopt` would infer from the data file, read as the project reads it."""
    from shipyard.contracts import dump_contract, infer_contract
    from shipyard.datafiles import load_table

    path = root / "contracts" / f"{dataset}.odcs.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = load_table(root / data_rel, read_options)
    contract = infer_contract(frame, dataset_name=dataset, data_path=data_rel, owner_email="ml@acme.test",
                              target_column=target, read_options=read_options)
    path.write_text(dump_contract(contract), encoding="utf-8")
    return path


def make_project(
    dst: Path,
    *,
    package: str,
    df: pd.DataFrame,
    data_rel: str,
    target: str,
    task: str = "classification",
    model_variable: str = "model",
    module_source: str | None = None,
    framework: str = "sklearn",
    dependencies: list[str] | None = None,
    read_options: dict | None = None,
) -> Project:
    import copier

    dataset = Path(data_rel).stem
    answers = {
        "project_name": package.replace("_", "-"),
        "package_name": package,
        "description": "Synthetic test project",
        "owner_email": "ml@acme.test",
        "owner_name": "ML team",
        "notebook_path": "notebooks/train.ipynb" if module_source else "",
        "notebook_module": "from_notebook",
        "model_variable": model_variable,
        "model_framework": framework,
        "data_path": data_rel,
        "dataset_name": dataset,
        "target_column": target,
        "task": task,
        "dependencies": dependencies or [],
        "read_options": read_options or {"format": "csv"},
    }
    copier.run_copy(str(TEMPLATE_DIR), str(dst), data=answers, defaults=True, unsafe=False, quiet=True)
    data_file = dst / data_rel
    data_file.parent.mkdir(parents=True, exist_ok=True)
    options = read_options or {}
    df.to_csv(data_file, index=False, sep=options.get("sep", ","), decimal=options.get("decimal", "."))
    write_contract(dst, df, dataset=dataset, data_rel=data_rel, target=target, read_options=read_options)
    if module_source is not None:
        (dst / "src" / package / "from_notebook.py").write_text(DATA_HELPER + module_source, encoding="utf-8")
    return Project(dst, package, data_file)


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `serve` process: its base URL, port, process and output file."""

    url: str
    port: int
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def started(project: Project, *args: str, deadline: float = 60.0, log_name: str = "serve.log",
            **env: str) -> Iterator[Server]:
    """Run `python -m <pkg> serve ARGS` on a free port with `env` added; yield it once /ready answers 200.

    Stopped at the end with SIGTERM (SIGKILL after 10 s) unless the test stopped it already."""
    import httpx

    port = free_port()
    log_path = project.root / log_name
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [PYTHON, "-m", project.package, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=project.root, env=project.env(**env), stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        end = time.monotonic() + deadline
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited with {proc.returncode}:\n{server.output()}")
            try:
                if httpx.get(f"{server.url}/ready", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > end:
                raise AssertionError(f"/ready not 200 within {deadline}s:\n{server.output()}")
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@contextlib.contextmanager
def served(project: Project, *, deadline: float = 60.0, workers: int | None = None, **env: str) -> Iterator[str]:
    """Run `python -m <pkg> serve` (`--workers N` if given) on a free port; yield the base URL once /ready is 200."""
    args = ("--workers", str(workers)) if workers is not None else ()
    with started(project, *args, deadline=deadline, **env) as server:
        yield server.url


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
