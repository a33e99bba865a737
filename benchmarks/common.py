"""Helpers shared by the benchmarks: tools, environments, fixture repos, timing and statistics."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "churn"
BIN = Path(sys.executable).parent  # the venv the benchmarks run in (make bench: .venv)
GIT_ENV = {"GIT_AUTHOR_NAME": "Ana Lima", "GIT_AUTHOR_EMAIL": "ana@example.org",
           "GIT_COMMITTER_NAME": "Ana Lima", "GIT_COMMITTER_EMAIL": "ana@example.org"}


class BenchError(RuntimeError):
    """A benchmark could not run (a command failed, a server did not start)."""


def tool(name: str) -> str:
    """A console script of the benchmark's venv, else one on PATH."""
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"`{name}` is not installed (run `make install`)")
    return found


def base_env(**extra: str) -> dict[str, str]:
    """The environment of every benchmarked command: no telemetry, the venv first on PATH, no server URI."""
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT / "generator")}  # this tree's shipyard, installed or not
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def shipyard_cmd() -> tuple[list[str], str]:
    """How to run Shipyard: its console script when installed (as copier is run), else `python -m`."""
    script = BIN / "shipyard"
    if script.exists():
        return [str(script)], "console script (.venv/bin/shipyard)"
    return [sys.executable, "-m", "shipyard"], "python -m shipyard (not installed; PYTHONPATH=generator)"


def shipyard_version() -> str:
    text = (ROOT / "generator" / "shipyard" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return found.group(1) if found else "?"


def run(cmd: Sequence[str], *, env: dict[str, str], cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} ... failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def wall(cmd: Sequence[str], *, env: dict[str, str], cwd: Path | None = None, timeout: float = 120) -> float:
    """Wall time of one subprocess, output discarded; raises when it fails."""
    start = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} ... failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace')[-3000:]}")
    return elapsed


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=root, env={**os.environ, **GIT_ENV},
                   check=True, capture_output=True)


def example_repo(dest: Path) -> Path:
    """A fresh copy of examples/churn as a committed git repo (as a data scientist's repo is)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", GIT_ENV["GIT_AUTHOR_EMAIL"])
    git(dest, "config", "user.name", GIT_ENV["GIT_AUTHOR_NAME"])
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "notebooks")
    return dest


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def interleaved(cases: dict[str, Sequence[str]], runs: int, *, env: dict[str, str],
                cwd: Path | None = None) -> dict[str, list[float]]:
    """Time each command `runs` times, round-robin, the order rotated every round (no side always first)."""
    names = list(cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(wall(cases[name], env=env, cwd=cwd))
    return times
