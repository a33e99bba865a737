"""ML Test Score, section 4: monitoring tests for ML (Breck et al., 2017)."""

from __future__ import annotations

from ._common import CONTRACT_CHECK, cmd, owner_ok, search_all, source_code
from .inputs import Repo, Workflow, YamlDoc, in_ci
from .mltest_infra import LOCKS
from .registry import Outcome, check, failed, partial, passed

F = "monitoring"
SERVING = r"FastAPI\(|Flask\(|@app\.(post|route)|BentoML|bentoml|ray\.serve"


def _serving(repo: Repo) -> list[str]:
    return [p for p in source_code(repo) if repo.find(p, SERVING)]


@check("monitor-1", family=F, title="Dependency changes result in notification")
def dependency_changes(repo: Repo) -> Outcome:
    """A bot (Dependabot, Renovate) watches the dependencies and opens a change when one moves."""
    for rel in (".github/dependabot.yml", ".github/dependabot.yaml", "renovate.json", "renovate.json5",
                ".renovaterc", ".renovaterc.json", ".github/renovate.json"):
        if repo.exists(rel):
            return passed("dependency updates are watched by a bot", repo.find(rel, r"\S"))
    lock = next((rel for rel in LOCKS if repo.exists(rel)), None)
    if lock:
        return partial("dependencies are locked, but nobody is told when they change", repo.find(lock, r"\S"),
                       fix="add .github/dependabot.yml (shipyard adopt writes one)")
    return failed("nothing notices when a dependency changes", fix="shipyard adopt writes .github/dependabot.yml")


@check("monitor-2", family=F, title="Data invariants hold in training and serving inputs")
def input_invariants(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Every serving request is checked against the data contract's row rules; CI checks the training data."""
    per_request = next((e for e in (repo.find(p, r"contract|validate_rows?|violation") for p in _serving(repo)) if e),
                       None)
    training = in_ci(workflows, CONTRACT_CHECK)
    if per_request:
        return passed("each request is checked against the contract", per_request, training)
    if training:
        return partial("training data is checked in CI; serving inputs are not", training,
                       fix="check every request's rows against the contract (the generated service does)")
    return failed("no data invariant is checked", fix="shipyard adopt writes a contract, a CI check and a service "
                                                       "that validates each row")


@check("monitor-3", family=F, title="Training and serving features are not skewed")
def skew(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Serving data is compared with the training profile (PSI or similar) on a schedule."""
    job = in_ci(workflows, cmd("drift") + r"|evidently|whylogs|nannyml|\bpsi\b", scheduled=True)
    code = search_all(repo, source_code(repo), r"\bpsi\b|population stability|evidently|whylogs|nannyml|kolmogorov|ks_2samp")
    if job:
        return passed("a scheduled job compares serving data with training", job, code)
    if code:
        return partial("skew can be measured, but nothing measures it on a schedule", code,
                       fix="schedule `python -m <package> drift` (the generated monitor.yml)")
    return failed("training/serving skew is never measured", fix="shipyard adopt generates drift and monitor.yml")


@check("monitor-4", family=F, title="Models are not too stale")
def not_stale(repo: Repo, workflows: list[Workflow], ownership: YamlDoc | None) -> Outcome:
    """The served model's age is bounded: retraining is scheduled (or an alert fires on the model's age)."""
    scheduled = in_ci(workflows, cmd("train"), scheduled=True)
    alert = search_all(repo, source_code(repo), r"model_age|trained_at|model_info")
    cadence, where = owner_ok(ownership, "retraining", "cadence")
    if scheduled:
        return passed("retraining runs on a schedule", scheduled, alert)
    if alert or cadence:
        return partial("the model's age is visible or declared, but retraining is not scheduled", alert,
                       where if cadence else None, fix="schedule the train workflow")
    return failed("nothing bounds the model's age", fix="the generated train.yml retrains monthly")


@check("monitor-5", family=F, title="Models are numerically stable")
def numerically_stable(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """NaN and infinite predictions or inputs are detected: in serving on every request, or in tests."""
    serving = next((e for e in (repo.find(p, r"isfinite|isnan|isinf|nan_to_num") for p in _serving(repo)) if e), None)
    if serving:
        return passed("serving checks predictions for NaN/inf on every request", serving)
    code = search_all(repo, source_code(repo) + repo.tests, r"isfinite|isnan|isinf")
    if code:
        return partial("NaN/inf are checked somewhere, not on every prediction", code,
                       fix="check each prediction is finite in the service and count the failures")
    return failed("NaN or infinite values would pass unnoticed",
                  fix="the generated service answers 500 and counts a non-finite prediction")


@check("monitor-6", family=F, title="Computing performance has not regressed")
def computing_performance(repo: Repo) -> Outcome:
    """Latency (and throughput) is measured on every request by a metrics histogram, or at least by a benchmark."""
    # case-sensitive: np.histogram( and model.summary( are no request metric
    metric = search_all(repo, source_code(repo), r"\b(Histogram|Summary)\(|request_duration|latency_seconds", 0)
    if metric:
        return passed("request latency is measured on every request", metric)
    bench = search_all(repo, [p for p in repo.files if p.startswith(("benchmarks/", "bench/"))] + repo.tests,
                       r"latency|perf_counter|timeit|locust|requests per second")
    if bench:
        return partial("performance is measured by a benchmark, not in production", bench,
                       fix="export a Prometheus histogram of request duration (the generated service does)")
    return failed("computing performance is never measured",
                  fix="the generated service exports <app>_prediction_request_duration_seconds")


@check("monitor-7", family=F, title="Prediction quality has not regressed")
def prediction_quality(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A scheduled job watches the predictions (their drift, or the metric on fresh labelled data)."""
    job = in_ci(workflows, cmd("drift", "evaluate", "report") + r"|evidently|nannyml", scheduled=True)
    code = search_all(repo, source_code(repo), r"prediction_values|predictions?[_ ]drift|evaluate_champion")
    if job:
        return passed("a scheduled job watches prediction quality", job, code)
    if code:
        return partial("prediction drift can be computed, not on a schedule", code,
                       fix="schedule `python -m <package> drift` (the generated monitor.yml)")
    return failed("prediction quality is never watched after deployment",
                  fix="shipyard adopt generates drift on predictions and a scheduled monitor.yml")


