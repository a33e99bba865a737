"""Delivery: the pieces that take a model to production and keep it there."""

from __future__ import annotations

import re

from ._common import CONTRACT_CHECK, ci_tests, cmd, search_all, source_code
from .inputs import Repo, Workflow, YamlDoc, at, in_ci
from .registry import Outcome, check, failed, not_applicable, partial, passed

F = "delivery"


@check("del-container", family=F, title="A container image can be built")
def container(repo: Repo) -> Outcome:
    """A Dockerfile builds the service as a non-root user with a HEALTHCHECK."""
    rel = next((p for p in ("Dockerfile", "Containerfile", "docker/Dockerfile") if repo.exists(p)), None)
    if rel is None:
        return failed("no Dockerfile", fix="shipyard adopt generates a Dockerfile (non-root, HEALTHCHECK)")
    # the image runs as the last USER of the last stage: `USER app` followed by `USER root` runs as root
    text = repo.text(rel) or ""
    final = max((m.start() for m in re.finditer(r"(?im)^[ \t]*FROM\s", text)), default=0)
    users = list(re.finditer(r"(?im)^[ \t]*USER[ \t]+(\S+)", text[final:]))
    as_root = bool(users) and re.match(r"(root|0)(:|$)", users[-1].group(1), re.I) is not None
    user = at(rel, text, final + users[-1].start()) if users and not as_root else None
    health = repo.find(rel, r"(?im)^\s*HEALTHCHECK\s")
    if user and health:
        return passed("the image runs as a non-root user with a health check", user, health)
    missing = ", ".join(m for m, ev in (("a non-root USER", user), ("a HEALTHCHECK", health)) if ev is None)
    return partial(f"{rel} lacks {missing}", repo.find(rel, r"\S"), user, health,
                   fix="add them (the Dockerfile shipyard generates has both)")


@check("del-ci", family=F, title="CI runs on every change")
def ci(workflows: list[Workflow]) -> Outcome:
    """A CI workflow runs the tests on every push and pull request."""
    tests = ci_tests(workflows)
    if tests:
        return passed("CI runs the tests on every change", tests)
    if workflows:
        return partial("CI workflows exist but none runs the tests on every change", workflows[0].doc.evidence(),
                       fix="run pytest on push and pull_request (the generated ci.yml)")
    return failed("no CI", fix="shipyard adopt generates .github/workflows (or .gitlab-ci.yml with --ci gitlab)")


