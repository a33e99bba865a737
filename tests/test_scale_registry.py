"""A generated project on a shared MLflow registry, for real (opt-in: `make scale-test`).

Starts PostgreSQL (initdb in a temporary folder, a free 127.0.0.1 port, password authentication) and a real
`mlflow server` on it with proxied artifacts (`--serve-artifacts --artifacts-destination <a folder only the
server is told about>`), then drives a generated project through `MLFLOW_TRACKING_URI=http://127.0.0.1:PORT`
alone: two trains at once on the empty registry both register; train, promote, rollback; promotes and
rollbacks racing from several processes leave the champion alias and `champion_events` agreeing with no
event lost; `serve` answers /ready and /predict with the champion; `predict FILE` scores in batch; the
registry's write lock (locking.py: a registered model on a server) makes a writer wait and then say busy
(exit 75) while its holder lives, and is broken with a warning once its holder is killed (SIGKILL) or has
left an expired one; with the server stopped, `serve` exits 69 within a bound.

Skipped, with the reason, when the MLflow server (full mlflow + psycopg2: `$SHIPYARD_MLFLOW_SERVER`, else
`.venv-mlflow-server/bin/mlflow` in the repository) or the PostgreSQL binaries are missing.
SHIPYARD_SCALE_TEST=1 (set by `make scale-test`) makes them mandatory: then a missing part fails.
SHIPYARD_SCALE_TEST=0 skips the module. Timings are printed (`-s`) with the prefix "scale-registry:".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from runtime_harness import CLASSIFIER_MODULE, PYTHON, REPO, Project, churn_data, free_port, make_project, served, show

SWITCH = os.environ.get("SHIPYARD_SCALE_TEST", "").strip()
MANDATORY = SWITCH not in ("", "0")
PACKAGE = "shared_demo"
LOCK = f"{PACKAGE}_shipyard_lock"
PREFIX = PACKAGE.upper()
RECORD = {"tenure": 5, "monthly_charges": 99.5, "support_calls": 3, "plan": "basic"}
EXIT_UNAVAILABLE = 69
EXIT_BUSY = 75
DB_USER, DB_PASSWORD, DB_NAME = "shipyard", "s3cret-for-the-test", "registry"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(SWITCH == "0", reason="SHIPYARD_SCALE_TEST=0")]


def _missing(reason: str):
    if MANDATORY:
        pytest.fail(f"{reason} (SHIPYARD_SCALE_TEST=1 makes this test mandatory)")
    pytest.skip(reason)


def mlflow_server() -> Path:
    found = os.environ.get("SHIPYARD_MLFLOW_SERVER") or str(REPO / ".venv-mlflow-server" / "bin" / "mlflow")
    if not os.access(found, os.X_OK):
        _missing("no MLflow server with PostgreSQL support: run make scale-test")
    return Path(found)


PG_TOOLS = ("initdb", "postgres", "pg_isready", "createdb")


def postgres_bin() -> Path:
    """The folder with PostgreSQL's server binaries (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    on_path = [Path(p).resolve().parent for p in filter(None, (shutil.which(t) for t in PG_TOOLS[:2]))]
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) + on_path:
        if all((folder / tool).is_file() for tool in PG_TOOLS):
            return folder
    _missing("no PostgreSQL binaries (initdb, postgres, pg_isready, createdb): run make scale-test")
    raise AssertionError("unreachable")


def timing(what: str, seconds: float) -> None:
    print(f"scale-registry: {what}: {seconds:.1f}s")


def wait_for(check, what: str, deadline: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    end = time.monotonic() + deadline
    while True:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: exited with {proc.returncode}\n{log.read_text()[-4000:] if log else ''}")
        if check():
            return
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline}s\n{log.read_text()[-4000:] if log else ''}")
        time.sleep(0.2)


