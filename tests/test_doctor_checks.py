"""Every built-in check of ``shipyard doctor`` on fixture repositories built to hit its pass, partial and fail.

Each case starts from :data:`doctor_fixtures.COMPLETE` (which passes every check) and changes a few files;
the audit runs the one check, offline. The table must hold, for each check, exactly the results its code can
return (a meta-test reads the code).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from doctor_fixtures import (
    COMPLETE,
    MODEL_CARD,
    NOTEBOOK,
    OWNERSHIP,
    REGISTRY_LATEST,
    REVIEW_DATE,
    TEMPLATE_VERSION,
    build,
    edit,
    gone,
    without,
)
from shipyard.checks import DoctorConfig, audit
from shipyard.checks.registry import Outcome, Result, all_checks

CI_YML, TRAIN_YML, MONITOR_YML = (f".github/workflows/{n}.yml" for n in ("ci", "train", "monitor"))
NO_CI, NO_TRAIN, NO_MONITOR = gone(CI_YML), gone(TRAIN_YML), gone(MONITOR_YML)
NO_TESTS = gone(*(p for p in COMPLETE if p.startswith("tests/")))
NO_WORKFLOWS = gone(*(p for p in COMPLETE if p.startswith(".github/workflows/")))
CI_NO_CHECK = without(CI_YML, "check-data")
NO_GATE = {"src/churn/registry.py": REGISTRY_LATEST}  # no promotion gate, challenger, rollback or model_info
SERVICE_UNCHECKED = without("src/churn/service.py", "validate_rows", "problems")


def _section(text: str, heading: str) -> str:
    return re.search(rf"(?ms)^## {heading}\n.*?(?=^## |\Z)", text).group(0)


FEATURE_COST, ETHICS = _section(MODEL_CARD, "Feature cost"), _section(MODEL_CARD, "Ethical considerations")
TRACKED = re.search(r"(?ms)^  tracked:\n.*?(?=^\S)", OWNERSHIP).group(0)
MILESTONES = ("  milestones:\n    - day: 30\n      goal: service live from the champion, owners filled in\n"
              "    - day: 90\n      goal: churn of contacted subscribers compared with the baseline\n")
REVIEW = f"review_date: {REVIEW_DATE}"
PAST = (date.today() - timedelta(days=3)).isoformat()
NO_FLOOR = edit("pyproject.toml", ("\n[tool.shipyard.doctor]\nfail-under = 2\n", ""))
DOCTOR_STEP = "      - run: uvx shipyard doctor --fail-under 2\n"


def own(*pairs: tuple[str, str]) -> dict[str, str]:
    return edit("OWNERSHIP.yaml", *pairs)


def todo(line: str, value: str = '"TODO: fill in"') -> tuple[str, str]:
    """An OWNERSHIP.yaml line with its value replaced by a placeholder."""
    key = line.split(":", 1)[0]
    return line + "\n", f"{key}: {value}\n"


class Case(NamedTuple):
    check: str
    result: str
    changes: Mapping[str, str | None]
    why: str
    latest: str = TEMPLATE_VERSION  # the template source's latest version, as fleet would know it


def c(check: str, result: str, changes: Mapping[str, str | None] | None = None, why: str = "complete",
      latest: str = TEMPLATE_VERSION) -> Case:
    return Case(check, result, changes or {}, why, latest)


P, PA, F, NA = "pass", "partial", "fail", "n/a"

CASES = [
    # ---- data
    c("data-1", P),
    c("data-1", PA, CI_NO_CHECK, "contract not checked in CI"),
    c("data-1", F, gone("contracts/churn.odcs.yaml"), "no contract"),
    c("data-2", P),
    c("data-2", PA, NO_TRAIN, "importance in code, training not in CI"),
    c("data-2", PA, {**without("src/churn/train.py", "importance"), "notebooks/explore.ipynb": NOTEBOOK},
      "importance only in a notebook"),
    c("data-2", F, without("src/churn/train.py", "importance"), "no importance"),
    c("data-3", P),
    c("data-3", PA, gone("tests/test_features.py"), "written, no test"),
    c("data-3", F, edit("MODEL_CARD.md", (FEATURE_COST, "")), "no section"),
    c("data-3", F, edit("MODEL_CARD.md", (FEATURE_COST, "## Feature cost\n\nTODO(human): latency per feature\n\n")),
      "section is a TODO"),
    c("data-4", P),
    c("data-4", PA, CI_NO_CHECK, "classified, not checked in CI"),
    c("data-4", F, edit("contracts/churn.odcs.yaml", ("        classification: public\n", "")), "one unclassified"),
    c("data-4", F, gone("contracts/churn.odcs.yaml"), "no contract"),
    c("data-5", P),
    c("data-5", PA, without(CI_YML, "gitleaks"), "no secret scanner"),
    c("data-5", F, {".gitignore": "__pycache__/\n", ".dockerignore": None}, "nothing ignored"),
    c("data-6", P),
    c("data-6", PA, NO_CI, "only the README procedure"),
    c("data-6", PA, CI_NO_CHECK, "tests, no contract check"),
    c("data-6", F, {**NO_CI, "README.md": None}, "nothing"),
    c("data-7", P),
    c("data-7", PA, NO_CI, "tests not in CI"),
    c("data-7", F, NO_TESTS, "no tests"),
    # ---- model
    c("model-1", P),
    c("model-1", PA, gone("CODEOWNERS"), "no CODEOWNERS"),
    c("model-1", PA, edit(CI_YML, ("  pull_request:\n", "  # pull_request: once the runners are paid for\n")),
      "pull_request commented out"),
    c("model-1", F, {".git": None}, "not a git repo"),
    c("model-2", P),
    c("model-2", PA, NO_MONITOR, "no weekly report"),
    c("model-2", PA, own(todo("    - metric: 90-day churn rate of contacted subscribers")), "KPI is a TODO"),
    c("model-2", F, {**NO_MONITOR, **own(todo("    - metric: 90-day churn rate of contacted subscribers"))},
      "neither"),
    c("model-3", P),
    c("model-3", PA, NO_TRAIN, "search not in CI"),
    c("model-3", F, without("src/churn/train.py", "GridSearchCV"), "no search"),
    c("model-4", P),
    c("model-4", PA, NO_TRAIN, "cadence, no schedule"),
    c("model-4", PA, own(todo("  cadence: monthly, on the first day (train workflow)")), "schedule, cadence TODO"),
    c("model-4", F, {**NO_TRAIN, **own(todo("  cadence: monthly, on the first day (train workflow)"))}, "neither"),
    c("model-5", P),
    c("model-5", PA, NO_TRAIN, "baseline, training not in CI"),
    c("model-5", F, without("src/churn/train.py", "baseline", "DummyClassifier"), "no baseline"),
    c("model-6", P),
    c("model-6", PA, NO_CI, "slice test not in CI"),
    c("model-6", F, gone("tests/test_quality.py"), "overall only"),
    c("model-7", P),
    c("model-7", PA, NO_CI, "fairness test not in CI"),
    c("model-7", PA, gone("tests/test_quality.py"), "model card only"),
    c("model-7", F, {**gone("tests/test_quality.py"),
                     **edit("MODEL_CARD.md", (ETHICS, "## Ethical considerations\n\n- Risks: TODO(human)\n"))},
      "card section is a TODO"),
    # ---- infrastructure
    c("infra-1", P),
    c("infra-1", P, {"uv.lock": None, "requirements.txt": "scikit-learn==1.5.2\nfastapi==0.115.4\n"}, "== pins"),
    c("infra-1", PA, NO_TRAIN, "no retraining in CI"),
    c("infra-1", F, gone("uv.lock"), "no pins"),
    c("infra-2", P),
    c("infra-2", PA, NO_CI, "tests not in CI"),
    c("infra-2", F, NO_TESTS, "no tests"),
    c("infra-3", P),
    c("infra-3", PA, {**NO_CI, **NO_TRAIN}, "end-to-end test not in CI"),
    c("infra-3", F, {**NO_TRAIN, **gone("tests/test_training.py")}, "nothing end to end"),
    c("infra-4", P),
    c("infra-4", PA, NO_TRAIN, "promote by hand"),
    c("infra-4", F, NO_GATE, "no gate"),
    c("infra-5", P),
    c("infra-5", PA, NO_CI, "test not in CI"),
    c("infra-5", F, gone("src/churn/service.py"), "no entry point"),
    c("infra-6", P),
    c("infra-6", PA, gone("deploy/rollout.yaml"), "challenger, no canary"),
    c("infra-6", F, {**gone("deploy/rollout.yaml"), **NO_GATE}, "all at once"),
    c("infra-7", P),
    c("infra-7", PA, NO_CI, "rollback test not in CI"),
    c("infra-7", PA, {**NO_GATE, **without("src/churn/__main__.py", "rollback")}, "only written down"),
    c("infra-7", F, {**NO_GATE, **without("src/churn/__main__.py", "rollback"),
                     **own(todo("  command: python -m churn rollback"))}, "none"),
    # ---- monitoring
    c("monitor-1", P),
    c("monitor-1", PA, gone(".github/dependabot.yml"), "lock, no bot"),
    c("monitor-1", F, gone(".github/dependabot.yml", "uv.lock"), "nothing"),
    c("monitor-2", P),
    c("monitor-2", PA, SERVICE_UNCHECKED, "training data only"),
    c("monitor-2", F, {**SERVICE_UNCHECKED, **CI_NO_CHECK}, "nothing checked"),
    c("monitor-3", P),
    c("monitor-3", PA, without(MONITOR_YML, "churn drift"), "PSI code, not scheduled"),
    c("monitor-3", F, {**NO_MONITOR, **gone("src/churn/drift.py")}, "never measured"),
    c("monitor-4", P),
    c("monitor-4", PA, NO_TRAIN, "age visible, no schedule"),
    c("monitor-4", F, {**NO_TRAIN, **NO_GATE, **without("src/churn/drift.py", "model_info"),
                       **own(todo("  cadence: monthly, on the first day (train workflow)"))}, "unbounded"),
    c("monitor-5", P),
    c("monitor-5", PA, without("src/churn/service.py", "finite"), "only a test checks"),
    c("monitor-5", F, {**without("src/churn/service.py", "finite"), **without("tests/test_service.py", "isfinite")},
      "never checked"),
    c("monitor-6", P),
    c("monitor-6", PA, without("src/churn/service.py", "LATENCY"), "benchmark only (np.histogram is no metric)"),
    c("monitor-6", F, {**without("src/churn/service.py", "LATENCY"),
                       **gone("tests/test_service.py", "tests/test_features.py")}, "never measured"),
    c("monitor-7", P),
    c("monitor-7", PA, NO_MONITOR, "prediction drift code, not scheduled"),
    c("monitor-7", F, {**NO_MONITOR, **gone("src/churn/drift.py")}, "never watched"),
    # ---- governance
    c("gov-owners", P),
    c("gov-owners", PA, own(todo("    email: marta.okafor@northwind-telecom.com")), "business e-mail TODO"),
    c("gov-owners", F, own(todo("    name: Marta Okafor (Retention)"), todo("    name: Jonas Berg"),
                           todo("    email: marta.okafor@northwind-telecom.com", "owner@example.com"),
                           todo("    email: jonas.berg@northwind-telecom.com", "<technical owner e-mail>")),
      "all placeholders"),
    c("gov-owners", F, gone("OWNERSHIP.yaml"), "no OWNERSHIP.yaml"),
    c("gov-process", P),
    c("gov-process", PA, own(todo("  owner: Marta Okafor (Retention)")), "owner TODO"),
    c("gov-process", F, own(todo("  owner: Marta Okafor (Retention)"),
                            todo("  name: Monthly retention-offer campaign")), "both TODO"),
    c("gov-data-owner", P),
    c("gov-data-owner", PA, own(todo("      email: priya.raman@northwind-telecom.com", "data@example.com")),
      "example.com e-mail"),
    c("gov-data-owner", F, own(("  data:\n    - name: Priya Raman\n", "  data: []\n  old:\n    - name: Priya Raman\n")),
      "no data owners"),
    c("gov-accountable", P),
    c("gov-accountable", PA, own(todo('  report_to: "#churn-model on Slack, or ml-oncall@northwind-telecom.com"')),
      "report_to TODO"),
    c("gov-accountable", F, own(("accountability:\n", "accountable:\n")), "no accountability"),
    c("gov-escalation", P, {}, "a Name <address> contact"),
    c("gov-escalation", PA, own(todo("    contact: ml-oncall@northwind-telecom.com", "<team lead e-mail>")),
      "level 2 placeholder"),
    c("gov-escalation", F, own(("escalation:\n  - level: 1\n", "escalation: []\nold_escalation:\n  - level: 1\n")),
      "no levels"),
    c("gov-success-metrics", P),
    c("gov-success-metrics", PA, own(todo("      target_90: 200", "null")), "a target is null"),
    c("gov-success-metrics", PA, own((TRACKED, MILESTONES)), "milestones without targets"),
    c("gov-success-metrics", F, own((TRACKED, "")), "nothing tracked"),
    c("gov-weekly-report", P),
    c("gov-weekly-report", PA, NO_MONITOR, "report command, not scheduled"),
    c("gov-weekly-report", F, {**NO_MONITOR, **gone("src/churn/report.py"),
                               **without("src/churn/__main__.py", '"report"')}, "no report"),
    c("gov-fallback", P),
    c("gov-fallback", PA, NO_CI, "written, the 503 test not in CI"),
    c("gov-fallback", PA, own(todo("  behaviour: Without a champion the service answers 503 on /ready and is taken "
                                   "out of rotation.")), "behaviour TODO"),
    c("gov-fallback", F, own(todo("  behaviour: Without a champion the service answers 503 on /ready and is taken "
                                  "out of rotation."),
                             todo("  business_fallback: The campaign falls back to the tenure rule (offer to "
                                  "contracts ending within 60 days).")), "both TODO"),
    c("gov-rollback", P),
    c("gov-rollback", PA, NO_CI, "rollback test not in CI"),
    c("gov-rollback", F, own(("  procedure:\n    - Run", '  procedure: "TODO: the steps"\n  old:\n    - Run')),
      "procedure TODO"),
    c("gov-month-18", P),
    c("gov-month-18", PA, own(todo("  budget: 0.2 FTE and 400 EUR/month of cloud, cost centre CA-2291", "TBD")),
      "budget TBD"),
    c("gov-month-18", F, own(("maintenance:\n", "upkeep:\n")), "no maintenance"),
    c("gov-review-date", P),
    c("gov-review-date", P, own(todo(REVIEW, f"{date.today() + timedelta(days=9)} 09:00:00")), "a datetime"),
    c("gov-review-date", F, own(todo(REVIEW, PAST)), "passed"),
    c("gov-review-date", PA, own(todo(REVIEW, (date.today() + timedelta(days=400)).isoformat())), "far ahead"),
    c("gov-review-date", F, own(todo(REVIEW)), "TODO"),
    c("gov-review-date", F, own(todo(REVIEW, "next quarter")), "not a date"),
    # ---- delivery
    c("del-container", P),
    c("del-container", PA, without("Dockerfile", "USER app"), "no USER"),
    c("del-container", PA, edit("Dockerfile", ("USER app", "USER root")), "USER root"),
    c("del-container", PA, edit("Dockerfile", ("EXPOSE 8000\n", "USER root\nRUN apt-get install -y libgomp1\n"
                                                                 "EXPOSE 8000\n")), "back to root after USER app"),
    c("del-container", PA, edit("Dockerfile", ("FROM python:3.12-slim\n", "FROM python:3.12 AS build\nUSER nobody\n"
                                                                       "FROM python:3.12-slim\n"), ("USER app\n", "")),
      "USER only in the build stage"),
    c("del-container", PA, without("Dockerfile", "HEALTHCHECK"), "no HEALTHCHECK"),
    c("del-container", F, gone("Dockerfile"), "no Dockerfile"),
    c("del-ci", P),
    c("del-ci", PA, NO_CI, "only scheduled workflows"),
    c("del-ci", PA, edit(CI_YML, ("      - run: uv run pytest -q\n", "      # - run: uv run pytest -q  (flaky)\n")),
      "pytest commented out"),
    c("del-ci", F, NO_WORKFLOWS, "no CI"),
    c("del-registry", P),
    c("del-registry", PA, NO_TRAIN, "registered by hand"),
    c("del-registry", F, {**gone("src/churn/registry.py"),
                          **edit("src/churn/train.py", (', registered_model_name="churn"', ""))}, "files only"),
    c("del-contract", P),
    c("del-contract", PA, CI_NO_CHECK, "not checked in CI"),
    c("del-contract", F, edit("contracts/churn.odcs.yaml", ("apiVersion: v3.1.0", "apiVersion: v2.2.2")), "ODCS v2"),
    c("del-contract", F, gone("contracts/churn.odcs.yaml"), "no contract"),
    c("del-contract", F, {"contracts/churn.odcs.yaml": "apiVersion: [v3\nkind: DataContract\n"}, "does not parse"),
    c("del-monitoring", P),
    c("del-monitoring", PA, NO_MONITOR, "metrics, no job"),
    c("del-monitoring", F, {**NO_MONITOR, **without("src/churn/service.py", "prometheus_client", "/metrics")},
      "nothing"),
    c("del-ownership-files", P),
    c("del-ownership-files", PA, gone("CODEOWNERS"), "no CODEOWNERS"),
    c("del-ownership-files", PA, gone("OWNERSHIP.yaml"), "no OWNERSHIP.yaml"),
    c("del-ownership-files", F, gone("OWNERSHIP.yaml", "CODEOWNERS"), "neither"),
    c("del-ownership-files", F, {"OWNERSHIP.yaml": "owners: [unclosed\nreview_date: 2030-01-01\n"}, "broken YAML"),
    c("del-template-fresh", P),
    c("del-template-fresh", P, {".copier-answers.yml": None, ".cruft.json": (
        '{"template": "https://github.com/northwind/cookiecutter-ml", "commit": "4f2a9c1", "context": '
        '{"cookiecutter": {"package_name": "churn"}}}')}, "cruft", latest="4f2a9c1"),
    c("del-template-fresh", PA, {}, "behind", latest="v1.4.0"),
    c("del-template-fresh", NA, {}, "latest unknown", latest=""),
    c("del-template-fresh", F, gone(".copier-answers.yml"), "no answers file"),
    c("del-readiness-gate", P),
    c("del-readiness-gate", P, {**edit(CI_YML, (DOCTOR_STEP, "      - run: uvx shipyard doctor --format sarif\n"))},
      "floor in pyproject"),
    c("del-readiness-gate", P, {**NO_FLOOR, **edit(CI_YML, (DOCTOR_STEP, "      - run: make doctor\n")),
                                "Makefile": "doctor:\n\tuvx shipyard doctor --fail-under 2\n"}, "flag via make"),
    c("del-readiness-gate", P, {**NO_FLOOR, **edit(CI_YML, (DOCTOR_STEP, (
        "      - run: |\n          uvx shipyard doctor --format sarif \\\n            --fail-under 2\n")))},
      "flag on a continuation line"),
    c("del-readiness-gate", PA, {**NO_FLOOR, **edit(CI_YML, (DOCTOR_STEP, "      - run: uvx shipyard doctor\n"))},
      "no floor"),
    c("del-readiness-gate", F, without(CI_YML, "shipyard doctor"), "no doctor"),
    c("del-readiness-gate", F, edit(CI_YML, (DOCTOR_STEP, "      # - run: uvx shipyard doctor --fail-under 2\n")),
      "doctor commented out"),
]


def run_check(root: Path, check_id: str, latest: str = TEMPLATE_VERSION) -> Outcome:
    result = audit(root, DoctorConfig(select=(check_id,), plugins=False), offline=True,
                   known={"latest_template": latest})
    [row] = result.results
    assert row.check.id == check_id
    assert not row.error, row.outcome.message
    return row.outcome


def assert_evidence_in(root: Path, outcome: Outcome) -> None:
    """Evidence names files of the fixture, its line is inside the file and is the line it quotes."""
    for ev in outcome.evidence:
        path = root / ev.path
        assert path.is_file(), f"evidence names a missing file: {ev}"
        if ev.line is None:
            continue
        if ev.cell is not None:  # a notebook: the line of that code cell
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            source = cells[ev.cell - 1]["source"]
            lines = ("".join(source) if isinstance(source, list) else source).splitlines()
            assert cells[ev.cell - 1]["cell_type"] == "code" and lines[ev.line - 1].strip() == ev.snippet, ev
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        assert 1 <= ev.line <= len(lines), f"line {ev.line} is outside {ev.path} ({len(lines)} lines)"
        text = lines[ev.line - 1]
        # the snippet is the quoted line, or a YAML key path ("escalation.1.contact") whose last key is on it
        key = ([k for k in re.split(r"[.\[\]]", ev.snippet) if k] or [""])[-1]
        assert ev.snippet.strip() in (text.strip()[:160], "") or key.isdigit() or f"{key}:" in text, (ev, text)


@pytest.mark.parametrize("case", CASES, ids=[f"{k.check}-{k.result}-{k.why}" for k in CASES])
def test_check(case: Case, tmp_path: Path) -> None:
    root = build(tmp_path / "repo", case.changes)
    outcome = run_check(root, case.check, case.latest)
    assert outcome.result.value == case.result, outcome.message
    assert outcome.message.strip()
    if outcome.result is Result.PASS:
        assert outcome.evidence, "a pass shows where it was found"
    assert_evidence_in(root, outcome)


OUTCOME_CALLS = {"passed": "pass", "partial": "partial", "failed": "fail", "not_applicable": "n/a"}


def can_return(func, seen: set | None = None) -> set[str]:
    """The results ``func`` can return: its passed(/partial(/failed(/not_applicable( calls, and those of the
    helpers of shipyard.checks it calls (governance's _graded)."""
    seen = seen if seen is not None else {func}
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    out: set[str] = set()
    for stmt in tree.body[0].body:  # the body, not the @check(...) decorator
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            name = node.func.id
            helper = func.__globals__.get(name)
            if name in OUTCOME_CALLS:
                out.add(OUTCOME_CALLS[name])
            elif inspect.isfunction(helper) and helper.__module__.startswith("shipyard.checks") and helper not in seen:
                seen.add(helper)
                out |= can_return(helper, seen)
    return out


def test_every_check_has_a_case_for_each_result_it_can_return() -> None:
    checks, _ = all_checks(plugins=False)
    table: dict[str, set[str]] = {}
    for case in CASES:
        table.setdefault(case.check, set()).add(case.result)
    assert set(table) <= {item.id for item in checks}, "a case names an unknown check"
    returns = {item.id: can_return(item.func) for item in checks}
    assert returns["gov-owners"] == {P, PA, F}  # all three through governance's _graded
    assert returns["gov-review-date"] == {P, PA, F}
    assert returns["del-template-fresh"] == {P, PA, F, NA}
    differ = {cid: sorted(can ^ table.get(cid, set())) for cid, can in returns.items() if can != table.get(cid, set())}
    assert not differ, f"results missing from the table (or that the check cannot return), per check: {differ}"


def test_the_complete_fixture_passes_every_check(tmp_path: Path) -> None:
    root = build(tmp_path / "repo")
    result = audit(root, DoctorConfig(plugins=False), offline=True, known={"latest_template": TEMPLATE_VERSION})
    assert {r.check.id: r.outcome.result.value for r in result.results if r.outcome.result is not Result.PASS} == {}
    assert result.ml_test_score == 7.0


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("check_id", "changes", "path", "needle"), [
    ("gov-review-date", {}, "OWNERSHIP.yaml", "review_date:"),
    ("gov-review-date", own(todo(REVIEW, PAST)), "OWNERSHIP.yaml", "review_date:"),
    ("gov-escalation", own(todo("    contact: ml-oncall@northwind-telecom.com", "<team lead e-mail>")),
     "OWNERSHIP.yaml", "<team lead e-mail>"),
    ("model-2", {}, "OWNERSHIP.yaml", "- metric: 90-day churn rate"),
    ("data-4", {}, "contracts/churn.odcs.yaml", "classification: internal"),
    ("del-contract", {}, "contracts/churn.odcs.yaml", "apiVersion:"),
    ("data-1", {}, CI_YML, "check-data"),
    ("del-container", {}, "Dockerfile", "USER app"),
])
def test_evidence_points_at_the_line(check_id: str, changes: dict, path: str, needle: str, tmp_path: Path) -> None:
    root = build(tmp_path / "repo", changes)
    outcome = run_check(root, check_id)
    expected = line_of((root / path).read_text(encoding="utf-8"), needle)
    assert (path, expected) in [(e.path, e.line) for e in outcome.evidence], outcome.evidence


def test_a_partial_owner_field_points_first_at_the_placeholder(tmp_path: Path) -> None:
    root = build(tmp_path / "repo", own(todo("    email: marta.okafor@northwind-telecom.com")))
    outcome = run_check(root, "gov-owners")
    assert outcome.result is Result.PARTIAL
    first = outcome.evidence[0]
    assert (first.path, first.line) == ("OWNERSHIP.yaml", line_of((root / "OWNERSHIP.yaml").read_text(), "TODO"))


def test_fallback_names_what_is_missing(tmp_path: Path) -> None:
    root = build(tmp_path / "repo", own(todo("  behaviour: Without a champion the service answers 503 on /ready and "
                                             "is taken out of rotation.")))
    assert "fallback.behaviour" in run_check(root, "gov-fallback").message
