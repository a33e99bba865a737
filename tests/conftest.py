"""Shared fixtures: an isolated Shipyard cache, git repos made from folders, running the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "churn"
GIT_ENV = {"GIT_AUTHOR_NAME": "Ana Lima", "GIT_AUTHOR_EMAIL": "ana@example.org",
           "GIT_COMMITTER_NAME": "Ana Lima", "GIT_COMMITTER_EMAIL": "ana@example.org"}


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the materialised built-in template out of the user's ~/.cache."""
    cache = tmp_path_factory.mktemp("shipyard-cache")
    old = os.environ.get("SHIPYARD_CACHE_DIR")
    os.environ["SHIPYARD_CACHE_DIR"] = str(cache)
    os.environ["SHIPYARD_CONFIG"] = str(cache / "no-user-config.toml")  # the user's own config stays out
    for key, value in GIT_ENV.items():  # commits made by the CLI under test need no global git identity
        os.environ.setdefault(key, value)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # Pins are checked against a package index only by the tests of that check (they unset this).
    os.environ.setdefault("SHIPYARD_OFFLINE", "1")
    yield
    if old is None:
        os.environ.pop("SHIPYARD_CACHE_DIR", None)
    else:
        os.environ["SHIPYARD_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _config_per_test() -> Iterator[None]:
    """A test that trusts template sources (:func:`trust_sources`) does so for itself only."""
    saved = os.environ.get("SHIPYARD_CONFIG")
    yield
    if saved is not None:
        os.environ["SHIPYARD_CONFIG"] = saved


def trust_sources(*sources: Path) -> Path:
    """Trust these template sources for the rest of the test, as a platform team's config does (cookiecutter
    templates, which render without a sandbox, need it)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="shipyard-config-"))
    config = folder / "config.toml"
    quoted = ", ".join(json.dumps(str(Path(s).resolve()) + "/") for s in sources)
    config.write_text(f"trusted = [{quoted}]\n", encoding="utf-8")
    os.environ["SHIPYARD_CONFIG"] = str(config)
    return config


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=root, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout


def make_repo(root: Path, *, user_email: str = "ana@example.org") -> Path:
    """Turn a folder into a git repo with everything committed (as a data scientist's repo is)."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", user_email)
    git(root, "config", "user.name", "Ana Lima")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "notebooks")
    return root


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest)
    return make_repo(dest)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below root except .git, as bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def shipyard(*args: str | Path, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    done = subprocess.run([sys.executable, "-m", "shipyard", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "generator")}, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"shipyard {args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def adopt_json(repo: Path, *extra: str) -> dict:
    done = shipyard("adopt", repo, "--yes", "--json", *extra, check=True)
    return json.loads(done.stdout)
