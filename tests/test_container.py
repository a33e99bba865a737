"""The generated Dockerfile, built and run for real with podman (opt-in: `make container-test`).

Adopts the bundled example, plants files that must stay out of the build context (secrets, data,
local MLflow stores) at several depths, trains and promotes a model into the embedded sqlite
registry, builds the generated Dockerfile on a locally made Python base image
(scripts/container_base.sh; base images cannot be pulled here) and checks the container:
`/health` answers, the champion loads from the mounted registry, the process is not root, and none
of the planted files (by name, or by a canary string in their content) is in the image.

Skipped, with the reason, when podman or the local base image is missing. SHIPYARD_CONTAINER_TEST=1
(set by `make container-test`) makes it mandatory: then a missing podman or base image fails.
SHIPYARD_CONTAINER_TEST=0 skips it even where podman is available.

Offline build: the Dockerfile runs `pip install`. The build gets no network (`--network none`);
instead the host builds a wheelhouse of the project's dependencies (with the host's own pip
configuration, index or mirror) and the build sees it through volumes: the wheelhouse at /wheels
and a pip.conf with `no-index` + `find-links = /wheels` at /etc/pip.conf. Build volumes are not
committed, so neither ends up in the image.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from conftest import adopt_json, copy_example
from runtime_harness import free_port

PYTHON_VERSION = "3.11"  # the template's default python_version (copier.yml); make container-test builds it
BASE_IMAGE = os.environ.get("SHIPYARD_CONTAINER_BASE") or f"localhost/shipyard-python-base:{PYTHON_VERSION}"
SWITCH = os.environ.get("SHIPYARD_CONTAINER_TEST", "").strip()
MANDATORY = SWITCH not in ("", "0")
# This machine's podman needs runc and limits below the hard ones (its defaults exceed them).
RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
BUILD_TIMEOUT = 1200
HEALTH_DEADLINE = 120.0

pytestmark = [pytest.mark.e2e]


def _unavailable() -> str | None:
    """Why the container test cannot run here, or None."""
    if shutil.which("podman") is None:
        return "podman not installed: run make container-test"
    probe = subprocess.run(["podman", "image", "exists", BASE_IMAGE], capture_output=True, text=True)
    if probe.returncode != 0:
        detail = probe.stderr.strip()
        return f"no local base image {BASE_IMAGE}{f' ({detail})' if detail else ''}: run make container-test"
    return None


def podman(*args: str | Path, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["podman", *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(map(str, args))} failed ({done.returncode}):\n"
                             f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def _http(method: str, url: str, body: object | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _plant(root: Path, package: str, canary: str) -> dict[str, Path]:
    """Files the .dockerignore must keep out, at the top, in contracts/ (copied into the runtime image
    wholesale) and in src/<pkg>/ (copied into the builder and packed into the wheel)."""
    rels = [
        ".env", f"src/{package}/.env", "contracts/.env", "contracts/.env.production",
        "deploy-key.pem", f"src/{package}/tls/server.pem", "contracts/signing.pem",
        "credentials.json", f"src/{package}/credentials.json", "contracts/gcp-credentials.json",
        ".aws/credentials", f"src/{package}/.aws/credentials",
        "contracts/mlflow.db", f"src/{package}/mlflow.db",
        "mlruns/0/meta.yaml", f"src/{package}/mlruns/0/meta.yaml", "contracts/mlruns/0/meta.yaml",
        "data/raw/holdout-2024.csv", f"src/{package}/lookup-table.csv", "contracts/sample-rows.csv",
    ]
    planted = {}
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{canary} {rel}\n", encoding="utf-8")
        planted[rel] = path
    return planted


def _wheelhouse(project: Path, package: str, dest: Path) -> Path:
    """The project's dependencies and build backend as wheels, fetched by the host's pip."""
    requires = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(dest), str(project),
                           *requires], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    for own in dest.glob(f"{package}-*.whl"):  # the image must install the wheel it builds from its context
        own.unlink()
    return dest


def _members(image: str) -> Iterator[tuple[str, bytes | None]]:
    """(path, content of a regular file or None) of every entry of the image's filesystem."""
    container = podman("create", "--runtime", "runc", image, "true").stdout.strip()
    try:
        export = subprocess.Popen(["podman", "export", container], stdout=subprocess.PIPE)
        assert export.stdout is not None
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                handle = tar.extractfile(member) if member.isreg() else None
                name = member.name[2:] if member.name.startswith("./") else member.name.lstrip("/")
                yield "/" + name, handle.read() if handle else None
        assert export.wait(timeout=300) == 0, "podman export failed"
    finally:
        podman("rm", "-f", container, check=False)


