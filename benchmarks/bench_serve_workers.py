"""Load test: the generated service with `serve --workers 2` against `--workers 1`, same trained model.

Set-up (as bench_serve.py): adopt a fresh copy of examples/churn, `train` and `promote` with the generated
project's own CLI. Then, one after the other, `python -m churn serve --workers N` for N = 2 and 1 on 127.0.0.1,
as shipped (contract checks, metrics and the prediction log on):

- load: a fixed number of client connections (8), each a thread with its own keep-alive `http.client`
  connection sending single-row requests in a closed loop (the next when the last one answered), for
  `--seconds` (60) after a 3 s warm-up, rows cycling through `data/customers.csv`. The clients connect
  50 ms apart: uvicorn's workers share one listening socket and a worker accepts every connection pending
  when it wakes, so a burst of connections tends to land on one worker (the result shows each worker's share);
- memory: the resident set (VmRSS) of every worker process, read from /proc every 5 s;
- checks (a failure stops the benchmark): no request failed; the sum of `churn_prediction_requests_total` in
  `/metrics` equals the requests sent (warm-up included) whichever worker answers the scrape; the prediction
  log holds one line per request; each worker's memory is flat (last sample within 10% + 5 MB of the first);
  SIGTERM stops the service with exit 0.

    .venv/bin/python benchmarks/bench_serve_workers.py --seconds 60     # prints the results as JSON
    .venv/bin/python benchmarks/run.py workers                          # the same, stored and tabled

The client runs on the same machine as the workers and takes part of its CPUs: on 2 cores the two workers
and the client share them, so the ratio says what a second worker buys there, not on a bigger machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from bench_serve import HOST, Server, _free_port, _metric, _records, request
from common import BenchError, base_env, example_repo, percentile, shipyard_cmd
from common import run as run_cmd

WARMUP_S = 3.0
SAMPLE_EVERY_S = 5.0
STAGGER_S = 0.05  # between two clients' first connections


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker_pids(server: Server, workers: int) -> list[int]:
    """The processes that serve: the `serve` process itself, or its uvicorn worker children."""
    assert server.proc is not None
    if workers == 1:
        return [server.proc.pid]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == server.proc.pid and b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_loaded(prom: Path | None, workers: int, timeout: float = 120) -> None:
    """/ready answers once one worker is up: wait until every worker has loaded the model (model_info)."""
    if prom is None:
        return
    end = time.monotonic() + timeout
    while len(list(prom.glob("gauge_livemax_*.db"))) < workers:
        if time.monotonic() > end:
            raise BenchError(f"not all {workers} workers loaded the model within {timeout:.0f} s")
        time.sleep(0.1)


def drive(port: int, bodies: list[bytes], connections: int, seconds: float) -> dict[str, Any]:
    """`connections` closed loops until `seconds` have passed; latencies of the answered requests."""
    latencies: list[float] = []
    counts = {"sent": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "application/json"}

    def client(offset: int) -> None:
        time.sleep(offset * STAGGER_S)  # clients arrive one by one, so the workers share the connections
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        sent = errors = 0
        i = offset
        try:
            while time.perf_counter() < deadline:
                body = bodies[i % len(bodies)]
                i += connections
                t0 = time.perf_counter()
                sent += 1
                try:
                    conn.request("POST", "/predict", body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    ok = resp.status == 200
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
                    ok = False
                if ok:
                    mine.append(time.perf_counter() - t0)
                else:
                    errors += 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                counts["sent"] += sent
                counts["errors"] += errors

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - start
    return {"sent": counts["sent"], "errors": counts["errors"], "ok": len(latencies), "elapsed_s": elapsed,
            "rps": len(latencies) / elapsed if elapsed else 0.0, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000}


def sample_memory(pids: list[int], stop: threading.Event) -> tuple[dict[int, list[float]], threading.Thread]:
    """VmRSS of each of `pids` now and every SAMPLE_EVERY_S seconds until `stop` is set."""
    samples: dict[int, list[float]] = {pid: [] for pid in pids}

    def loop() -> None:
        while True:
            for pid in pids:
                value = rss_mb(pid)
                if value is not None:
                    samples[pid].append(value)
            if stop.wait(SAMPLE_EVERY_S):
                return

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return samples, thread


def share(prom: Path | None, pkg: str) -> dict[str, float]:
    """Requests answered by each worker, from its own multiprocess counter file."""
    if prom is None:
        return {}
    from prometheus_client.multiprocess import MultiProcessCollector

    out = {}
    for db in prom.glob("counter_*.db"):
        samples = [s for m in MultiProcessCollector.merge([str(db)]) for s in m.samples]
        out[db.stem.split("_")[1]] = sum(s.value for s in samples if s.name == f"{pkg}_prediction_requests_total")
    return out


def log_lines(log: Path) -> int:
    files = [log, *log.parent.glob(log.name + ".[0-9]*")]
    return sum(sum(1 for _ in f.open("rb")) for f in files if f.exists())


def one(project: Path, pkg: str, python: str, penv: dict[str, str], bodies: list[bytes], *, workers: int,
        connections: int, seconds: float, tmp: Path) -> dict[str, Any]:
    log = tmp / f"predictions-{workers}.jsonl"
    prom = tmp / f"prom-{workers}" if workers > 1 else None
    env = {**penv, f"{pkg.upper()}_PREDICTION_LOG": str(log)}
    if prom is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(prom)  # where the benchmark sees that every worker is up
    server = Server(f"workers={workers}", _free_port(), "/predict", "/ready", "records")
    try:
        server.start([python, "-m", pkg, "serve", "--host", HOST, "--port", str(server.port), "--workers",
                      str(workers)], env=env, cwd=project, log=tmp / f"serve-{workers}.log")
        wait_loaded(prom, workers)
        pids = worker_pids(server, workers)
        if len(pids) != workers:
            raise BenchError(f"{len(pids)} worker processes found, {workers} expected")
        warm = drive(server.port, bodies, connections, WARMUP_S)
        stop = threading.Event()
        memory, sampler = sample_memory(pids, stop)
        load = drive(server.port, bodies, connections, seconds)
        stop.set()
        sampler.join(10)
        answered = share(prom, pkg)
        counted = []
        for _ in range(4):  # a scrape may land on any worker: each must see every worker's requests
            status, raw = request(server.port, "GET", "/metrics", None)
            counted.append(_metric(raw.decode(errors="replace"), f"{pkg}_prediction_requests_total",
                                   status="success") if status == 200 else None)
        t0 = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(60)
        stop_s = time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        raise BenchError(f"workers={workers}: not stopped 60 s after SIGTERM:\n{server.tail()}") from None
    finally:
        server.stop()
    sent = warm["sent"] + load["sent"]
    errors = warm["errors"] + load["errors"]
    per_worker = {}
    for pid, values in memory.items():
        if not values:
            raise BenchError(f"no memory sample of worker {pid}")
        per_worker[str(pid)] = {"first_mb": values[0], "last_mb": values[-1], "peak_mb": max(values),
                                "samples": len(values)}
    flat = all(w["last_mb"] <= w["first_mb"] * 1.10 + 5 for w in per_worker.values())
    lines = log_lines(log)
    result = {"workers": workers, "connections": connections, "seconds": seconds, **load, "sent_total": sent,
              "errors_total": errors, "metrics_success": counted, "per_worker_requests": answered,
              "log_lines": lines, "memory": per_worker, "memory_flat": flat, "stop_exit_code": code,
              "stop_s": stop_s, "startup_s": server.started_s}
    problems = []
    if errors:
        problems.append(f"{errors} request(s) failed")
    if any(c != sent for c in counted):
        problems.append(f"/metrics counted {counted}, {sent} sent")
    if lines != sent:
        problems.append(f"the prediction log has {lines} lines for {sent} requests")
    if not flat:
        problems.append(f"memory grew: {per_worker}")
    if code != 0:
        problems.append(f"exit {code} after SIGTERM")
    if problems:
        raise BenchError(f"workers={workers}: " + "; ".join(problems) + f"\n{server.tail()}")
    return result


def run(seconds: float = 60.0, connections: int = 8) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-workers-") as tmp_text:
        tmp = Path(tmp_text)
        env = base_env(SHIPYARD_CACHE_DIR=str(tmp / "cache"))
        shipyard, _ = shipyard_cmd()
        project = example_repo(tmp / "churn")
        run_cmd([*shipyard, "adopt", str(project), "--yes"], env=env)
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
        pkg = answers["package_name"]
        penv = base_env(PYTHONPATH=str(project / "src"))
        penv.pop("PROMETHEUS_MULTIPROC_DIR", None)
        python = sys.executable
        for step in ("train", "promote"):
            run_cmd([python, "-m", pkg, step], env=penv, cwd=project, timeout=600)
        rows = _records(project, answers["data_path"], answers["target_column"])
        bodies = [json.dumps({"records": [row]}).encode() for row in rows]
        out: dict[str, Any] = {"package": pkg, "cpus": len(os.sched_getaffinity(0))}
        for workers in (2, 1):
            out[f"workers_{workers}"] = one(project, pkg, python, penv, bodies, workers=workers,
                                            connections=connections, seconds=seconds, tmp=tmp)
        two, single = out["workers_2"], out["workers_1"]
        out["rps_ratio"] = two["rps"] / single["rps"] if single["rps"] else float("nan")
        out["p99_ratio"] = two["p99_ms"] / single["p99_ms"] if single["p99_ms"] else float("nan")
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load per server, after the warm-up")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    args = parser.parse_args(argv)
    try:
        result = run(args.seconds, args.connections)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
