"""The command line: fast start, version, help with examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, shipyard
from shipyard import __version__

HEAVY = ["copier", "mlflow", "pandas", "sklearn", "jupytext", "nbformat", "yaml", "numpy"]


def test_version() -> None:
    done = shipyard("--version", check=True)
    assert done.stdout.strip() == f"shipyard {__version__}"


def test_help_lists_adopt_with_examples() -> None:
    done = shipyard("--help", check=True)
    assert "adopt" in done.stdout and "shipyard adopt . --dry-run --diff" in done.stdout
    sub = shipyard("adopt", "--help", check=True)
    for flag in ["--dry-run", "--diff", "--yes", "--json", "--notebook", "--data", "--target", "--name",
                 "--owner", "--template", "--allow-dirty", "--force"]:
        assert flag in sub.stdout, flag


def test_help_and_version_import_no_heavy_library() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['shipyard', sys.argv[1]]\n"
        "try:\n    runpy.run_module('shipyard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    for arg in ("--help", "--version"):
        done = subprocess.run([sys.executable, "-c", probe, arg], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "generator")})
        assert "HEAVY=\n" in done.stderr or done.stderr.rstrip().endswith("HEAVY="), done.stderr


def test_errors_are_one_line_with_a_hint_and_json_on_request(tmp_path: Path) -> None:
    done = shipyard("adopt", tmp_path)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a git repository" in lines[0] and "git init" in lines[0]
    done = shipyard("adopt", tmp_path, "--json")
    assert json.loads(done.stdout)["type"] == "NotAGitRepoError"
