"""Update: `shipyard update --yes` against `copier update` on the same project and template change.

The template is a copy of the built-in one as a local git repo, tagged v1, then v2 with a change to
the Makefile and the Dockerfile. The project is examples/churn adopted at v1 (with --template), then
a user edit elsewhere in the Makefile, committed. Each run takes a fresh `git clone` of that project
(outside the timing) for each side, alternating which goes first; both update it to v2 with the
recorded answers. Before timing, the results of the two are compared file by file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from common import ROOT, BenchError, base_env, example_repo, git, median, ratio, shipyard_cmd, tool, wall
from common import run as run_cmd

TARGET = 1.1  # issue 7: `shipyard update` at most 1.1x `copier update`


def _template(dest: Path) -> Path:
    shutil.copytree(ROOT / "templates" / "production", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "v1")
    git(dest, "tag", "v1")
    for rel, old, new in (("template/Makefile.jinja", "PORT ?= 8000", "PORT ?= 8080"),
                          ("template/Dockerfile.jinja", "EXPOSE 8000", "EXPOSE 8000 8001")):
        path = dest / rel
        text = path.read_text(encoding="utf-8")
        if old not in text:
            raise BenchError(f"{rel} no longer has {old!r}: adjust the benchmark's template change")
        path.write_text(text.replace(old, new), encoding="utf-8")
    git(dest, "commit", "-q", "-am", "v2")
    git(dest, "tag", "v2")
    return dest


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def run(runs: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-update-") as tmp_text:
        tmp = Path(tmp_text)
        env = base_env(SHIPYARD_CACHE_DIR=str(tmp / "cache"))
        shipyard, how = shipyard_cmd()
        copier = tool("copier")
        template = _template(tmp / "template")
        project = example_repo(tmp / "project" / "churn")
        run_cmd([*shipyard, "adopt", str(project), "--yes", "--template", f"{template}@v1"], env=env)
        makefile = project / "Makefile"
        makefile.write_text(makefile.read_text(encoding="utf-8") + "\nmine:  ## a user's target\n\t@true\n",
                            encoding="utf-8")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", "adopt, and a target of mine")

        def clone(dest: Path) -> Path:
            subprocess.run(["git", "clone", "-q", str(project), str(dest)], check=True, capture_output=True)
            subprocess.run(["git", "-C", str(project), "push", "-q", str(dest), "refs/shipyard/*:refs/shipyard/*"],
                           check=True, capture_output=True)  # the base travels with the clone, as documented
            return dest

        commands = {
            "shipyard update": lambda d: [*shipyard, "update", str(d), "--yes", "--to", "v2"],
            "copier update": lambda d: [copier, "update", "--defaults", "--trust", "--quiet", "--skip-answered",
                                        "--vcs-ref", "v2", str(d)],
        }
        # Same result first: both take v2 and keep the user's target.
        results = {}
        for side, command in commands.items():
            dest = clone(tmp / "check" / side.replace(" ", "-"))
            subprocess.run(command(dest), env=env, capture_output=True, check=False)
            results[side] = _files(dest)
        differ = sorted(p for p in set(results["shipyard update"]) | set(results["copier update"])
                        if results["shipyard update"].get(p) != results["copier update"].get(p))
        if "PORT ?= 8080" not in results["shipyard update"].get("Makefile", b"").decode():
            raise BenchError("shipyard update did not take the template change")

        times: dict[str, list[float]] = {side: [] for side in commands}
        for i in range(runs):
            order = list(commands) if i % 2 == 0 else list(reversed(commands))
            for side in order:
                dest = clone(tmp / f"run{i}" / side.replace(" ", "-"))
                times[side].append(wall(commands[side](dest), env=env))
        med = {side: median(t) for side, t in times.items()}
        update_ratio = ratio(med["shipyard update"], med["copier update"])
        return {"runs": runs, "shipyard_invocation": how, "median_s": med,
                "min_s": {side: min(t) for side, t in times.items()}, "all_s": times,
                "files_that_differ": differ, "ratio": update_ratio, "target": TARGET,
                "met": update_ratio <= TARGET}
