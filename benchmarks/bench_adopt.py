"""Adopt: `shipyard adopt REPO --yes` against `copier copy` of the same template with the same answers.

Both sides run as subprocesses in the same loop, alternating which goes first, each into a fresh folder:
adopt into a fresh git copy of examples/churn, copier into a fresh empty folder. The template is the
built-in one as Shipyard materialises it in its cache (a git repo with a version tag), warmed once
before timing; copier gets the answers adopt recorded in `.copier-answers.yml` via `--data-file`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from common import BenchError, base_env, example_repo, median, ratio, shipyard_cmd, tool, wall
from common import run as run_cmd

TARGET = 1.3  # DESIGN.md: `shipyard adopt` at most 1.3x `copier copy` of the same template


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def run(runs: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-adopt-") as tmp_text:
        tmp = Path(tmp_text)
        env = base_env(SHIPYARD_CACHE_DIR=str(tmp / "cache"))
        shipyard, how = shipyard_cmd()
        copier = tool("copier")

        # Warm-up (untimed): materialises the template in the cache and gives us adopt's answers.
        warm = example_repo(tmp / "warm" / "churn")
        before = _files(warm)
        run_cmd([*shipyard, "adopt", str(warm), "--yes"], env=env)
        answers_file = warm / ".copier-answers.yml"
        if not answers_file.is_file():
            raise BenchError("adopt wrote no .copier-answers.yml")
        recorded = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
        src, ref = recorded["_src_path"], str(recorded["_commit"])
        data = {k: v for k, v in recorded.items() if not k.startswith("_")}
        data_file = tmp / "answers.json"  # JSON is YAML: types (bool, float, list) survive as they are
        data_file.write_text(json.dumps(data), encoding="utf-8")

        def copier_copy(dest: Path) -> list[str]:
            return [copier, "copy", "--data-file", str(data_file), "--defaults", "--trust", "--quiet",
                    "--vcs-ref", ref, src, str(dest)]

        run_cmd(copier_copy(tmp / "warm-copier"), env=env)
        adopt_files = _files(warm) - before
        copier_files = _files(tmp / "warm-copier")

        times: dict[str, list[float]] = {"shipyard adopt": [], "copier copy": []}
        for i in range(runs):
            repo = example_repo(tmp / f"run{i}" / "churn")  # fresh copy, set up outside the timing
            dest = tmp / f"copier{i}"
            order = ["shipyard adopt", "copier copy"] if i % 2 == 0 else ["copier copy", "shipyard adopt"]
            for side in order:
                if side == "shipyard adopt":
                    times[side].append(wall([*shipyard, "adopt", str(repo), "--yes"], env=env))
                else:
                    times[side].append(wall(copier_copy(dest), env=env))
        med = {side: median(t) for side, t in times.items()}
        adopt_ratio = ratio(med["shipyard adopt"], med["copier copy"])
        return {
            "runs": runs,
            "shipyard_invocation": how,
            "template_ref": ref,
            "median_s": med,
            "min_s": {side: min(t) for side, t in times.items()},
            "all_s": times,
            "files_written": {"shipyard adopt": len(adopt_files), "copier copy": len(copier_files)},
            "only_adopt_writes": sorted(adopt_files - copier_files),
            "ratio": adopt_ratio,
            "target": TARGET,
            "met": adopt_ratio <= TARGET,
        }