# --------------------------------------------------------------------------- PostgreSQL + mlflow server
@dataclass
class Stack:
    uri: str  # what the project is given, and all it is given
    artifacts: Path  # the server's --artifacts-destination: the project is never told it
    server: subprocess.Popen
    server_log: Path


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    server_exe, pg = mlflow_server(), postgres_bin()
    # PostgreSQL refuses to run as root: as root, its folder belongs to the `postgres` user (pytest's tmp_path
    # is private to root, so the folder is made in the system's temp directory).
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="shipyard-scale-"))
    data, sock = base / "pgdata", base / "sock"
    sock.mkdir()
    (base / "pwfile").write_text(DB_PASSWORD + "\n", encoding="utf-8")
    if as_root:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(base / "pwfile", "postgres")
    started = time.monotonic()
    done = subprocess.run([*run_as, str(pg / "initdb"), "-D", str(data), "-U", DB_USER, f"--pwfile={base / 'pwfile'}",
                           "--auth=scram-sha-256", "-E", "UTF8"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pg_port = free_port()
    pg_log = base / "postgres.log"
    with open(pg_log, "w") as out:
        postgres = subprocess.Popen([*run_as, str(pg / "postgres"), "-D", str(data), "-p", str(pg_port),
                                     "-k", str(sock), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    pg_env = {**os.environ, "PGPASSWORD": DB_PASSWORD}
    server = None
    try:
        wait_for(lambda: subprocess.run([str(pg / "pg_isready"), "-h", "127.0.0.1", "-p", str(pg_port)],
                                        capture_output=True).returncode == 0, "postgres", 60, postgres, pg_log)
        done = subprocess.run([str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", DB_USER, DB_NAME],
                              capture_output=True, text=True, env=pg_env, timeout=60)
        assert done.returncode == 0, done.stderr
        timing("PostgreSQL initdb + start + createdb", time.monotonic() - started)

        work = base / "mlflow-server"  # the server's cwd and artifacts: nothing of the project
        work.mkdir()
        artifacts = work / "artifacts"
        port = free_port()
        server_log = work / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        started = time.monotonic()
        with open(server_log, "w") as out:
            server = subprocess.Popen(
                [str(server_exe), "server",
                 "--backend-store-uri", f"postgresql+psycopg2://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{pg_port}/{DB_NAME}",
                 "--serve-artifacts", "--artifacts-destination", str(artifacts),
                 "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, "mlflow server /health", 120, server, server_log)
        timing("mlflow server start (tables created on PostgreSQL) to /health", time.monotonic() - started)
        yield Stack(url, artifacts, server, server_log)
    finally:
        if server is not None:
            stop_group(server)
        stop_group(postgres)
        shutil.rmtree(base, ignore_errors=True)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session and what it started (mlflow's uvicorn workers, postgres's)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class RemoteProject(Project):
    """A generated project whose every command gets MLFLOW_TRACKING_URI (and nothing else about the registry)."""

    tracking_uri: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(MLFLOW_TRACKING_URI=self.tracking_uri, **extra)


@pytest.fixture(scope="module")
def project(stack, tmp_path_factory) -> RemoteProject:
    root = tmp_path_factory.mktemp("shared") / "shared-demo"
    plain = make_project(root, package=PACKAGE, df=churn_data(), data_rel="data/customers.csv", target="churned",
                         module_source=CLASSIFIER_MODULE)
    return RemoteProject(plain.root, plain.package, plain.data_file, tracking_uri=stack.uri)


REGISTRY_STATE = textwrap.dedent(
    f"""\
    import json
    from mlflow import MlflowClient
    from {PACKAGE}.settings import Settings
    s = Settings.load()
    c = MlflowClient(s.tracking_uri)
    names = sorted(m.name for m in c.search_registered_models())
    rm = c.get_registered_model(s.model_name)
    versions = []
    for mv in c.search_model_versions(f"name='{{s.model_name}}'"):
        run = c.get_run(mv.run_id)
        versions.append({{"version": int(mv.version), "source": mv.source, "artifact_uri": run.info.artifact_uri}})
    print(json.dumps({{"tracking_uri": s.tracking_uri, "names": names,
                      "aliases": {{k: str(v) for k, v in rm.aliases.items()}},
                      "versions": sorted(versions, key=lambda v: v["version"]),
                      "history": json.loads(rm.tags.get("champion_history", "[]")),
                      "events": json.loads(rm.tags.get("champion_events", "[]"))}}))
    """
)


def registry_state(project: RemoteProject) -> dict:
    done = project.python(REGISTRY_STATE)
    assert done.returncode == 0, show(done)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["tracking_uri"] == project.tracking_uri
    numbers = [v["version"] for v in state["versions"]]
    for alias, version in state["aliases"].items():  # every alias points at a version that exists
        assert int(version) in numbers, (alias, state)
    assert state["names"] == [PACKAGE], state  # no lock model left behind, nothing else listed as a model
    return state


def concurrently(project: RemoteProject, *commands: tuple[str, ...], **env: str) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen([PYTHON, "-m", PACKAGE, *cmd], cwd=project.root, env=project.env(**env),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in commands]
    done = []
    for cmd, p in zip(commands, procs, strict=True):
        out, err = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(cmd, p.returncode, out, err))
    return done


def registered(runs: list[subprocess.CompletedProcess]) -> list[int]:
    return sorted(int(line.split(" version ")[1].split()[0]) for r in runs for line in r.stdout.splitlines()
                  if line.startswith(f"registered {PACKAGE} version "))


def run(project: RemoteProject, *args: str, expect: int = 0, **env: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = project.run(*args, **env)
    assert done.returncode == expect, show(done)
    timing(" ".join(args), time.monotonic() - started)
    return done


# --------------------------------------------------------------------------- the tests, in order
def test_two_trains_at_once_on_an_empty_server_both_register_through_the_server(project, stack):
    started = time.monotonic()
    runs = concurrently(project, ("train", "--baseline", "--sample", "200"), ("train", "--baseline", "--sample", "250"))
    timing("two trains at once (both)", time.monotonic() - started)
    for r in runs:
        assert r.returncode == 0, show(r)
    assert registered(runs) == [1, 2]
    state = registry_state(project)
    assert [v["version"] for v in state["versions"]] == [1, 2]
    assert state["aliases"] == {"challenger": "2"}  # registered and aliased under the lock: the newest one
    # Artifacts went through the server (proxied), into the folder only the server was told about.
    for v in state["versions"]:
        assert v["artifact_uri"].startswith("mlflow-artifacts:/"), v
        assert v["source"].startswith("models:/"), v
    assert list(stack.artifacts.rglob("MLmodel")) and list(stack.artifacts.rglob("reference_profile.json"))
    for local in ("mlflow.db", "mlflow.db.lock", "mlartifacts", "mlruns"):
        assert not (project.root / local).exists(), local


def test_train_promote_rollback_on_the_server(project):
    run(project, "promote")  # the baseline v2 meets the floor
    run(project, "train")  # the notebook's forest: v3, beats the baseline
    done = run(project, "promote")
    assert "promoted: shared_demo v3 is now the champion (was v2)" in done.stdout
    done = run(project, "rollback")
    assert "rolled back: shared_demo champion v3 -> v2" in done.stdout
    run(project, "promote")
    state = registry_state(project)
    assert state["aliases"] == {"challenger": "3", "champion": "3"}
    assert [(e["action"], e["version"], e["from"]) for e in state["events"]] == [
        ("promote", "2", None), ("promote", "3", "2"), ("rollback", "2", "3"), ("promote", "3", "2")]


def test_promotes_and_rollbacks_racing_from_four_processes_lose_no_event(project):
    before = registry_state(project)
    events, actions = len(before["events"]), 0
    for _ in range(3):
        started = time.monotonic()
        runs = concurrently(project, ("promote",), ("rollback",), ("promote",), ("rollback",))
        timing("promote, rollback, promote, rollback at once", time.monotonic() - started)
        for r in runs:
            assert r.returncode in (0, 1), show(r)  # refused is fine; busy or a crash is not
            actions += sum(1 for line in r.stdout.splitlines() if line.startswith(("promoted:", "rolled back:")))
        state = registry_state(project)
        champion = state["aliases"]["champion"]
        assert state["events"][-1]["version"] == champion, state  # the record says what the alias says
        assert len(state["events"]) == events + actions, state  # no promotion or rollback was lost
        for earlier, later in zip(state["events"], state["events"][1:], strict=False):  # each starts where the last ended
            assert later["from"] == earlier["version"], state["events"]
    assert actions >= 3


def test_serve_and_batch_predict_with_the_champion_from_the_server(project):
    done = run(project, "promote")  # whatever the race left: v3 is the champion again (or already was)
    assert registry_state(project)["aliases"]["champion"] == "3", done.stdout
    started = time.monotonic()
    with served(project) as url:
        timing("serve start to /ready 200", time.monotonic() - started)
        ready = httpx.get(f"{url}/ready", timeout=5).json()
        assert ready["ready"] is True and ready["model_version"] == "3", ready
        r = httpx.post(f"{url}/predict", json={"records": [RECORD]}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == "3" and len(r.json()["predictions"]) == 1
    out = project.root / "scored.csv"
    done = run(project, "predict", str(project.data_file), "--output", str(out))
    assert f"scored 500 row(s) with {PACKAGE} v3" in done.stdout
    assert len(out.read_text(encoding="utf-8").splitlines()) == 501


HOLD = textwrap.dedent(
    f"""\
    import sys, time
    from {PACKAGE} import locking
    from {PACKAGE}.settings import Settings
    with locking.writing(Settings.load()):
        print("held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    """
)


def holder(project: RemoteProject, lease: float) -> subprocess.Popen:
    """Another writer, on `locking.writing`, holding the lock until told (a line on stdin)."""
    proc = subprocess.Popen([PYTHON, "-c", HOLD], cwd=project.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=project.env(**{f"{PREFIX}_REGISTRY_LOCK_LEASE_SECONDS": str(lease)}))
    assert proc.stdout.readline().strip() == "held", proc.stderr.read()
    return proc


def test_a_live_holder_makes_a_writer_wait_then_say_busy_and_its_lock_outlives_the_lease(project):
    proc = holder(project, lease=1)  # renewed every 1/3 s: never stale while its holder lives
    try:
        started = time.monotonic()
        done = project.run("rollback", **{f"{PREFIX}_REGISTRY_LOCK_SECONDS": "4"})
        elapsed = time.monotonic() - started
        assert done.returncode == EXIT_BUSY, show(done)
        assert done.stderr.startswith(f"error: registry busy: another train/promote/rollback holds {LOCK} ("), show(done)
        assert f"pid {proc.pid} (python)" in done.stderr.splitlines()[0]
        assert "hint: waited 4s" in done.stderr and "stale" not in done.stderr, show(done)
        assert 4 <= elapsed < 30, elapsed
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0 and proc.stdout.read().strip() == "released", proc.stderr.read()
    assert not proc.stderr.read()  # no renewal failed, nobody broke it
    assert registry_state(project)["aliases"]["champion"] == "3"  # released (no lock model); the busy rollback did nothing


def test_the_lock_of_a_killed_holder_is_broken_by_the_next_writer_with_a_warning(project):
    proc = holder(project, lease=3)
    proc.send_signal(signal.SIGKILL)  # no release: the lock model stays, its expiry no longer renewed
    proc.wait(timeout=10)
    killed = time.monotonic()
    done = project.run("rollback")
    waited = time.monotonic() - killed
    assert done.returncode == 0, show(done)
    assert f"WARNING: broke a stale registry lock {LOCK} held by " in done.stderr and f"pid {proc.pid}" in done.stderr
    assert "rolled back: shared_demo champion v3 -> v2" in done.stdout
    assert waited < 30, waited
    timing("rollback after SIGKILLed holder (lease 3s), breaking its lock", waited)
    assert registry_state(project)["aliases"]["champion"] == "2"


def test_a_planted_expired_lock_is_broken_at_once(project):
    code = textwrap.dedent(
        f"""\
        import time
        from mlflow import MlflowClient
        MlflowClient({project.tracking_uri!r}).create_registered_model({LOCK!r}, tags={{
            "holder": "ghost-host pid 1 (promote)", "token": "t0", "expires": str(time.time() - 5)}})
        """
    )
    done = project.python(code)
    assert done.returncode == 0, show(done)
    done = run(project, "promote", **{f"{PREFIX}_REGISTRY_LOCK_SECONDS": "5"})
    assert f"WARNING: broke a stale registry lock {LOCK} held by ghost-host pid 1 (promote) (expired " in done.stderr
    state = registry_state(project)
    assert state["aliases"]["champion"] == "3" and state["events"][-1]["action"] == "promote"


PAUSED = textwrap.dedent(
    f"""\
    import sys
    from {PACKAGE} import locking
    from {PACKAGE}.errors import ProjectError
    from {PACKAGE}.settings import Settings
    settings = Settings.load()
    with locking.writing(settings):
        print("held", flush=True)
        sys.stdin.readline()  # paused (SIGSTOP) longer than the lease meanwhile
        try:
            locking.confirm(settings)
            print("confirmed", flush=True)
        except ProjectError as exc:
            print("lost", exc.exit_code, exc.message, flush=True)
    """
)
TAKE = textwrap.dedent(
    f"""\
    from {PACKAGE} import locking
    from {PACKAGE}.settings import Settings
    with locking.writing(Settings.load()):
        print("took it", flush=True)
    """
)


def test_a_holder_paused_past_its_lease_finds_its_lock_lost_and_writes_nothing(project):
    """A pause (GC, a suspended VM, SIGSTOP here) longer than the lease: a waiter breaks the lock as stale; the
    paused holder must not then write as if it still held it (confirm() before every write)."""
    proc = subprocess.Popen([PYTHON, "-c", PAUSED], cwd=project.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=project.env(**{f"{PREFIX}_REGISTRY_LOCK_LEASE_SECONDS": "1"}))
    try:
        assert proc.stdout.readline().strip() == "held", proc.stderr.read()
        proc.send_signal(signal.SIGSTOP)
        other = subprocess.run(
            [PYTHON, "-c", TAKE], cwd=project.root, capture_output=True, text=True, timeout=120,
            env=project.env(**{f"{PREFIX}_REGISTRY_LOCK_SECONDS": "30"}))
        assert other.returncode == 0 and other.stdout.strip() == "took it", show(other)
        assert f"broke a stale registry lock {LOCK}" in other.stderr, show(other)
    finally:
        proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate("\n", timeout=60)
    assert proc.returncode == 0, (out, err)
    assert out.splitlines()[-1].startswith(f"lost {EXIT_BUSY} registry busy: the write lock {LOCK} was broken"), out
    assert registry_state(project)["names"] == [PACKAGE]  # neither left a lock model behind


CONTEND = textwrap.dedent(
    f"""\
    import os, sys, time
    from {PACKAGE} import locking
    from {PACKAGE}.settings import Settings
    settings, trace = Settings.load(), sys.argv[1]
    end, held = time.monotonic() + float(sys.argv[2]), 0
    while time.monotonic() < end:
        with locking.writing(settings):
            with open(trace, "a") as out:
                out.write(f"in {{os.getpid()}}\\n")
            time.sleep(0.05)  # held long enough that a second holder at the same time would write in between
            locking.confirm(settings)  # and the holder itself still sees the lock as its own
            with open(trace, "a") as out:
                out.write(f"out {{os.getpid()}}\\n")
            held += 1
    print(held)
    """
)


def test_five_processes_contending_for_the_lock_never_overlap_and_never_fail(project, tmp_path):
    """Mutual exclusion across processes, and no error however takes and releases interleave (a release between
    a failed create and the server's look-up of the lock used to stop a writer: "RESOURCE_DOES_NOT_EXIST")."""
    trace, seconds = tmp_path / "trace.txt", 15
    procs = [subprocess.Popen([PYTHON, "-c", CONTEND, str(trace), str(seconds)], cwd=project.root, env=project.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(5)]
    held = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0 and not err, (p.returncode, err)
        held.append(int(out.strip()))
    lines = trace.read_text(encoding="utf-8").splitlines()
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    for enter, leave in pairs:  # each holding ends before the next begins, and by the same process
        assert enter.startswith("in ") and leave == "out " + enter[3:], pairs
    assert len(pairs) == sum(held) and all(held), held
    timing(f"lock taken and released {sum(held)} times by 5 processes in", seconds)
    assert registry_state(project)["names"] == [PACKAGE]


def test_serve_exits_69_quickly_once_the_server_is_gone(project, stack):
    """Last: stops the module's server."""
    stop_group(stack.server)
    started = time.monotonic()
    done = project.run("serve", "--port", str(free_port()), timeout=90,
                       **{f"{PREFIX}_REGISTRY_TIMEOUT_SECONDS": "2"})
    elapsed = time.monotonic() - started
    assert done.returncode == EXIT_UNAVAILABLE, show(done)
    assert done.stderr.startswith(f"error: registry unreachable at {stack.uri}: "), show(done)
    assert elapsed < 30, elapsed
    timing("serve with the server stopped, to exit 69", elapsed)
