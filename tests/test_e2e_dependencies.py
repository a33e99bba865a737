"""End to end, for real: a repo pinned to 2014 versions, adopted against the real package index, gives a
project that ``pip install -e .`` installs in a fresh virtualenv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import adopt_json
from test_dependencies import pins_2014_repo, project_dependencies

pytestmark = pytest.mark.e2e


def test_a_2014_repo_adopted_against_the_real_index_installs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHIPYARD_INDEX_URL", "SHIPYARD_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path / "cache"))
    root = pins_2014_repo(tmp_path)
    report = adopt_json(root)
    assert "pins-checked-offline" not in {w["code"] for w in report["warnings"]}, "the index was not reached"
    assert project_dependencies(root) == ["scipy", "seaborn"]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(root)], capture_output=True,
                          text=True, env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    check = subprocess.run([str(python), "-c", f"import seaborn, scipy, {report['package']}"], capture_output=True,
                           text=True, env=env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr[-2000:]
