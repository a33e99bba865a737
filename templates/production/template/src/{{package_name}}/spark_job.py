"""The file `spark-submit` runs: `spark-submit [--master URL] .../<package>/spark_job.py INPUT [OUTPUT] [options]`.

spark-submit takes a Python file, not a module: this one runs `predict --engine spark` with the
arguments it is given, in the package it is installed with (the session takes spark-submit's master
and configuration). Find its path with `python -c "import <package>.spark_job as j; print(j.__file__)"`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    # run as a script, Python puts the package's own folder first on sys.path: its modules are not top-level
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    cli = importlib.import_module(f"{here.name}.__main__")
    sys.exit(cli.main(["predict", "--engine", "spark", *sys.argv[1:]]))
