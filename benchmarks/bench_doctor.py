"""`shipyard doctor` on synthetic repositories of 10 to 5,000 notebooks (5 files per notebook: a 2,000-notebook
repo has 10,000 files): seconds, notebooks per second, and a least-squares line through the times to show
the growth is linear. No other tool audits a repository against the ML Test Score, so the numbers stand alone.

Each notebook is ~30 cells of ordinary pandas/scikit-learn code with outputs (about 12 KB); every tenth one
runs a grid search. The other files are CSVs, Python modules, Markdown and images, spread over folders.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from common import BenchError, base_env, median, shipyard_cmd, wall
from common import run as run_cmd

SIZES = (10, 100, 1000, 2000, 5000)
FILES_PER_NOTEBOOK = 5


def _notebook(i: int, rng: random.Random) -> str:
    cells = []
    for c in range(30):
        if c == 0:
            src = ["import pandas as pd\n", "import numpy as np\n", "from sklearn.ensemble import "
                   "RandomForestClassifier\n"]
        elif c == 5 and i % 10 == 0:
            src = ["from sklearn.model_selection import GridSearchCV\n",
                   "search = GridSearchCV(RandomForestClassifier(), {'n_estimators': [50, 100]})\n"]
        else:
            src = [f"df_{c} = df.groupby('k{rng.randint(0, 9)}').agg({{'v': 'mean'}})\n", f"df_{c}.head()\n"]
        cells.append({"cell_type": "code", "execution_count": c, "metadata": {}, "source": src,
                      "outputs": [{"output_type": "stream", "name": "stdout",
                                   "text": [f"{rng.random():.6f} " * 40 + "\n"] * 3}]})
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5})


def make_repo(root: Path, notebooks: int) -> None:
    rng = random.Random(notebooks)
    others = notebooks * (FILES_PER_NOTEBOOK - 1)
    for i in range(notebooks):
        folder = root / "notebooks" / f"team{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"analysis_{i:05d}.ipynb").write_text(_notebook(i, rng), encoding="utf-8")
    kinds = ((".csv", "a,b,c\n1,2,3\n4,5,6\n"), (".py", "import pandas as pd\n\n\ndef f(x):\n    return x\n"),
             (".md", "# Notes\n\nSome text.\n"), (".png", "\x89PNG fake"))
    for j in range(others):
        ext, text = kinds[j % len(kinds)]
        folder = root / ("data" if ext == ".csv" else "lib" if ext == ".py" else "docs") / f"d{j % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{j:06d}{ext}").write_text(text, encoding="utf-8")
    (root / "README.md").write_text("# A big research repo\n", encoding="utf-8")


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x, and R²."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def run(runs: int = 3, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    shipyard, how = shipyard_cmd()
    env = base_env()
    rows = []
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-doctor-") as tmp_text:
        for n in sizes:
            root = Path(tmp_text) / f"repo-{n}"
            make_repo(root, n)
            command = [*shipyard, "doctor", str(root), "--format", "json", "--no-plugins"]
            report = json.loads(run_cmd(command, env=env, timeout=600))
            if report["notebooks"] != n or report["files"] != n * FILES_PER_NOTEBOOK + 1:
                raise BenchError(f"doctor saw {report['notebooks']} notebooks / {report['files']} files, not {n}")
            times = [wall(command, env=env, timeout=600) for _ in range(runs)]
            med = median(times)
            rows.append({"notebooks": n, "files": report["files"], "median_s": med, "min_s": min(times),
                         "audit_s": report.get("seconds"), "notebooks_per_s": n / med})
    a, b, r2 = _fit([r["notebooks"] for r in rows], [r["median_s"] for r in rows])
    return {"runs": runs, "shipyard_invocation": how, "sizes": rows, "fit": {
        "intercept_s": a, "per_notebook_ms": b * 1000, "r2": r2}}


if __name__ == "__main__":
    print(json.dumps(run(runs=1, sizes=(10, 100, 1000)), indent=2))
