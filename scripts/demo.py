"""`make demo`: adopt the bundled example, then train, register, serve and predict - for real.

Steps (each printed as it runs):
  1. copy examples/churn to demo/churn and make it a git repo (as a data scientist's repo would be)
  2. shipyard adopt demo/churn --yes
  3. install the generated project into its own virtualenv (demo/churn/.venv)
  4. train (notebook model + baseline, logged to the embedded MLflow: demo/churn/mlflow.db)
  5. promote the challenger to champion
  6. serve on 127.0.0.1, POST /predict, show the Prometheus metrics, stop the server
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "churn"
SHIPYARD = Path(sys.executable).parent / "shipyard"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    print("$ " + " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: object | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def main() -> int:
    step("1. a fresh copy of the bundled notebook repo")
    shutil.rmtree(DEMO.parent, ignore_errors=True)
    shutil.copytree(ROOT / "examples" / "churn", DEMO)
    git = ["git", "-c", "user.name=Demo", "-c", "user.email=demo@example.org"]
    run(*git, "init", "-q", cwd=DEMO)
    run(*git, "add", "-A", cwd=DEMO)
    run(*git, "commit", "-q", "-m", "notebooks", cwd=DEMO)

    step("2. shipyard adopt")
    run(SHIPYARD, "adopt", DEMO, "--yes", "--owner", "ml-team@example.org")
    answers = (DEMO / ".copier-answers.yml").read_text(encoding="utf-8")
    package = next(line.split(":", 1)[1].strip() for line in answers.splitlines()
                   if line.startswith("package_name:"))

    step("3. install the generated project in its own virtualenv")
    venv = DEMO / ".venv"
    run(sys.executable, "-m", "venv", venv)
    py = venv / "bin" / "python"
    run(py, "-m", "pip", "install", "--quiet", "-e", DEMO)

    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    step("4. train (the notebook's model and a baseline) into the embedded MLflow registry")
    run(py, "-m", package, "train", cwd=DEMO, env=env)
    step("5. promote the challenger")
    run(py, "-m", package, "promote", cwd=DEMO, env=env)

    step("6. serve, predict, metrics")
    port = free_port()
    server = subprocess.Popen([str(py), "-m", package, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=DEMO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if http("GET", f"{base}/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the service did not become ready", file=sys.stderr)
                return 1
            time.sleep(0.3)
        records = [
            {"tenure_months": 3, "monthly_charges": 95.5, "total_charges": 290.1, "contract_type": "month-to-month",
             "payment_method": "electronic check", "support_calls": 4, "has_partner": "No"},
            {"tenure_months": 60, "monthly_charges": 45.0, "total_charges": 2710.0, "contract_type": "two-year",
             "payment_method": "credit card", "support_calls": 0, "has_partner": "Yes"},
        ]
        status, text = http("POST", f"{base}/predict", {"records": records})
        print(f"POST /predict -> {status} {text}")
        if status != 200:
            return 1
        bad = [{**records[0], "contract_type": "lifetime", "monthly_charges": "lots"}]
        status, text = http("POST", f"{base}/predict", {"records": bad})
        print(f"POST /predict (invalid) -> {status} {text}")
        metrics = http("GET", f"{base}/metrics")[1]
        print("GET /metrics (totals):")
        print("\n".join(line for line in metrics.splitlines()
                        if line.startswith(package) and "_created" not in line and "_bucket" not in line))
    finally:
        server.terminate()
        server.wait(timeout=20)
    step("7. the embedded MLflow registry")
    probe = ("import mlflow; from mlflow import MlflowClient; mlflow.set_tracking_uri('sqlite:///mlflow.db'); "
             f"m = MlflowClient().get_registered_model({package!r}); "
             "print(f'{m.name}: aliases', dict(sorted(m.aliases.items())))")
    subprocess.run([str(py), "-c", probe], cwd=DEMO, env=env, check=True)
    print(f"\nDone. The adopted project is in {DEMO.relative_to(ROOT)}; read its ADOPTION.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