@dataclass
class Built:
    project: Path
    package: str
    image: str
    builder: str
    container: str
    url: str
    planted: dict[str, Path]
    canary: str
    build_seconds: float
    logs_dir: Path

    def logs(self) -> str:
        done = podman("logs", self.container, check=False)
        return (done.stdout + done.stderr)[-4000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    if SWITCH == "0":
        pytest.skip("SHIPYARD_CONTAINER_TEST=0")
    reason = _unavailable()
    if reason:
        if MANDATORY:
            pytest.fail(f"SHIPYARD_CONTAINER_TEST is set but {reason}")
        pytest.skip(reason)

    work = tmp_path_factory.mktemp("container")
    repo = copy_example(work / "churn")
    package = adopt_json(repo, "--owner", "ml-team@example.org")["package"]
    dockerfile = (repo / "Dockerfile").read_text(encoding="utf-8")
    assert f"ARG BASE_IMAGE=python:{PYTHON_VERSION}-slim" in dockerfile, "the base image's Python differs from the project's"

    # Train and promote into the embedded registry (mlflow.db + mlartifacts/ in the project root).
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(PYTHONPATH=str(repo / "src"), MLFLOW_DISABLE_TELEMETRY="true", PYTHONUNBUFFERED="1")
    env.pop(f"{package.upper()}_PROJECT_ROOT", None)
    for step in (["train"], ["promote"]):
        done = subprocess.run([sys.executable, "-m", package, *step], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{step} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (repo / "mlflow.db").is_file() and (repo / "mlartifacts").is_dir()

    canary = f"SHIPYARD-CANARY-{uuid.uuid4().hex}"
    planted = _plant(repo, package, canary)

    wheels = _wheelhouse(repo, package, work / "wheels")
    pip_conf = work / "pip.conf"
    pip_conf.write_text("[global]\nno-index = true\nfind-links = /wheels\n", encoding="utf-8")
    tag = f"localhost/shipyard-container-test:{canary[-12:]}"
    builder = f"{tag}-builder"
    build = ["build", *RUN_FLAGS, "--format", "docker", "--network", "none",
             "--volume", f"{wheels}:/wheels:ro", "--volume", f"{pip_conf}:/etc/pip.conf:ro",
             "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
    started = time.monotonic()
    container = ""
    try:
        # The builder stage is tagged too: it holds the copied context (/build/src) and the wheel, and
        # tagging it lets the cleanup remove its layers.
        podman(*build, "--target", "builder", "-t", builder, repo, timeout=BUILD_TIMEOUT)
        podman(*build, "-t", tag, repo, timeout=BUILD_TIMEOUT)
        build_seconds = time.monotonic() - started

        # The registry, mounted at the paths recorded in mlflow.db. The database is read-only; MLflow
        # writes `registered_model_meta` into a local model's artifact folder when it loads it, so the
        # container gets a writable copy of mlartifacts/ (the project's own stays untouched).
        artifacts = work / "registry-artifacts"
        shutil.copytree(repo / "mlartifacts", artifacts)
        for path in [artifacts, *artifacts.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        logs = work / "pod-logs"  # the pod's emptyDir: a writable folder of its own, read here from the host
        logs.mkdir()
        logs.chmod(0o777)
        port = free_port()
        db = repo / "mlflow.db"
        container = podman(
            "run", "--detach", *RUN_FLAGS, "--name", f"shipyard-container-test-{canary[-12:]}",
            "--publish", f"127.0.0.1:{port}:8000",
            # as the generated Kubernetes pod runs it: read-only root, writable /tmp and logs only, no capabilities
            "--read-only", "--tmpfs", "/tmp:rw,mode=1777", "--volume", f"{logs}:/app/logs",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--volume", f"{db}:{db}:ro", "--volume", f"{artifacts}:{repo / 'mlartifacts'}",
            "--env", f"MLFLOW_TRACKING_URI=sqlite:///{db}",
            tag,
        ).stdout.strip()
        yield Built(repo, package, tag, builder, container, f"http://127.0.0.1:{port}", planted, canary,
                    build_seconds, logs)
    finally:
        if container:
            podman("rm", "--force", "--time", "5", container, check=False)
        podman("rmi", "--force", tag, builder, check=False, timeout=300)


def _wait(built: Built, path: str, deadline: float = HEALTH_DEADLINE) -> tuple[int, str]:
    end = time.monotonic() + deadline
    status, text = 0, ""
    while time.monotonic() < end:
        state = podman("inspect", "--format", "{{.State.Running}}", built.container, check=False).stdout.strip()
        if state != "true":
            raise AssertionError(f"the container stopped:\n{built.logs()}")
        try:
            status, text = _http("GET", built.url + path)
            if status == 200:
                return status, text
        except OSError as err:
            text = str(err)
        time.sleep(0.5)
    raise AssertionError(f"{path} not 200 within {deadline:.0f}s (last: {status} {text}):\n{built.logs()}")


def test_health_answers_and_the_champion_serves(built: Built) -> None:
    status, text = _wait(built, "/health")
    assert status == 200, text
    status, text = _wait(built, "/ready")
    assert json.loads(text)["ready"] is True, text
    with (built.project / "data" / "customers.csv").open(encoding="utf-8") as handle:
        rows = [dict(row) for _, row in zip(range(3), csv.DictReader(handle), strict=False)]
    records = []
    for row in rows:
        del row["churned"], row["customer_id"]
        records.append({k: (float(v) if k in ("monthly_charges", "total_charges") else
                            int(v) if k in ("tenure_months", "support_calls") else v) for k, v in row.items()})
    status, text = _http("POST", built.url + "/predict", {"records": records})
    assert status == 200, f"{text}\n{built.logs()}"
    assert len(json.loads(text)["predictions"]) == len(records), text
    # on the read-only root the prediction log goes to the writable logs mount, one line for this request
    log = built.logs_dir / "predictions.jsonl"
    end = time.monotonic() + 10
    while not log.is_file() and time.monotonic() < end:  # written by the log's own thread, just after the answer
        time.sleep(0.2)
    logged = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
    assert [json.loads(line)["rows"] for line in logged] == [len(records)], (logged, built.logs())


def test_the_image_healthcheck_passes(built: Built) -> None:
    _wait(built, "/health")
    done = podman("healthcheck", "run", built.container, check=False, timeout=60)
    assert done.returncode == 0, f"HEALTHCHECK failed: {done.stdout}{done.stderr}\n{built.logs()}"


def test_the_service_does_not_run_as_root(built: Built) -> None:
    _wait(built, "/health")
    uid = podman("exec", built.container, "id", "-u").stdout.strip()
    assert uid != "0" and uid == "10001", uid
    config_user = podman("image", "inspect", "--format", "{{.Config.User}}", built.image).stdout.strip()
    assert config_user and not config_user.startswith(("0", "root")), config_user
    # Every process in the container (the server and its workers), not just a fresh exec.
    owners = podman("top", built.container, "user", "huser").stdout.split()[2:]
    assert owners and "root" not in owners and "0" not in owners[0::2], owners


@pytest.mark.parametrize("stage", ["runtime", "builder"])
def test_no_excluded_file_is_in_the_image(built: Built, stage: str) -> None:
    """By content (the canary string, anywhere in the filesystem, e.g. packed into the venv) and by
    name below the places the context is copied to (/app, /build, /opt/venv)."""
    image = built.image if stage == "runtime" else built.builder
    canary = built.canary.encode()
    generic = {"meta.yaml", "credentials"}  # inside .aws/ and mlruns/, which are matched themselves
    names = {Path(rel).name for rel in built.planted} - generic | {"mlartifacts", "mlruns", ".aws", "customers.csv"}
    leaked_content, leaked_names, app_files = [], [], []
    for path, content in _members(image):
        if content is not None and canary in content:
            leaked_content.append(path)
        if path.startswith(("/app/", "/build/", "/opt/venv/")):
            if any(part in names for part in Path(path).parts):
                leaked_names.append(path)
            if path.startswith(("/app/", "/build/")):
                app_files.append(path)
    assert not leaked_content, f"planted files' content in the {stage} image: {leaked_content}"
    assert not leaked_names, f"excluded files in the {stage} image: {leaked_names}"
    if stage == "runtime":  # the checks above looked at the right place
        assert "/app/OWNERSHIP.yaml" in app_files and any(p.startswith("/app/contracts/") for p in app_files)
    else:
        assert any(p.startswith(f"/build/src/{built.package}/") for p in app_files), app_files[:20]
