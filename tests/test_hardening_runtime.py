"""Hardening of a generated project's runtime, run for real: cases 18-21.

- 18: the service refuses oversized bodies (413) and malformed JSON (422) and keeps serving; it loads models
  only by registry alias or pinned version (a path, runs:/ or s3:// in the settings stops `serve`, exit 2).
- 19: a prediction log torn by SIGKILL is read back by the next start (one skipped fragment at most); a full
  disk (/dev/full) drops log records, counted in /metrics, never a prediction.
- 20: concurrent `train` runs on the embedded sqlite registry both register (or one says "registry busy",
  exit 75); promote and rollback racing leave one existing champion and a consistent event record.
- 21: an unreachable registry at `serve` start is one line and exit 69 within a bound; one that goes away
  while serving leaves the loaded model serving and /ready 200 with "registry": "unreachable".

One project is rendered and trained per fixture (baseline promoted, as in test_template_report.py); the service
runs in this process on 127.0.0.1 (uvicorn in a thread) except where a real process is the point (SIGKILL,
start-up exits).
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import http.server
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from runtime_harness import CLASSIFIER_MODULE, PYTHON, churn_data, free_port, make_project, served, show
from test_template_report import serving

pytestmark = pytest.mark.e2e

PACKAGE = "hardened_demo"
RECORD = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
EXIT_UNAVAILABLE = 69
EXIT_BUSY = 75


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The baseline trained on a sample and promoted: v1 is the champion."""
    root = tmp_path_factory.mktemp("hardening") / "hardened-demo"
    proj = make_project(root, package=PACKAGE, df=churn_data(), data_rel="data/customers.csv", target="churned",
                        module_source=CLASSIFIER_MODULE)
    for args in (("train", "--baseline", "--sample", "300"), ("promote",)):
        done = proj.run(*args)
        assert done.returncode == 0, show(done)
    assert proj.aliases()["champion"] == "1"
    return proj


