"""`serve --workers N`, run for real: several worker processes, one set of metrics, one prediction log, and a
graceful stop on SIGTERM.

- Two workers answer (their PIDs, children of the `serve` process, each hold a share of the requests in the
  prometheus-client multiprocess files), and `/metrics` counts every request once whichever worker answers it;
  a stale file left in a user-given PROMETHEUS_MULTIPROC_DIR is wiped; the exposition passes promtool; a
  keep-alive connection is not slowed by Nagle's algorithm (uvicorn's own worker socket would be: ~40 ms).
- The prediction log, rotated often by two processes, has one whole line per request, no file over the limit.
- SIGTERM while a request is in flight (its body still being uploaded: a slow client, nothing test-only):
  new connections are refused, the request gets its 200 and is logged, the process exits 0; one that never
  finishes is cut at `<PKG>_GRACEFUL_SECONDS` (a 500 or a closed connection) and the process still exits 0.
- An unreachable registry stops `serve` with exit 69 before any worker starts, with one worker or two.
- The micro-batcher answers what is queued when it is stopped.

One project is rendered, trained (baseline) and promoted for the module.
"""

from __future__ import annotations

import functools
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from runtime_harness import CLASSIFIER_MODULE, churn_data, free_port, make_project, show, started

pytestmark = pytest.mark.e2e

PACKAGE = "workers_demo"
PREFIX = PACKAGE.upper()
RECORD = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
BAD = {**RECORD, "plan": "enterprise"}  # not an allowed value of the contract
EXIT_UNAVAILABLE = 69


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("workers") / "workers-demo"
    proj = make_project(root, package=PACKAGE, df=churn_data(), data_rel="data/customers.csv", target="churned",
                        module_source=CLASSIFIER_MODULE)
    for args in (("train", "--baseline", "--sample", "300"), ("promote",)):
        done = proj.run(*args)
        assert done.returncode == 0, show(done)
    return proj


# --------------------------------------------------------------------------- helpers
@functools.cache
def _client() -> httpx.Client:
    return httpx.Client(timeout=30, headers={"Connection": "close"})  # shared by threads; no keep-alive


def post(url: str, body: dict | bytes) -> int:
    """One request on a connection of its own (so the kernel may hand it to any worker); its status."""
    if isinstance(body, bytes):
        return _client().post(f"{url}/predict", content=body).status_code
    return _client().post(f"{url}/predict", json=body).status_code


def send_mix(url: str, valid: int, invalid: int, malformed: int) -> Counter:
    """Valid (2 rows each), invalid and malformed requests from 8 concurrent clients; what was sent."""
    bodies = ([{"records": [RECORD, {**RECORD, "tenure": 30}]}] * valid + [{"records": [BAD]}] * invalid
              + [b"not json"] * malformed)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda b: post(url, b), bodies))
    assert statuses == [200] * valid + [422] * (invalid + malformed)
    return Counter(valid=valid, invalid=invalid, malformed=malformed, rows=2 * valid)


def per_worker(prom: Path) -> dict[int, float]:
    """`<pkg>_prediction_requests_total` of each process, read from its own multiprocess file."""
    from prometheus_client.multiprocess import MultiProcessCollector

    out = {}
    for db in prom.glob("counter_*.db"):
        samples = [s for m in MultiProcessCollector.merge([str(db)]) for s in m.samples]
        out[int(db.stem.split("_")[1])] = sum(s.value for s in samples
                                              if s.name == f"{PACKAGE}_prediction_requests_total")
    return out


