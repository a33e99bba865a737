"""Side-by-side benchmarks of Shipyard against the tools it is measured by (not part of the tests).

    python benchmarks/run.py                 # all: cli adopt update fleet doctor memory serve  (make bench)
    python benchmarks/run.py cli adopt       # a subset, by name
    python benchmarks/run.py --no-docs serve # do not touch docs/benchmarks.md
    python benchmarks/run.py workers         # opt-in: the 2-minute load test of `serve --workers 2` vs 1

Both sides of every comparison are measured in the same run, interleaved, and reported as medians
and ratios. Results go to .bench/results.json (merged with earlier results of benchmarks not rerun)
and to the tables between the bench markers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import bench_adopt
import bench_cli
import bench_doctor
import bench_fleet
import bench_memory
import bench_serve
import bench_serve_workers
import bench_update
from common import ROOT, BenchError, shipyard_version

BENCHES: dict[str, Callable[[], dict[str, Any]]] = {
    "cli": bench_cli.run,
    "adopt": bench_adopt.run,
    "serve": bench_serve.run,
    "update": bench_update.run,
    "fleet": bench_fleet.run,
    "doctor": bench_doctor.run,
    "memory": bench_memory.run,
    "workers": bench_serve_workers.run,
}
OPT_IN = {"workers"}  # run only when named: a load test of two minutes and more
RESULTS = ROOT / ".bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
VERSIONS = ("copier", "typer", "mlflow-skinny", "fastapi", "uvicorn", "scikit-learn", "pandas")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    versions = {"shipyard": shipyard_version(), "python": platform.python_version()}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpus": cores, "cpu": cpu, "os": platform.platform(terse=True), "commit": commit,
            "versions": versions}


# -- formatting --------------------------------------------------------------------------------------

def secs(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def num(value: float | None, fmt: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def met(flag: bool | None) -> str:
    return "-" if flag is None else ("yes" if flag else "**no**")


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    """Benchmark | Shipyard | Reference | Ratio | Target | Met"""
    rows: list[list[str]] = []
    cli = results.get("cli")
    if cli:
        m = cli["median_s"]
        rows.append(["CLI start: `--help`", secs(m["shipyard --help"]), f"copier: {secs(m['copier --help'])}",
                     num(cli["ratio"]), f"<= {cli['target']}", met(cli["met"])])
        rows.append(["CLI start: `--version`", secs(m["shipyard --version"]),
                     f"copier: {secs(m['copier --version'])}", num(cli["version_ratio"]), "", ""])
    adopt = results.get("adopt")
    if adopt:
        m = adopt["median_s"]
        rows.append(["`adopt` examples/churn", secs(m["shipyard adopt"]),
                     f"copier copy: {secs(m['copier copy'])}", num(adopt["ratio"]), f"<= {adopt['target']}",
                     met(adopt["met"])])
    update = results.get("update")
    if update:
        m = update["median_s"]
        rows.append(["`update` v1 -> v2, a user edit kept", secs(m["shipyard update"]),
                     f"copier update: {secs(m['copier update'])}", num(update["ratio"]), f"<= {update['target']}",
                     met(update["met"])])
    fleet = results.get("fleet")
    if fleet:
        rows.append([f"`fleet status`, {fleet['projects']} projects", f"{num(fleet['projects_per_s'], '.0f')} projects/s",
                     "(no other tool)", "", "", ""])
    doctor = results.get("doctor")
    if doctor:
        big = doctor["sizes"][-1]
        rows.append([f"`doctor`, {big['notebooks']:,} notebooks / {big['files']:,} files", secs(big["median_s"]),
                     "(no other tool)", "", "", ""])
    memory = results.get("memory")
    if memory:
        nb, table = memory["notebook"], memory["csv"]
        rows.append([f"inspect, notebook with {nb['outputs_mb']} MB of outputs: peak RSS",
                     f"{num(nb['peak_mb'], '.0f')} MB", f"read whole: {num(nb['whole_read_peak_mb'], '.0f')} MB",
                     "", "", ""])
        rows.append([f"contract inference, {num(table['file_mb'] / 1024, '.0f')} GB CSV: peak RSS",
                     f"{num(table['peak_mb'], '.0f')} MB", "(sampled)", "", "", ""])
    serve = results.get("serve")
    if serve:
        batch_label = f"{serve['batch']['rows_per_request']}-row"
        for key, label, targets in (("single", "1-row", True), ("batch", batch_label, False)):
            r = serve[key]
            ours, theirs = r["shipyard"], r["mlflow"]
            rows.append([f"serve {label}: requests/s", num(ours["rps"], ".0f"),
                         f"mlflow: {num(theirs['rps'], '.0f')}", num(r["rps_ratio"]),
                         f">= {serve['target_rps_ratio']}" if targets else "",
                         met(r["rps_ratio"] >= serve["target_rps_ratio"]) if targets else ""])
            rows.append([f"serve {label}: p99 latency", f"{num(ours['p99_ms'], '.1f')} ms",
                         f"mlflow: {num(theirs['p99_ms'], '.1f')} ms", num(r["p99_ratio"]),
                         f"<= {serve['target_p99_ratio']}" if targets else "",
                         met(r["p99_ratio"] <= serve["target_p99_ratio"]) if targets else ""])
            rows.append([f"serve {label}: p50 latency", f"{num(ours['p50_ms'], '.1f')} ms",
                         f"mlflow: {num(theirs['p50_ms'], '.1f')} ms", num(r["p50_ratio"]), "", ""])
    workers = results.get("workers")
    if workers:
        two, one = workers["workers_2"], workers["workers_1"]
        label = f"`serve --workers 2`, {two['connections']} connections, 1-row"
        rows.append([f"{label}: requests/s", num(two["rps"], ".0f"), f"--workers 1: {num(one['rps'], '.0f')}",
                     num(workers["rps_ratio"]), "", ""])
        rows.append([f"{label}: p99 latency", f"{num(two['p99_ms'], '.1f')} ms",
                     f"--workers 1: {num(one['p99_ms'], '.1f')} ms", num(workers["p99_ratio"]), "", ""])
    return rows


HEADER = ["Benchmark", "Shipyard", "Reference", "Ratio", "Target", "Met"]


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    cells = [header] + [[c.replace("`", "").replace("**", "") for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def details(results: dict[str, Any]) -> str:
    """The per-benchmark detail of the docs page."""
    parts: list[str] = []
    cli = results.get("cli")
    if cli:
        parts.append(f"**CLI start** ({cli['runs']} runs per command, interleaved, measured "
                     f"{cli['measured_at']}; Shipyard run as {cli['shipyard_invocation']}). Fastest runs: "
                     + ", ".join(f"`{k}` {secs(v)}" for k, v in cli["min_s"].items()) + ".")
    adopt = results.get("adopt")
    if adopt:
        fw = adopt["files_written"]
        parts.append(
            f"**Adopt** ({adopt['runs']} runs per side, alternating, measured {adopt['measured_at']}; "
            f"template `{adopt['template_ref']}`). Fastest: adopt {secs(adopt['min_s']['shipyard adopt'])}, "
            f"copier copy {secs(adopt['min_s']['copier copy'])}. Adopt wrote {fw['shipyard adopt']} files, "
            f"copier {fw['copier copy']}; adopt also inspects the notebooks and data and writes "
            + ", ".join(f"`{p}`" for p in adopt["only_adopt_writes"]) + ".")
    update = results.get("update")
    if update:
        differ = update["files_that_differ"]
        parts.append(
            f"**Update** ({update['runs']} runs per side, alternating, each on a fresh clone, measured "
            f"{update['measured_at']}). Fastest: shipyard update {secs(update['min_s']['shipyard update'])}, "
            f"copier update {secs(update['min_s']['copier update'])}. Files whose result differs between the "
            "two: " + (", ".join(f"`{p}`" for p in differ) if differ else "none") + ".")
    fleet = results.get("fleet")
    if fleet:
        parts.append(f"**Fleet status** ({fleet['runs']} runs, measured {fleet['measured_at']}): "
                     f"{fleet['projects']} projects in {secs(fleet['median_s'])} (median; fastest "
                     f"{secs(fleet['min_s'])}), one template source asked for its tags once.")
    doctor = results.get("doctor")
    if doctor:
        fit = doctor["fit"]
        rows = [[f"{r['notebooks']:,}", f"{r['files']:,}", secs(r["median_s"]), num(r["notebooks_per_s"], ".0f")]
                for r in doctor["sizes"]]
        parts.append(f"**Doctor** (`shipyard doctor --format json`, whole command, median of {doctor['runs']} runs, "
                     f"measured {doctor['measured_at']}):\n\n"
                     + markdown_table(["Notebooks", "Files", "Time", "Notebooks/s"], rows)
                     + f"\n\nLeast-squares line: {num(fit['intercept_s'], '.2f')} s + "
                     f"{num(fit['per_notebook_ms'], '.2f')} ms per notebook, R² {num(fit['r2'], '.4f')} "
                     "(linear growth).")
    memory = results.get("memory")
    if memory:
        nb, table = memory["notebook"], memory["csv"]
        parts.append(
            f"**Memory** (peak RSS of a fresh process, measured {memory['measured_at']}; importing pandas and "
            f"Shipyard alone: {num(memory['baseline_mb'], '.0f')} MB). Inspection of a {num(nb['file_mb'], '.0f')} MB "
            f"notebook ({nb['outputs_mb']} MB of base64 outputs): {num(nb['peak_mb'], '.0f')} MB "
            f"(+{num(nb['added_mb'], '.0f')} MB) in {secs(nb['seconds'])}, streamed without its outputs; read whole "
            f"with `json.loads` it peaks at {num(nb['whole_read_peak_mb'], '.0f')} MB. Contract inference on a "
            f"{num(table['file_mb'], '.0f')} MB CSV: {num(table['peak_mb'], '.0f')} MB "
            f"(+{num(table['added_mb'], '.0f')} MB) in {secs(table['seconds'])}: the file is sampled (sniffed from "
            f"its first 256 KB, then its first {table['sample_rows']:,} rows read with `nrows`), never read whole.")
    serve = results.get("serve")
    if serve:
        s = serve["setup_s"]
        head = ["Body", "Server", "Requests ok", "Errors", "Requests/s", "p50", "p99"]
        rows = []
        for key in ("single", "batch"):
            r = serve[key]
            for side in ("shipyard", "mlflow"):
                x = r[side]
                rows.append([f"{r['rows_per_request']} row(s)", side, str(x["ok"]), str(x["errors"]),
                             num(x["rps"], ".0f"), f"{num(x['p50_ms'], '.1f')} ms",
                             f"{num(x['p99_ms'], '.1f')} ms"])
        single = serve["single"]
        cost = ", ".join(f"{k.split('_')[0]} row(s) {num(v, '.1f')} ms"
                         for k, v in serve.get("model_predict_ms", {}).items())
        parts.append(
            f"**Serving** (measured {serve['measured_at']}; {single['workers']} closed-loop client threads, "
            f"{single['rounds']} alternating rounds per body size, requests/s is the median over rounds):\n\n"
            + markdown_table(head, rows)
            + f"\n\nSet-up: adopt {secs(s['adopt_s'])}, train {secs(s['train_s'])}, "
            f"promote {secs(s['promote_s'])}. Time to ready: ours {secs(serve['startup_s']['shipyard'])}, "
            f"mlflow {secs(serve['startup_s']['mlflow'])}. The model alone (pyfunc `predict` in one process, "
            f"median): {cost}. Predictions of the two servers agree on "
            f"{serve['predictions_agree']} rows. Contract checked per row: "
            f"{', '.join(serve['contract']) or 'none found'}; `{serve['package']}_prediction_requests_total"
            f"{{status=\"success\"}}` read {num(serve['metrics_success_count'], '.0f')} at the end.")
    workers = results.get("workers")
    if workers:
        head = ["Workers", "Requests ok", "Errors", "Requests/s", "p50", "p99", "Per worker", "RSS first / last / peak",
                "Stop"]
        rows = []
        for key in ("workers_2", "workers_1"):
            r = workers[key]
            share = "/".join(f"{v:.0f}" for v in r["per_worker_requests"].values()) or "-"
            rss = ", ".join(f"{num(m['first_mb'], '.0f')} / {num(m['last_mb'], '.0f')} / {num(m['peak_mb'], '.0f')} MB"
                            for m in r["memory"].values())
            rows.append([str(r["workers"]), str(r["sent_total"]), str(r["errors_total"]), num(r["rps"], ".0f"),
                         f"{num(r['p50_ms'], '.1f')} ms", f"{num(r['p99_ms'], '.1f')} ms", share, rss,
                         f"exit {r['stop_exit_code']} in {secs(r['stop_s'])}"])
        parts.append(
            f"**Several workers** (`benchmarks/bench_serve_workers.py`, measured {workers['measured_at']}; "
            f"{workers['workers_2']['connections']} keep-alive client connections, single-row requests, "
            f"{workers['workers_2']['seconds']:.0f} s per server after a warm-up; requests ok includes the warm-up). "
            "Checked: no error, `/metrics` counts every request sent whichever worker answers, one prediction-log "
            "line per request, flat memory, exit 0 on SIGTERM:\n\n" + markdown_table(head, rows))
    return "\n\n".join(parts)


def render_doc_block(data: dict[str, Any]) -> str:
    results = data["results"]
    m = data["machine"]
    v = m["versions"]
    versions = ", ".join(f"{k} {val}" for k, val in v.items())
    return "\n".join([
        START,
        f"Last run: {data['updated']} on {m['cpus']} CPU(s) ({m['cpu']}), {m['os']}, "
        f"commit `{m['commit'] or '?'}`.",
        f"Versions: {versions}.",
        "",
        markdown_table(HEADER, summary_rows(results)),
        "",
        details(results),
        END,
    ])


def update_doc(data: dict[str, Any]) -> None:
    block = render_doc_block(data)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run ({', '.join(BENCHES)}; default: all but {', '.join(OPT_IN)})")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (choose from {', '.join(BENCHES)})")
    names = args.names or [n for n in BENCHES if n not in OPT_IN]

    data: dict[str, Any] = {"results": {}}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text(encoding="utf-8"))
        except ValueError:
            pass
    data.setdefault("results", {})
    failed = []
    for name in names:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            result = BENCHES[name]()
        except BenchError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        result["measured_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        result["duration_s"] = round(time.perf_counter() - start, 1)
        data["results"][name] = result
        print(f"   {name} took {result['duration_s']} s", file=sys.stderr, flush=True)
    data["machine"] = machine()
    data["updated"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print(text_table(HEADER, summary_rows(data["results"])))
    print(f"\nresults: {RESULTS.relative_to(ROOT)}")
    if not args.no_docs:
        update_doc(data)
        print(f"tables:  {DOC.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
