"""ML Test Score, section 2: tests for model development (Breck et al., 2017)."""

from __future__ import annotations

from pathlib import Path

from ._common import OWNERSHIP_FIX, ci_tests, cmd, filled_section, owner_ok, search_all, source_code
from .inputs import Repo, Workflow, YamlDoc, first, in_ci
from .registry import Outcome, check, failed, partial, passed

F = "model"


@check("model-1", family=F, title="Model specs are reviewed and submitted")
def reviewed(root: Path, repo: Repo, workflows: list[Workflow]) -> Outcome:
    """The model's code is in version control, changes go through review (CODEOWNERS) and CI runs on pull requests."""
    if not any((folder / ".git").exists() for folder in (root, *root.parents)):  # a monorepo folder counts
        return failed("the folder is not a git repository", fix="git init; commit the notebooks and the code")
    owners = next((p for p in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS") if repo.exists(p)), None)
    on_pr = first(wf.find(r"pull_request\b|merge_request") for wf in workflows if wf.on_change)
    if owners and on_pr:
        return passed("changes are reviewed by CODEOWNERS and checked by CI on pull requests",
                      repo.find(owners, r"\S"), on_pr)
    return partial("the code is in git, but reviews are not enforced" + ("" if owners else " (no CODEOWNERS)"),
                   repo.find(owners, r"\S") if owners else None,
                   fix="shipyard adopt writes CODEOWNERS and a CI workflow that runs on pull requests")


@check("model-2", family=F, title="Offline and online metrics correlate")
def offline_online(ownership: YamlDoc | None, workflows: list[Workflow]) -> Outcome:
    """The offline metric is tied to a business metric that is measured online, on a schedule."""
    metric, where = owner_ok(ownership, "success_metrics", "business", 0, "metric")
    weekly = in_ci(workflows, cmd("report"), scheduled=True)
    if metric and weekly:
        return passed("a business metric is declared and the weekly report measures it online", where, weekly)
    if metric or weekly:
        return partial("only half of the link between offline and online metrics exists", where, weekly,
                       fix="declare the business KPI in OWNERSHIP.yaml success_metrics and run "
                           "`python -m <package> report` weekly (the generated monitor.yml does)")
    return failed("no online metric is tied to the model's offline metric", where,
                  fix=OWNERSHIP_FIX + " (success_metrics.business)")


@check("model-3", family=F, title="All hyperparameters have been tuned")
def tuned(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A hyperparameter search (grid, random, Bayesian) chose the model's settings, and training re-runs it."""
    pattern = (r"GridSearchCV|RandomizedSearchCV|HalvingGridSearchCV|HalvingRandomSearchCV|BayesSearchCV|\boptuna\b|"
               r"\bhyperopt\b|keras_tuner|ray\.tune|from ray import tune")
    found = search_all(repo, repo.code, pattern)
    if found is None:
        return failed("no hyperparameter search found",
                      fix="tune the model's settings (e.g. GridSearchCV) in the training notebook or code")
    trained = in_ci(workflows, cmd("train"))
    if trained:
        return passed("a hyperparameter search is part of the training CI runs", found, trained)
    return partial("a hyperparameter search was run by hand", found,
                   fix="train in CI or on a schedule (the generated train.yml runs the notebook's search)")


@check("model-4", family=F, title="The impact of model staleness is known")
def staleness(ownership: YamlDoc | None, workflows: list[Workflow]) -> Outcome:
    """How fast the model ages is known: a retraining cadence and triggers are declared, and retraining is scheduled."""
    cadence, where = owner_ok(ownership, "retraining", "cadence")
    scheduled = in_ci(workflows, cmd("train") + r"|\btrain(ing)?\.py\b", scheduled=True)
    if cadence and scheduled:
        return passed("a retraining cadence is declared and scheduled", where, scheduled)
    if cadence or scheduled:
        return partial("retraining is declared or scheduled, not both", where, scheduled,
                       fix="declare retraining.cadence in OWNERSHIP.yaml and schedule the train workflow")
    return failed("nothing says how often the model must be retrained", where,
                  fix="shipyard adopt writes OWNERSHIP.yaml (retraining) and a scheduled train workflow")


@check("model-5", family=F, title="A simpler model is not better")
def simpler(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """The model is compared with a simple baseline, and promotion requires beating it."""
    code = source_code(repo)
    compared = r"DummyClassifier|DummyRegressor|baseline\w*\s*(=[^=]|\()|baseline\w*\.(metrics|score)|def \w*baseline"
    gate = search_all(repo, code, compared)  # code, not a comment that mentions a baseline
    anywhere = gate or search_all(repo, repo.notebooks, compared)
    if anywhere is None:
        return failed("the model is never compared with a simple baseline",
                      fix="the generated train command trains a baseline and promote requires beating it")
    automated = in_ci(workflows, cmd("promote", "train"))
    if gate and automated:
        return passed("training compares with a baseline and CI runs it", gate, automated)
    return partial("a baseline comparison exists but is not automated", anywhere,
                   fix="train and promote in CI (the generated train.yml)")


@check("model-6", family=F, title="Model quality is sufficient on all important data slices")
def slices(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """The primary metric is computed per important slice (segment, region, cohort), not only overall."""
    pattern = r"MetricFrame|evaluate_slices|\bslices?\b[^\n]{0,60}(metric|score|accuracy|auc|f1|rmse)|per[-_ ]segment"
    in_tests = search_all(repo, repo.tests, pattern)
    found = in_tests or search_all(repo, repo.code, pattern)
    if found is None:
        return failed("quality is only measured overall",
                      fix="compute the primary metric per important slice and fail the test when one is below "
                          "the floor")
    if in_tests and ci_tests(workflows):
        return passed("a test checks quality per slice in CI", in_tests)
    return partial("quality per slice was looked at by hand", found, fix="turn it into a test that CI runs")


@check("model-7", family=F, title="The model has been tested for considerations of inclusion")
def inclusion(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Fairness across groups is measured (fairlearn, aif360) or the model card states the groups and the limits."""
    pattern = r"fairlearn|aif360|demographic_parity|equali[sz]ed_odds|disparate_impact"
    in_tests = search_all(repo, repo.tests, pattern)
    if in_tests and ci_tests(workflows):
        return passed("a fairness test runs in CI", in_tests)
    found = in_tests or search_all(repo, repo.code, pattern)
    card = filled_section(repo, "MODEL_CARD.md", "ethic|fairness|inclusion")
    if found or card:
        return partial("inclusion was considered by hand", found, card,
                       fix="measure the metric per sensitive group with fairlearn in a test that CI runs")
    return failed("nothing shows the model was checked for inclusion",
                  fix="fill in the 'Ethical considerations' section of MODEL_CARD.md (written by shipyard adopt) "
                      "and measure fairness per group")