def loaded(prom: Path, n: int, within: float = 90) -> set[int]:
    """The PIDs of `n` workers once each has loaded the model (its live model_info gauge file is there).

    /ready answers as soon as one worker is up; the others may still be loading the model."""
    end = time.monotonic() + within
    while True:
        pids = {int(p.stem.rpartition("_")[2]) for p in prom.glob("gauge_livemax_*.db")}
        if len(pids) >= n:
            return pids
        assert time.monotonic() < end, f"{len(pids)} of {n} workers loaded the model within {within} s"
        time.sleep(0.1)


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def series(text: str, name: str, **labels: str) -> float:
    """The sum of the series `name` whose labels include `labels` (0 when there is none)."""
    total = 0.0
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if (head == name or head.startswith(name + "{")) and all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def refused(port: int, within: float) -> bool:
    """True once a new connection to `port` is refused (tried every 50 ms for `within` seconds)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


class SlowUpload:
    """A POST /predict whose body is sent in two parts: the second only when `finish()` is called."""

    def __init__(self, url: str, record: dict) -> None:
        self.first_sent = threading.Event()
        self.go = threading.Event()
        self.response: httpx.Response | None = None
        self.error: Exception | None = None
        self._head = b'{"records": [' + json.dumps(record).encode()
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        assert self.first_sent.wait(10), "the first part of the body was not sent"

    def _body(self):
        yield self._head
        self.first_sent.set()  # httpx asks for the next part once the first one is written
        self.go.wait(60)
        yield b"]}"

    def _run(self, url: str) -> None:
        try:
            self.response = httpx.post(f"{url}/predict", content=self._body(),
                                       headers={"Content-Type": "application/json"}, timeout=60)
        except httpx.HTTPError as exc:
            self.error = exc

    def finish(self, timeout: float = 30) -> None:
        self.go.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive()


def log_lines(log: Path) -> list[str]:
    files = [log, *sorted(log.parent.glob(log.name + ".[0-9]*"), key=lambda p: int(p.suffix[1:]))]
    return [line for f in files if f.exists() for line in f.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- metrics
def test_two_workers_answer_and_metrics_count_every_request_once(project, tmp_path):
    prom = tmp_path / "prom"
    prom.mkdir()
    stale = project.python(  # a counter file of an earlier run, by a process gone since: 1000 requests
        f"import os; os.environ['PROMETHEUS_MULTIPROC_DIR'] = {str(prom)!r}\n"
        "from prometheus_client import Counter\n"
        f"Counter('{PACKAGE}_prediction_requests', 'x', ['model_version', 'status'])"
        ".labels('1', 'success').inc(1000)\n")
    assert stale.returncode == 0, show(stale)
    assert per_worker(prom) and sum(per_worker(prom).values()) == 1000
    with started(project, "--workers", "2", PROMETHEUS_MULTIPROC_DIR=str(prom)) as server:
        assert sum(per_worker(prom).values()) == 0  # the stale file was wiped at start
        assert loaded(prom, 2) <= children(server.proc.pid)
        with httpx.Client(base_url=server.url, timeout=10) as keep_alive:  # one connection, one worker
            took = []
            for _ in range(21):
                begun = time.perf_counter()
                assert keep_alive.get("/health").status_code == 200
                took.append(time.perf_counter() - begun)
        # TCP_NODELAY on the workers' connections: without it every answer waits ~40 ms for a delayed ACK
        assert sorted(took)[10] < 0.025, sorted(took)
        sent = Counter()
        for _ in range(10):  # until both workers have answered some (the kernel picks who accepts)
            sent += send_mix(server.url, valid=12, invalid=3, malformed=1)
            answered = {pid for pid, n in per_worker(prom).items() if n > 0}
            if len(answered) >= 2:
                break
        requests = sent["valid"] + sent["invalid"] + sent["malformed"]
        assert len(answered) == 2 and answered <= children(server.proc.pid), (answered, children(server.proc.pid))
        assert sum(per_worker(prom).values()) == requests
        for _ in range(6):  # whichever worker answers /metrics, it counts every worker's requests
            text = httpx.get(f"{server.url}/metrics", timeout=10, headers={"Connection": "close"}).text
            assert series(text, f"{PACKAGE}_prediction_requests_total") == requests
            assert series(text, f"{PACKAGE}_prediction_requests_total", status="success") == sent["valid"]
            assert series(text, f"{PACKAGE}_prediction_requests_total",
                          status="invalid") == sent["invalid"] + sent["malformed"]
            assert series(text, f"{PACKAGE}_predicted_rows_total") == sent["rows"]
            assert series(text, f"{PACKAGE}_input_validation_failures_total", column="plan",
                          rule="allowed_values") == sent["invalid"]
            assert series(text, f"{PACKAGE}_prediction_request_duration_seconds_count") == requests
            info = [line for line in text.splitlines() if line.startswith(f"{PACKAGE}_model_info{{")]
            assert info == [f'{PACKAGE}_model_info{{name="{PACKAGE}",version="1"}} 1.0'], info
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; .ci/run installs it)")
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- prediction log
def test_two_workers_rotating_the_log_leave_one_whole_line_per_request(project, tmp_path):
    log = tmp_path / "logs" / "predictions.jsonl"
    prom = tmp_path / "prom"
    max_bytes = int(0.01 * 1024 * 1024)
    n = 300
    bodies = [{"records": [BAD if i % 5 == 0 else {**RECORD, "monthly_charges": round(50 + i / 1000, 3)}]}
              for i in range(n)]
    env = {f"{PREFIX}_WORKERS": "2", f"{PREFIX}_PREDICTION_LOG": str(log), f"{PREFIX}_PREDICTION_LOG_MAX_MB": "0.01",
           f"{PREFIX}_PREDICTION_LOG_BACKUPS": "200", "PROMETHEUS_MULTIPROC_DIR": str(prom)}
    with started(project, **env) as server:
        loaded(prom, 2)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda b: post(server.url, b), bodies))
        assert statuses == [422 if i % 5 == 0 else 200 for i in range(n)]
        assert len([pid for pid, c in per_worker(prom).items() if c > 0]) == 2  # both wrote to the log
        server.proc.send_signal(signal.SIGTERM)  # pending log writes are finished before the workers exit
        assert server.proc.wait(30) == 0, server.output()
    files = [log, *log.parent.glob(log.name + ".[0-9]*")]
    assert len(files) >= 4, "the log did not rotate"
    assert all(f.stat().st_size <= max_bytes for f in files), {f.name: f.stat().st_size for f in files}
    entries = [json.loads(line) for line in log_lines(log)]  # a torn or interleaved line fails here
    assert len(entries) == n
    marks = Counter(e["records"][0]["monthly_charges"] for e in entries if e["status"] == "success")
    assert marks == Counter(b["records"][0]["monthly_charges"] for b in bodies if b["records"][0] is not BAD)
    assert sum(e["status"] == "invalid" for e in entries) == n // 5


# --------------------------------------------------------------------------- SIGTERM
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_answers_the_request_in_flight_refuses_new_ones_and_exits_0(project, tmp_path, workers):
    log = tmp_path / "predictions.jsonl"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {f"{PREFIX}_PREDICTION_LOG": str(log), "TMPDIR": str(scratch)}
    with started(project, "--workers", str(workers), **env) as server:
        private = list(scratch.glob(f"{PACKAGE}-metrics-*"))
        assert len(private) == (1 if workers > 1 else 0)  # multiprocess metrics only with several workers
        if workers > 1:
            loaded(private[0], workers)
        upload = SlowUpload(server.url, {**RECORD, "monthly_charges": 77.777})
        time.sleep(0.5)  # the worker has read the headers and the first part: the request is in flight
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert refused(server.port, 10), "new connections still accepted after SIGTERM"
        with pytest.raises(httpx.ConnectError):
            httpx.post(f"{server.url}/predict", json={"records": [RECORD]}, timeout=5)
        assert server.proc.poll() is None  # still waiting for the request in flight
        upload.finish()
        assert upload.error is None, upload.error
        assert upload.response.status_code == 200, upload.response.text
        assert len(upload.response.json()["predictions"]) == 1
        assert server.proc.wait(20) == 0, server.output()
        assert time.monotonic() - signalled < 20
    assert "Traceback" not in server.output(), server.output()
    entries = [json.loads(line) for line in log_lines(log)]
    assert [e["records"][0]["monthly_charges"] for e in entries if e["status"] == "success"] == [77.777]
    assert list(scratch.iterdir()) == []  # the private metrics directory is gone


def test_sigterm_cuts_a_request_that_never_finishes_at_graceful_seconds(project, tmp_path):
    prom = tmp_path / "prom"
    env = {f"{PREFIX}_GRACEFUL_SECONDS": "2", "PROMETHEUS_MULTIPROC_DIR": str(prom)}
    with started(project, "--workers", "2", **env) as server:
        loaded(prom, 2)
        upload = SlowUpload(server.url, RECORD)
        time.sleep(0.5)
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(30) == 0, server.output()
        waited = time.monotonic() - signalled
        upload.finish()
    assert 2 <= waited < 10, waited
    # cancelled at the timeout: uvicorn answers 500 if it can, else the connection is closed; never a 200
    assert upload.error is not None or upload.response.status_code == 500, upload.response


# --------------------------------------------------------------------------- start-up
@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_unreachable_registry_exits_69_before_any_worker_starts(project, tmp_path, workers):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()  # nothing listens there
    begun = time.monotonic()
    done = project.run("serve", "--port", str(free_port()), "--workers", workers, timeout=60,
                       MLFLOW_TRACKING_URI=f"http://127.0.0.1:{port}", TMPDIR=str(scratch),
                       **{f"{PREFIX}_REGISTRY_TIMEOUT_SECONDS": "2"})
    assert done.returncode == EXIT_UNAVAILABLE, show(done)
    assert time.monotonic() - begun < 30
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: registry unreachable at http://127.0.0.1:{port}: "), show(done)
    assert len(lines) <= 2 and "Traceback" not in done.stderr and "serving" not in done.stdout
    assert list(scratch.iterdir()) == []


def test_workers_below_one_is_a_usage_error(project):
    done = project.run("serve", "--workers", "0", timeout=60)
    assert done.returncode == 2, show(done)
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: --workers must be 1 or more, not 0" and lines[1].startswith("hint: "), show(done)


# --------------------------------------------------------------------------- the batcher at shutdown
def test_stopping_the_batcher_answers_what_is_queued(project):
    """In this process, with the trained model: requests queued when stop() is called still get answers."""
    code = f"""
import asyncio, json
from {PACKAGE} import registry, settings as S
from {PACKAGE}.batching import Batcher
from {PACKAGE}.metrics import Metrics, PredictionLog
from {PACKAGE}.service import Predictor, load_contract

settings = S.Settings.load()
bundle = registry.load_bundle(settings)
metrics = Metrics()
predictor = Predictor(bundle, load_contract(settings), metrics, PredictionLog(None, 0, 0))

async def main():
    batcher = Batcher(1, 0)  # one row per model call: the queue stays long
    batcher.start()
    jobs = [asyncio.ensure_future(batcher.submit(predictor, [{json.dumps(RECORD)}])) for _ in range(20)]
    await asyncio.sleep(0)  # all of them queued, the first one in the model thread
    await batcher.stop()
    return await asyncio.gather(*jobs, return_exceptions=True)

answers = asyncio.run(main())
print(json.dumps([type(a).__name__ if isinstance(a, BaseException) else len(a["predictions"]) for a in answers]))
"""
    done = project.python(code)
    assert done.returncode == 0, show(done)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [1] * 20
