"""The built-in template is updatable across Shipyard releases, tested from installed wheels: a fresh
virtualenv gets this release's wheel, adopts the bundled example, then gets the next release's wheel
(this source tree with a changed template and a higher version) and updates the project to it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, GIT_ENV, ROOT, git, make_repo

pytestmark = pytest.mark.e2e


def build_wheel(source: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = out.glob("shipyard-*.whl")
    return wheel


def tree(dest: Path, *, bump: bool) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("generator", "templates"):
        shutil.copytree(ROOT / part, dest / part, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    if bump:
        init = dest / "generator" / "shipyard" / "__init__.py"
        init.write_text(init.read_text(encoding="utf-8").replace('__version__ = "', '__version__ = "99.'),
                        encoding="utf-8")
        makefile = dest / "templates" / "production" / "template" / "Makefile.jinja"
        text = makefile.read_text(encoding="utf-8")
        assert "PORT ?= 8000" in text
        makefile.write_text(text.replace("PORT ?= 8000", "PORT ?= 8080"), encoding="utf-8")
    return dest


def test_a_project_adopted_with_one_release_is_updated_by_the_next_from_wheels(tmp_path):
    this = build_wheel(tree(tmp_path / "src-this", bump=False), tmp_path / "dist-this")
    nxt = build_wheel(tree(tmp_path / "src-next", bump=True), tmp_path / "dist-next")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    installed = subprocess.run([*pip, str(this)], capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # two machines: the one that adopts and a teammate's, each with its own home and default cache
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SHIPYARD_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(GIT_ENV, HOME=str(tmp_path / "home-a"))
    teammate_env = {**env, "HOME": str(tmp_path / "home-b")}
    shipyard = str(venv / "bin" / "shipyard")

    repo = tmp_path / "churn"
    shutil.copytree(EXAMPLE, repo)
    make_repo(repo)
    adopted = subprocess.run([shipyard, "adopt", str(repo), "--yes", "--json", "--owner", "ana@example.org"],
                             capture_output=True, text=True, env=env, cwd=tmp_path)
    assert adopted.returncode == 0, adopted.stderr
    before = json.loads(adopted.stdout)["template_version"]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "adopt")
    with open(repo / "Makefile", "a", encoding="utf-8") as out:
        out.write("\nmine:  ## a target of my own\n\t@true\n")
    git(repo, "commit", "-q", "-am", "my target")
    answers = (repo / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "_src_path: ~/.cache/shipyard/templates/production" in answers  # the same on every machine
    clone = tmp_path / "teammate" / "churn"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(repo, "push", "-q", str(clone), "refs/shipyard/*:refs/shipyard/*")  # as docs/updating.md says

    upgraded = subprocess.run([*pip, "--no-deps", "--force-reinstall", str(nxt)], capture_output=True, text=True)
    assert upgraded.returncode == 0, upgraded.stderr[-3000:]
    version = subprocess.run([shipyard, "--version"], capture_output=True, text=True, env=env).stdout
    assert version.startswith("shipyard 99.")
    # the teammate's machine never ran the old release: the base comes from the ref
    for project, machine in ((clone, teammate_env), (repo, env)):
        done = subprocess.run([shipyard, "update", str(project), "--yes", "--json"], capture_output=True,
                              text=True, env=machine, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["template"] == "production" and report["from_version"] == before
        assert report["to_version"].startswith("v99.") and report["base"] == "recorded"
        makefile = (project / "Makefile").read_text(encoding="utf-8")
        assert "PORT ?= 8080" in makefile and "mine:  ## a target of my own" in makefile
        assert f"_commit: {report['to_version']}" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
