"""Fleet status: `shipyard fleet status --from FILE --json` over 200 generated projects; projects per second.

One project is adopted from examples/churn with a local git copy of the built-in template (tagged v1,
with a v2 on top, so every project is one version behind), a user edit committed; the other 199 are
`git clone`s of it with its base ref, one of them with an edit of its own. No other tool gives this
view, so the number stands alone: projects per second, median of the runs.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench_update import _template
from common import BenchError, base_env, example_repo, git, median, shipyard_cmd, wall
from common import run as run_cmd

PROJECTS = 200


def run(runs: int = 5, projects: int = PROJECTS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-fleet-") as tmp_text:
        tmp = Path(tmp_text)
        env = base_env(SHIPYARD_CACHE_DIR=str(tmp / "cache"))
        shipyard, how = shipyard_cmd()
        template = _template(tmp / "template")
        first = example_repo(tmp / "fleet" / "p000")
        run_cmd([*shipyard, "adopt", str(first), "--yes", "--template", f"{template}@v1"], env=env)
        git(first, "add", "-A")
        git(first, "commit", "-q", "-m", "adopt")
        paths = [first]
        for i in range(1, projects):
            dest = tmp / "fleet" / f"p{i:03d}"
            subprocess.run(["git", "clone", "-q", str(first), str(dest)], check=True, capture_output=True)
            subprocess.run(["git", "-C", str(first), "push", "-q", str(dest), "refs/shipyard/*:refs/shipyard/*"],
                           check=True, capture_output=True)
            paths.append(dest)
        (paths[7] / "Makefile").write_text("edited\n", encoding="utf-8")
        listing = tmp / "projects.txt"
        listing.write_text("\n".join(str(p) for p in paths) + "\n", encoding="utf-8")
        command = [*shipyard, "fleet", "status", "--from", str(listing), "--json"]
        report = json.loads(run_cmd(command, env=env))["projects"]
        if len(report) != projects or not all(r["behind"] and r["base"] for r in report):
            raise BenchError("fleet status did not see every project as one version behind with a base")
        if [Path(r["path"]).name for r in report if r["modified"]] != ["p007"]:
            raise BenchError("fleet status did not find exactly the one edited project")
        times = [wall(command, env=env) for _ in range(runs)]
        med = median(times)
        return {"runs": runs, "shipyard_invocation": how, "projects": projects, "median_s": med,
                "min_s": min(times), "all_s": times, "projects_per_s": projects / med}
