"""ML Test Score, section 1: tests for features and data (Breck et al., 2017)."""

from __future__ import annotations

import re

from ..facts import Evidence
from ._common import CONTRACT_CHECK, ci_tests, cmd, search_all, section, source_code
from .inputs import Repo, Workflow, YamlDoc, in_ci
from .registry import Outcome, check, failed, partial, passed

F = "data"


@check("data-1", family=F, title="Feature expectations are captured in a schema")
def schema(repo: Repo, contracts: list[YamlDoc], workflows: list[Workflow]) -> Outcome:
    """A data contract or schema states each feature's type, range and allowed values, and CI checks the data against it."""
    contracts = [d for d in contracts if not d.error]  # one that does not parse is del-contract's finding
    artifact = contracts[0].evidence("schema") if contracts else search_all(
        repo, repo.code, r"pandera|great_expectations|tensorflow_data_validation|DataFrameSchema")
    if artifact is None:
        return failed("no schema of the features (no ODCS contract, pandera or Great Expectations suite)",
                      fix="shipyard adopt infers contracts/<dataset>.odcs.yaml from the training data")
    automated = in_ci(workflows, CONTRACT_CHECK)
    if automated:
        return passed("the features' schema is checked in CI", artifact, automated)
    return partial("a schema exists but no CI job checks the data against it", artifact,
                   fix="run `python -m <package> check-data` in CI (the generated ci.yml does)")