@pytest.fixture(scope="module")
def package(project):
    """The generated package imported in this process (its settings find the project's root by themselves)."""
    src = str(project.root / "src")
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("MLFLOW_") or k.startswith(PACKAGE.upper() + "_")]:
            mp.delenv(key, raising=False)
        mp.syspath_prepend(src)
        yield {name: importlib.import_module(f"{PACKAGE}.{name}")
               for name in ("service", "registry", "settings", "metrics", "usage")}
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture(autouse=True)
def _default_tracking_uri():
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI: a test pointing at another store must not leak it."""
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture(scope="module")
def champion(package):
    """The champion, loaded once as the service loads it."""
    return package["registry"].load_bundle(package["settings"].Settings.load())


def settings_for(package, tmp_path: Path, **changes):
    base = package["settings"].Settings.load()
    return dataclasses.replace(base, prediction_log=tmp_path / "logs" / "predictions.jsonl", **changes)


def good(client: httpx.Client) -> dict:
    r = client.post("/predict", json={"records": [RECORD]})
    assert r.status_code == 200, r.text
    return r.json()


def metric(client: httpx.Client, name: str, labels: str = "") -> float:
    """The value of one series in /metrics (`labels` as exposed, e.g. 'status="success"'), summed over the rest."""
    total, found = 0.0, False
    for line in client.get("/metrics").text.splitlines():
        if (line.startswith(name + " ") or line.startswith(name + "{")) and labels in line:
            total, found = total + float(line.rsplit(" ", 1)[1]), True
    assert found, f"{name} {labels} not in /metrics"
    return total


# --------------------------------------------------------------------------- case 18
def test_case_18_oversized_and_malformed_bodies_get_4xx_and_the_service_keeps_serving(package, champion, tmp_path):
    settings = settings_for(package, tmp_path, max_body_bytes=64 * 1024)
    app = package["service"].create_app(champion, settings, load=False)
    with serving(app) as client:
        good(client)
        big = json.dumps({"records": [RECORD] * 4000}).encode()  # ~300 KB
        assert len(big) > settings.max_body_bytes
        r = client.post("/predict", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.headers["content-type"] == "application/json"
        assert r.json()["detail"][0]["rule"] == "size" and "MAX_BODY_MB" in r.json()["detail"][0]["message"]
        good(client)

        def chunks():  # no Content-Length: the streamed read is capped too
            for _ in range(20):
                yield b" " * 8192
            yield b'{"records": []}'

        r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        good(client)
        for body in (b"not json", b'{"records": [', b"\xff\xfe{}", b"[" * 20000, b'{"records": {"tenure": 1}}',
                     b"null", b'"records"'):
            r = client.post("/predict", content=body, headers={"content-type": "application/json"})
            assert r.status_code == 422, (body[:20], r.status_code, r.text)
            assert r.json()["detail"][0]["rule"] == "schema"
            good(client)
        assert metric(client, f"{PACKAGE}_prediction_requests_total") >= 1
    lines = [json.loads(x) for x in settings.prediction_log.read_text().splitlines()]
    assert sum(1 for x in lines if x["status"] == "invalid" and x["violations"][0]["rule"] == "size") == 2
    assert sum(1 for x in lines if x["status"] == "success") == 10


def test_case_18_max_body_mb_setting(package, monkeypatch):
    S = package["settings"]
    assert S.Settings.load().max_body_bytes == 10 * 1024 * 1024
    monkeypatch.setenv(f"{PACKAGE.upper()}_MAX_BODY_MB", "0.5")
    assert S.Settings.load().max_body_bytes == 512 * 1024


def test_case_18_nothing_in_a_request_chooses_the_model(package, champion, tmp_path):
    app = package["service"].create_app(champion, settings_for(package, tmp_path), load=False)
    with serving(app) as client:
        for extra in ({"model_uri": "/etc/passwd"}, {"model": "runs:/abc/model"}, {"model_version": "999"}):
            r = client.post("/predict?model_uri=file:///tmp/x", json={"records": [RECORD], **extra},
                            headers={"x-model-uri": "s3://bucket/model"})
            assert r.status_code == 200 and r.json()["model_version"] == champion.version == "1", r.text


@pytest.mark.parametrize("uri", ["/tmp/model.pkl", "file:///tmp/model", "runs:/0123abcd/model", "s3://bucket/model",
                                 "models:/hardened_demo", "models:/../../etc@champion", "models:/m/1/../2",
                                 "models:/m@champion extra"])
def test_case_18_serve_refuses_a_model_uri_that_is_not_an_alias_or_a_pinned_version(package, uri):
    S = package["settings"]
    with pytest.raises(ValueError, match="_MODEL_URI"):
        S.parse_model_uri(uri)


def test_case_18_serve_exits_2_on_a_path_model_uri(project, package):
    S = package["settings"]
    assert S.parse_model_uri("models:/hardened_demo@champion") == ("hardened_demo", "champion", None)
    assert S.parse_model_uri("models:/hardened_demo/3") == ("hardened_demo", None, "3")
    for uri in ("/tmp/model.pkl", "runs:/0123abcd/model", "s3://bucket/model"):
        done = project.run("serve", "--port", str(free_port()), timeout=60, **{f"{PACKAGE.upper()}_MODEL_URI": uri})
        assert done.returncode == 2, show(done)
        first = done.stderr.strip().splitlines()[0]
        assert first.startswith("error: ") and f"{PACKAGE.upper()}_MODEL_URI" in first and uri in first, show(done)
        assert "serving" not in done.stdout
    with pytest.raises(package["registry"].ProjectError) as info:  # batch predict and drift load the same way
        package["registry"].load_bundle(S.Settings.load(), uri="runs:/0123abcd/model")
    assert info.value.exit_code == 2


# --------------------------------------------------------------------------- case 19
def test_case_19_a_torn_last_line_is_mended_at_start(package, champion, tmp_path):
    usage = package["usage"]
    settings = settings_for(package, tmp_path)
    log = settings.prediction_log
    log.parent.mkdir(parents=True)
    old = {"ts": time.time() - 60, "status": "success", "model_version": "1", "rows": 1, "duration_ms": 1.0}
    log.write_text(json.dumps(old) + "\n" + json.dumps(old)[:25], encoding="utf-8")  # a record torn mid-write
    with serving(package["service"].create_app(champion, settings, load=False)) as client:
        for _ in range(3):
            good(client)
    read = usage.read_log(log)
    assert read.skipped == 1
    assert [e.status for e in read.entries] == ["success"] * 4
    assert log.read_bytes().endswith(b"\n")


def _start(project, port: int, log_file) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-m", PACKAGE, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=project.root, env=project.env(), stdout=log_file, stderr=subprocess.STDOUT)


def _wait_ready(proc: subprocess.Popen, url: str, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while True:
        assert proc.poll() is None, f"serve exited with {proc.returncode}"
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < end, "/ready not 200"
        time.sleep(0.1)


def test_case_19_sigkill_mid_stream_then_restart_leaves_a_readable_log(project, package):
    usage = package["usage"]
    log = project.root / "logs" / "predictions.jsonl"
    before = len(usage.read_log(log).entries) if log.exists() else 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(project.root / "serve-kill.log", "w") as out:
        proc = _start(project, port, out)
        try:
            _wait_ready(proc, url)
            sent = threading.Event()
            stop = threading.Event()

            def fire() -> None:  # several clients, so the kill lands while lines are being written
                with httpx.Client(base_url=url, timeout=5) as c:
                    while not stop.is_set():
                        try:
                            c.post("/predict", json={"records": [RECORD] * 50})
                            sent.set()
                        except httpx.HTTPError:
                            return

            threads = [threading.Thread(target=fire) for _ in range(4)]
            for t in threads:
                t.start()
            assert sent.wait(30)
            time.sleep(0.5)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            stop.set()
            for t in threads:
                t.join(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = usage.read_log(log)
    assert killed.skipped <= 1 and len(killed.entries) > before
    restart = time.time()
    with served(project) as url2, httpx.Client(base_url=url2, timeout=10) as client:
        for _ in range(5):
            good(client)
    after = usage.read_log(log)
    assert after.skipped == killed.skipped <= 1
    assert len([e for e in after.entries if e.ts >= restart]) == 5
    assert len(after.entries) == len(killed.entries) + 5


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_case_19_a_full_disk_drops_log_records_never_predictions(package, champion, caplog):
    settings = dataclasses.replace(package["settings"].Settings.load(), prediction_log=Path("/dev/full"))
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as info:  # a real full disk
            os.write(fd, b"x")
    finally:
        os.close(fd)
    assert info.value.errno == errno.ENOSPC
    caplog.set_level("WARNING", logger=f"{PACKAGE}.metrics")
    with serving(package["service"].create_app(champion, settings, load=False)) as client:
        for _ in range(6):
            good(client)
        assert client.post("/predict", json={"records": [{**RECORD, "tenure": "x"}]}).status_code == 422
        name = f"{PACKAGE}_prediction_log_dropped_total"
        deadline = time.monotonic() + 10
        while metric(client, name) < 7 and time.monotonic() < deadline:  # written by the log thread
            time.sleep(0.05)
        assert metric(client, name) == 7
        assert metric(client, f"{PACKAGE}_prediction_requests_total", 'status="success"') == 6
    warnings = [r for r in caplog.records if "prediction log" in r.getMessage()]
    assert len(warnings) == 1 and "No space left" in warnings[0].getMessage()  # rate-limited


# --------------------------------------------------------------------------- case 20
REGISTRY_STATE = textwrap.dedent(
    f"""\
    import json
    from mlflow import MlflowClient
    from {PACKAGE}.settings import Settings
    s = Settings.load()
    c = MlflowClient(s.tracking_uri)
    rm = c.get_registered_model(s.model_name)
    versions = sorted(int(v.version) for v in c.search_model_versions(f"name='{{s.model_name}}'"))
    aliases = {{}}
    for alias, version in rm.aliases.items():
        aliases[alias] = [str(version), str(c.get_model_version(s.model_name, str(version)).version)]
    print(json.dumps({{"versions": versions, "aliases": aliases,
                      "events": json.loads(rm.tags.get("champion_events", "[]"))}}))
    """
)


@pytest.fixture(scope="module")
def race_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("race") / "race-demo"
    return make_project(root, package=PACKAGE, df=churn_data(), data_rel="data/customers.csv", target="churned",
                        module_source=CLASSIFIER_MODULE)


def registry_state(project) -> dict:
    done = project.python(REGISTRY_STATE)
    assert done.returncode == 0, show(done)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    for alias, (version, found) in state["aliases"].items():  # every alias points at a version that exists
        assert version == found and int(version) in state["versions"], (alias, state)
    return state


def concurrently(project, *commands: tuple[str, ...], **env: str) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen([PYTHON, "-m", PACKAGE, *cmd], cwd=project.root, env=project.env(**env),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in commands]
    done = []
    for cmd, p in zip(commands, procs, strict=True):
        out, err = p.communicate(timeout=240)
        done.append(subprocess.CompletedProcess(cmd, p.returncode, out, err))
    return done


def test_case_20_two_trains_at_once_both_register_or_one_is_busy(race_project):
    runs = concurrently(race_project, ("train", "--baseline", "--sample", "200"),
                        ("train", "--baseline", "--sample", "250"))
    ok = [r for r in runs if r.returncode == 0]
    for r in runs:
        assert r.returncode in (0, EXIT_BUSY), show(r)
        if r.returncode == EXIT_BUSY:
            assert "registry busy" in r.stderr, show(r)
    assert ok, [show(r) for r in runs]
    registered = sorted(int(line.split(" version ")[1].split()[0]) for r in ok for line in r.stdout.splitlines()
                        if line.startswith("registered "))
    state = registry_state(race_project)
    assert registered == state["versions"] == list(range(1, len(ok) + 1))
    assert set(state["aliases"]) == {"challenger"}


def test_case_20_a_held_lock_makes_promote_say_registry_busy(race_project):
    lock = race_project.root / "mlflow.db.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        done = race_project.run("promote", **{f"{PACKAGE.upper()}_REGISTRY_LOCK_SECONDS": "1"})
        assert done.returncode == EXIT_BUSY, show(done)
        assert done.stderr.startswith(f"error: registry busy: another train/promote/rollback holds {lock}; try again")
        assert time.monotonic() - started < 30
    finally:
        os.close(fd)
    assert "champion" not in registry_state(race_project)["aliases"]


def test_case_20_promote_and_rollback_racing_leave_one_champion(race_project):
    done = race_project.run("promote")
    assert done.returncode == 0, show(done)
    done = race_project.run("train")  # the notebook's forest: a challenger that beats the baseline
    assert done.returncode == 0, show(done)
    before = registry_state(race_project)
    events = len(before["events"])
    actions = 0
    for _ in range(2):
        runs = concurrently(race_project, ("promote",), ("rollback",))
        for r in runs:
            assert r.returncode in (0, 1), show(r)  # refused is fine; busy, locked database or a crash is not
            actions += sum(1 for line in r.stdout.splitlines() if line.startswith(("promoted:", "rolled back:")))
        state = registry_state(race_project)
        champion = state["aliases"]["champion"][0]
        assert int(champion) in state["versions"]
        assert state["events"][-1]["version"] == champion  # the record says what the alias says
        assert len(state["events"]) == events + actions  # no promotion or rollback was lost
    assert actions >= 2


# --------------------------------------------------------------------------- case 21
def test_case_21_an_unreachable_registry_at_start_is_one_line_and_exit_69_in_bounded_time(project):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    done = project.run("serve", "--port", str(free_port()), timeout=60,
                       MLFLOW_TRACKING_URI=f"http://127.0.0.1:{port}",
                       **{f"{PACKAGE.upper()}_REGISTRY_TIMEOUT_SECONDS": "2"})
    elapsed = time.monotonic() - started
    assert done.returncode == EXIT_UNAVAILABLE, show(done)
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: registry unreachable at http://127.0.0.1:{port}: "), show(done)
    assert len(lines) <= 2 and lines[-1].startswith(("hint: ", "error: ")), show(done)
    assert "Traceback" not in done.stderr and "serving" not in done.stdout
    assert elapsed < 30, elapsed


def test_case_21_an_empty_registry_that_answers_serves_not_ready(package, tmp_path):
    settings = settings_for(package, tmp_path, tracking_uri=f"sqlite:///{tmp_path / 'empty.db'}")
    from fastapi.testclient import TestClient

    with TestClient(package["service"].create_app(settings=settings)) as client:
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["ready"] is False
        assert r.json()["registry"] == "ok" and "no `champion` version" in r.json()["reason"]


class _Registry(http.server.BaseHTTPRequestHandler):
    """The one MLflow REST call /ready's check makes, answered as a tracking server does."""

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/api/2.0/mlflow/registered-models/get"):
            body = json.dumps({"registered_model": {"name": PACKAGE, "aliases": [{"alias": "champion",
                                                                                  "version": "1"}]}}).encode()
            self.send_response(200)
        else:
            body = json.dumps({"error_code": "ENDPOINT_NOT_FOUND", "message": self.path}).encode()
            self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_case_21_a_registry_that_goes_away_keeps_the_model_serving_and_ready_says_so(package, champion, tmp_path):
    registry_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=registry_server.serve_forever, daemon=True)
    thread.start()
    uri = f"http://127.0.0.1:{registry_server.server_address[1]}"
    settings = settings_for(package, tmp_path, tracking_uri=uri, registry_check_seconds=0.2,
                            registry_timeout_seconds=1)
    assert package["registry"].probe(settings) is None

    def ready_until(client, status: str) -> dict:
        deadline = time.monotonic() + 20
        while True:
            r = client.get("/ready")
            assert r.status_code == 200, r.text
            if r.json()["registry"] == status:
                return r.json()
            assert time.monotonic() < deadline, r.json()
            time.sleep(0.1)

    try:
        with serving(package["service"].create_app(champion, settings, load=False)) as client:
            body = ready_until(client, "ok")
            assert body["ready"] is True and body["model_version"] == "1"
            good(client)
            registry_server.shutdown()
            registry_server.server_close()
            down = ready_until(client, "unreachable")
            assert down["ready"] is True and down["status"] == "ready" and down["model_version"] == "1"
            assert down["registry_error"]
            for _ in range(5):
                assert good(client)["model_version"] == "1"
    finally:
        registry_server.server_close()
    assert package["registry"].probe(settings) is not None