@check("del-registry", family=F, title="Models flow through a registry")
def registry(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Models are registered (MLflow registry with champion/challenger aliases) and CI drives registration and promotion."""
    code = search_all(repo, source_code(repo), r"set_registered_model_alias|register_model|registered_model_name")
    automated = in_ci(workflows, cmd("train", "promote"))
    if code and automated:
        return passed("models are registered and promoted by CI", code, automated)
    if code:
        return partial("models are registered by hand", code, fix="train and promote in CI (the generated "
                                                                  "train.yml)")
    logged = search_all(repo, repo.code, r"mlflow\.(log_|autolog|start_run)|joblib\.dump|pickle\.dump|save_model")
    return failed("models are saved as files, not registered" if logged else "no model registry", logged,
                  fix="shipyard adopt generates the MLflow registry flow (train, promote, rollback)")


@check("del-contract", family=F, title="A data contract in ODCS")
def contract(contracts: list[YamlDoc], workflows: list[Workflow]) -> Outcome:
    """The training data has an Open Data Contract Standard (ODCS v3) contract that CI checks."""
    if not contracts:
        return failed("no data contract", fix="shipyard adopt infers contracts/<dataset>.odcs.yaml")
    broken = [d for d in contracts if d.error or str(d.get("kind", default="")) != "DataContract"
              or not str(d.get("apiVersion", default="")).startswith("v3")]
    if broken and broken[0].error:
        return failed(f"{broken[0].path} does not parse: {broken[0].error}", broken[0].evidence(),
                      fix="fix the YAML (datacontract-cli lint shows where)")
    if broken:
        return failed(f"{broken[0].path} is not an ODCS v3 contract (apiVersion v3.x, kind DataContract)",
                      broken[0].evidence("apiVersion"), fix="validate it with datacontract-cli or regenerate it")
    automated = in_ci(workflows, CONTRACT_CHECK)
    if automated:
        return passed("an ODCS contract is checked in CI", contracts[0].evidence("apiVersion"), automated)
    return partial("an ODCS contract exists; CI does not check it", contracts[0].evidence("apiVersion"),
                   fix="run `python -m <package> check-data` in CI")


@check("del-monitoring", family=F, title="A monitoring job runs")
def monitoring(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A scheduled job checks drift and usage, and the service exports metrics."""
    job = in_ci(workflows, cmd("drift", "report") + r"|evidently|whylogs|nannyml", scheduled=True)
    metrics = search_all(repo, source_code(repo), r"prometheus_client|/metrics")
    if job:
        return passed("a scheduled monitoring job runs", job, metrics)
    if metrics:
        return partial("the service exports metrics; no scheduled monitoring job", metrics,
                       fix="the generated monitor.yml runs drift and the report on a schedule")
    return failed("nothing is monitored", fix="shipyard adopt generates metrics, drift and a monitor workflow")


@check("del-ownership-files", family=F, title="Ownership is machine-readable")
def ownership_files(repo: Repo, ownership: YamlDoc | None) -> Outcome:
    """OWNERSHIP.yaml and CODEOWNERS exist, so tools and people can find who owns what."""
    owners = next((p for p in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS") if repo.exists(p)), None)
    if ownership is not None and ownership.error:
        return failed(f"{ownership.path} does not parse: {ownership.error}", ownership.evidence(),
                      fix="fix the YAML")
    if ownership is not None and owners:
        return passed("OWNERSHIP.yaml and CODEOWNERS exist", ownership.evidence(), repo.find(owners, r"\S"))
    if ownership is not None or owners:
        return partial("one of OWNERSHIP.yaml and CODEOWNERS is missing",
                       ownership.evidence() if ownership else repo.find(owners or "", r"\S"),
                       fix="shipyard adopt writes both")
    return failed("no ownership files", fix="shipyard adopt writes OWNERSHIP.yaml and CODEOWNERS")


@check("del-template-fresh", family=F, title="The project's template is current")
def template_fresh(answers: dict, latest_template: str) -> Outcome:
    """The template version recorded in the answers file is the latest the template source offers."""
    from ..facts import Evidence

    if not answers:
        return failed("the project records no template (no .copier-answers.yml or .cruft.json)",
                      fix="shipyard adopt records the template and its version, so `shipyard update` can follow it")
    where = Evidence(path=str(answers.get("file", ".copier-answers.yml")), snippet=f"_commit: {answers.get('_commit')}")
    version = str(answers.get("_commit") or "")
    if not latest_template:
        return not_applicable("the template source's latest version cannot be known here (offline or "
                              "unreachable)", where)
    if version == latest_template:
        return passed(f"template version {version} is the latest", where)
    return partial(f"template version {version or '(none)'} is behind {latest_template}", where,
                   fix=f"shipyard update --to {latest_template}")


@check("del-readiness-gate", family=F, title="CI gates on readiness")
def readiness_gate(workflows: list[Workflow], pyproject: dict) -> Outcome:
    """CI runs `shipyard doctor` with a floor (`--fail-under`, or `fail-under` in pyproject.toml)."""
    gate = in_ci(workflows, r"shipyard\s+doctor")
    if gate is None:
        return failed("CI does not audit readiness", fix="add `shipyard doctor --format sarif` to CI (the "
                                                           "generated ci.yml does)")
    floor = pyproject.get("tool", {}).get("shipyard", {}).get("doctor", {}).get("fail-under")
    # the flag may be on a continuation line or in the make recipe CI calls: not in the gate's snippet
    if floor is None and in_ci(workflows, r"shipyard\s+doctor\b(?:[^\n]|\\\n)*--fail-under") is None:
        return partial("CI runs shipyard doctor without a floor", gate,
                       fix="set fail-under in [tool.shipyard.doctor] of pyproject.toml")
    return passed("CI runs shipyard doctor with a floor" + (f" of {floor}" if floor is not None else ""), gate)
