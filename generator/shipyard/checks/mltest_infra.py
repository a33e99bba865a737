"""ML Test Score, section 3: tests for ML infrastructure (Breck et al., 2017)."""

from __future__ import annotations

from ._common import ci_tests, cmd, owner_ok, search_all, source_code
from .inputs import Repo, Workflow, YamlDoc, first, in_ci
from .registry import Outcome, check, failed, partial, passed

F = "infrastructure"
LOCKS = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "conda-lock.yml", "requirements.lock")


def _pinned(repo: Repo):
    for rel in LOCKS:
        if repo.exists(rel):
            return repo.find(rel, r"\S")
    pins = repo.search([p for p in repo.files if p.rsplit("/", 1)[-1].startswith("requirements")
                        and p.endswith(".txt")] + (["pyproject.toml"] if repo.exists("pyproject.toml") else []),
                       r"(?m)^\s*\"?[A-Za-z0-9_.\[\]-]+\s*==\s*[0-9]")
    return pins[0] if pins else None


@check("infra-1", family=F, title="Training is reproducible")
def reproducible(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Training fixes its random seeds and pins its dependencies, and CI retrains from that environment."""
    seed = search_all(repo, repo.code, r"random_state\s*=|np\.random\.seed|random\.seed\(|manual_seed|set_seed|"
                                       r"\bSEED\b|seed\s*=\s*\d")
    pins = _pinned(repo)
    if not seed or not pins:
        missing = " and ".join(m for m, ev in (("fixed seeds", seed), ("pinned dependencies", pins)) if not ev)
        return failed(f"training cannot be reproduced: no {missing}", seed, pins,
                      fix="set random_state/seeds; pin dependencies (a lock file or == pins; shipyard adopt carries "
                          "the notebook's pins into pyproject.toml)")
    trained = in_ci(workflows, cmd("train"))
    if trained:
        return passed("seeds and pins are set and CI retrains", seed, pins, trained)
    return partial("seeds and pins are set; nobody retrains automatically to confirm it", seed, pins,
                   fix="train in CI or on a schedule (the generated train.yml)")


@check("infra-2", family=F, title="Model specification code is unit tested")
def model_unit_tested(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Tests exercise the model code (fit, predict, the training entry point), and CI runs them."""
    found = search_all(repo, repo.tests, r"\.fit\(|\bpredict\w*\(|\btrain\w*\(|\bmodel\b")
    if found is None:
        return failed("no test touches the model code", fix="shipyard adopt generates tests/test_training.py")
    automated = ci_tests(workflows)
    if automated:
        return passed("the model code is unit tested in CI", found, automated)
    return partial("the model code has tests; CI does not run them", found, fix="run pytest in CI")


@check("infra-3", family=F, title="The ML pipeline is integration tested")
def integration_tested(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """One test or CI job runs the whole pipeline: read data, train, evaluate, register, serve."""
    in_tests = search_all(repo, repo.tests, r"train\.run\(|\brun_training\b|main\(\[\s*[\"']train|[\"']train[\"']\s*\]|"
                                            r"\bpipeline\b.*\bfit\(|trained_bundle")
    job = in_ci(workflows, cmd("train"))
    if (in_tests and ci_tests(workflows)) or job:
        return passed("the whole pipeline runs automatically", in_tests, job)
    if in_tests:
        return partial("an end-to-end test exists; CI does not run it", in_tests, fix="run pytest in CI")
    return failed("nothing runs the pipeline end to end",
                  fix="shipyard adopt generates an end-to-end training test and a train workflow")


@check("infra-4", family=F, title="Model quality is validated before attempting to serve it")
def validated_before_serving(repo: Repo, workflows: list[Workflow], ownership: YamlDoc | None) -> Outcome:
    """A promotion gate (a metric floor, beating the champion) stands between training and serving, and it is automated."""
    gate = search_all(repo, source_code(repo), r"metric_floor|def promote|champion|min(imum)?_score|quality[_ ]gate")
    floor_ok, floor = owner_ok(ownership, "model", "metric_floor")
    automated = in_ci(workflows, cmd("promote"))
    if gate and automated:
        return passed("a promotion gate runs in CI before a model can be served", gate, floor if floor_ok else None,
                      automated)
    if gate:
        return partial("a promotion gate exists and is run by hand", gate, fix="promote in the train workflow")
    return failed("any trained model can be served: no quality gate",
                  fix="the generated promote command requires the metric floor and beating the champion")


@check("infra-5", family=F, title="The model is debuggable")
def debuggable(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """The model can be run on one example (a CLI or endpoint with an input example), and a test does it."""
    entry = search_all(repo, source_code(repo), r"request-example|input_example|@app\.post\([\"']/predict|"
                                                r"def predict\(")
    test = search_all(repo, repo.tests, r"/predict|\.predict\(")
    if entry and test and ci_tests(workflows):
        return passed("single examples can be scored, and a test does it in CI", entry, test)
    if entry:
        return partial("single examples can be scored by hand", entry,
                       fix="add a test that scores one row (the generated test_service.py)")
    return failed("no way to run the model on a single example",
                  fix="shipyard adopt generates `python -m <package> request-example` and a /predict endpoint")


@check("infra-6", family=F, title="Models are canaried before serving")
def canaried(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A new model serves a small share of traffic (or shadows the champion) before it takes all of it."""
    config = [p for p in repo.files if p.endswith((".yaml", ".yml")) and not p.endswith("-lock.yaml")]
    rollout = first(wf.find(r"(?i)canary|shadow|traffic[_ -]?split|blue[-_ ]green") for wf in workflows) or \
        search_all(repo, config, r"(?m)^kind:\s*(Rollout|Canary)\b|canary", 0)
    challenger = search_all(repo, source_code(repo), r"challenger|shadow")
    if rollout:
        return passed("new models are rolled out gradually", rollout)
    if challenger:
        return partial("a new model waits as challenger before promotion; no traffic canary", challenger,
                       fix="deploy the challenger to a canary (a second Deployment or Argo Rollouts) before "
                           "promote")
    return failed("a new model takes all traffic at once",
                  fix="register new models as challenger and canary them (the generated registry flow)")


@check("infra-7", family=F, title="Serving models can be rolled back")
def rollback(repo: Repo, workflows: list[Workflow], ownership: YamlDoc | None) -> Outcome:
    """A rollback to the previous model exists, is written down, and a test or CI job exercises it."""
    code = search_all(repo, source_code(repo), r"def rollback|rollback")
    written, where = owner_ok(ownership, "rollback", "command")
    exercised = search_all(repo, repo.tests, r"rollback") if ci_tests(workflows) else None
    exercised = exercised or in_ci(workflows, cmd("rollback"))
    if code and exercised:
        return passed("rollback exists and is exercised automatically", code, exercised)
    if code or written:
        return partial("rollback exists but is never exercised", code, where if written else None,
                       fix="add a test that promotes twice, rolls back and checks the champion")
    return failed("no way to return to the previous model",
                  fix="the generated `python -m <package> rollback` moves the champion alias back")
