"""CLI start: `shipyard --help` against `copier --help` (subprocess wall time, interleaved)."""

from __future__ import annotations

from typing import Any

from common import base_env, interleaved, median, ratio, shipyard_cmd, tool, wall

TARGET = 0.5  # DESIGN.md: `shipyard --help` at most 0.5x the time of `copier --help`


def run(runs: int = 15) -> dict[str, Any]:
    env = base_env()
    shipyard, how = shipyard_cmd()
    copier = tool("copier")
    cases = {
        "shipyard --help": [*shipyard, "--help"],
        "copier --help": [copier, "--help"],
        "shipyard --version": [*shipyard, "--version"],
        "copier --version": [copier, "--version"],
    }
    for cmd in cases.values():  # warm the OS file cache and the bytecode caches
        wall(cmd, env=env)
    times = interleaved(cases, runs, env=env)
    med = {name: median(t) for name, t in times.items()}
    help_ratio = ratio(med["shipyard --help"], med["copier --help"])
    return {
        "runs": runs,
        "shipyard_invocation": how,
        "median_s": med,
        "min_s": {name: min(t) for name, t in times.items()},
        "ratio": help_ratio,
        "version_ratio": ratio(med["shipyard --version"], med["copier --version"]),
        "target": TARGET,
        "met": help_ratio <= TARGET,
    }