@check("data-2", family=F, title="All features are beneficial")
def beneficial(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Each feature's contribution is measured (permutation importance, SHAP, ablation) so useless features are dropped."""
    pattern = r"permutation_importance|feature_importances_|\bshap\b|SelectFromModel|\bRFECV?\b|mutual_info_|ablation"
    in_code = search_all(repo, source_code(repo), pattern)
    anywhere = in_code or search_all(repo, repo.notebooks, pattern)
    if anywhere is None:
        return failed("no measure of what each feature contributes",
                      fix="compute permutation importance on the hold-out split in training and log it with the "
                          "model")
    trained = in_ci(workflows, cmd("train"))
    if in_code and trained:
        return passed("feature contributions are computed by the training that CI runs", in_code, trained)
    return partial("feature contributions were measured by hand (not in the training CI runs)", anywhere,
                   fix="move the importance computation into the training code and train in CI")


@check("data-3", family=F, title="No feature's cost is too much")
def feature_cost(repo: Repo) -> Outcome:
    """The cost of each feature (latency, memory, upstream dependencies) is written down and weighed against its benefit."""
    found = search_all(repo, repo.docs + source_code(repo), r"feature[ _-]?costs?|cost (of|per) (each )?feature")
    if found is None:
        return failed("no record of what each feature costs to compute and serve",
                      fix="add a 'Feature cost' section to MODEL_CARD.md: latency, memory and upstream source "
                          "per feature")
    heading = found.path.lower().endswith(".md") and found.snippet.startswith("#")
    body = section(repo, found) if heading else ""
    if "todo" in found.snippet.lower() or (heading and (not body.strip() or re.search(r"TODO|TBD", body))):
        return failed("the feature cost section is still a TODO", found, fix="fill it in")
    benchmark = search_all(repo, repo.tests, r"feature[ _-]?cost|per[ _-]feature.*(latency|time)")
    if benchmark:
        return passed("a test measures the cost per feature", found, benchmark)
    return partial("feature costs are written down (by hand)", found,
                   fix="measure per-feature cost in a test or benchmark that CI runs")


@check("data-4", family=F, title="Features adhere to meta-level requirements")
def meta_requirements(contracts: list[YamlDoc], workflows: list[Workflow]) -> Outcome:
    """Every feature carries its meta-level status (data classification such as public or restricted) in the contract."""
    contracts = [d for d in contracts if not d.error]
    if not contracts:
        return failed("no data contract to state the features' classification",
                      fix="shipyard adopt writes contracts/<dataset>.odcs.yaml; set `classification` per property")
    total = 0
    classified: list[Evidence] = []
    for doc in contracts:
        for i, table in enumerate(doc.get("schema", default=[]) or []):
            for j, prop in enumerate((table or {}).get("properties", []) or [] if isinstance(table, dict) else []):
                total += 1
                if isinstance(prop, dict) and prop.get("classification") and "todo" not in str(
                        prop.get("classification")).lower():
                    classified.append(doc.evidence("schema", i, "properties", j, "classification"))
    if not total:
        return failed("the contract lists no properties", contracts[0].evidence("schema"))
    if len(classified) < total:
        return failed(f"{total - len(classified)} of {total} features have no `classification` in the contract",
                      *classified[:3] or [contracts[0].evidence("schema")],
                      fix="set `classification: public|internal|restricted` on every property (restricted for "
                          "personal data)")
    automated = in_ci(workflows, CONTRACT_CHECK)
    if automated:
        return passed(f"all {total} features are classified and the contract is checked in CI", classified[0],
                      automated)
    return partial(f"all {total} features are classified; no CI job checks the contract", classified[0],
                   fix="check the contract in CI (`python -m <package> check-data`)")


@check("data-5", family=F, title="The data pipeline has appropriate privacy controls")
def privacy(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """Data and secrets stay out of git and images, and a scanner guards against leaking them."""
    ignored = repo.find(".gitignore", r"(?m)^/?(data|\*\.csv|\*\.parquet)\b") if repo.exists(".gitignore") else None
    docker = repo.find(".dockerignore", r"(?m)^\**/?\.env|^/?data\b") if repo.exists(".dockerignore") else None
    scanner = in_ci(workflows, r"gitleaks|trufflehog|detect-secrets|presidio|ggshield|secret[-_ ]scan")
    if ignored and docker and scanner:
        return passed("data and secrets are ignored and a secret scanner runs in CI", ignored, docker, scanner)
    if ignored or docker:
        missing = [name for name, ev in ((".gitignore for data", ignored), (".dockerignore for data and .env",
                                                                           docker), ("a secret scanner in CI", scanner))
                   if ev is None]
        return partial(f"some privacy controls; missing: {', '.join(missing)}", ignored, docker,
                       fix="shipyard adopt writes .dockerignore and .gitignore; add gitleaks or detect-secrets to "
                           "CI")
    return failed("nothing keeps the data and secrets out of git or the image",
                  fix="ignore data/ and .env in .gitignore and .dockerignore (shipyard adopt writes both)")


@check("data-6", family=F, title="New features can be added quickly")
def new_features(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A new column goes through one automated path: the contract, the tests and training all run on every change."""
    tests = ci_tests(workflows)
    contract = in_ci(workflows, CONTRACT_CHECK, scheduled=False)
    if tests and contract:
        return passed("a change (a new feature) is tested and checked against the contract in CI", tests, contract)
    documented = search_all(repo, repo.docs, r"(add|adding|new) (a )?(feature|column)")
    if tests or contract or documented:
        return partial("part of the path for a new feature exists", tests, contract, documented,
                       fix="run the tests and the contract check on every pull request (the generated ci.yml does)")
    return failed("no tests, no contract check and no written procedure for adding a feature",
                  fix="shipyard adopt generates tests, a contract and a CI workflow that runs both")


@check("data-7", family=F, title="All input feature code is tested")
def feature_code_tested(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """The code that reads and transforms features has unit tests, and CI runs them."""
    tests = search_all(repo, repo.tests, r"def test_|class Test")
    if tests is None:
        return failed("no tests", fix="shipyard adopt generates tests/ for reading, the contract and the service")
    automated = ci_tests(workflows)
    if automated:
        return passed("feature code has tests and CI runs them", tests, automated)
    return partial("tests exist but no CI job runs them", tests, fix="run pytest in CI (the generated ci.yml does)")
