"""Governance: the questions production asks that no test answers (who owns it, who answers for it, how it
is measured, what happens when it is wrong). Read from OWNERSHIP.yaml (written by ``shipyard adopt``)."""

from __future__ import annotations

from datetime import date, datetime

from ..facts import Evidence
from ._common import OWNERSHIP_FIX, ci_tests, cmd, owner_ok, search_all, source_code
from .inputs import Repo, Workflow, YamlDoc, in_ci, is_placeholder
from .registry import Outcome, check, failed, partial, passed

F = "governance"
NO_FILE = "no OWNERSHIP.yaml"
MAX_REVIEW_DAYS = 90


def dotted(keys: tuple[object, ...]) -> str:
    """``("owners", "data", 0, "name")`` -> ``owners.data[0].name``."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def _pairs(doc: YamlDoc, *groups: tuple[object, ...]) -> tuple[list[Evidence], list[str]]:
    """Which of the key paths hold real values (evidence) and which are placeholders (their names)."""
    good: list[Evidence] = []
    bad: list[str] = []
    for keys in groups:
        ok, where = owner_ok(doc, *keys)
        (good.append(where) if ok and where else bad.append(dotted(keys)))
    return good, bad


def _graded(doc: YamlDoc | None, what: str, groups: list[tuple[object, ...]], fix: str) -> Outcome:
    if doc is None:
        return failed(NO_FILE, fix=OWNERSHIP_FIX)
    good, bad = _pairs(doc, *groups)
    if not bad:
        return passed(f"{what}: all set", *good)
    if good:  # the placeholders first: the first evidence is where a report (SARIF) points
        todo = [doc.evidence(*keys) for keys in groups if dotted(keys) in bad]
        return partial(f"{what}: still a placeholder: {', '.join(bad)}", *todo, *good, fix=fix)
    return failed(f"{what}: not filled in ({', '.join(bad)})", doc.evidence(*groups[0]), fix=fix)


@check("gov-owners", family=F, title="A named business owner and technical owner")
def owners(ownership: YamlDoc | None) -> Outcome:
    """OWNERSHIP.yaml names a real business owner and technical owner, with a way to reach each (not placeholders)."""
    return _graded(ownership, "owners", [("owners", "business", "name"), ("owners", "business", "email"),
                                         ("owners", "technical", "name"), ("owners", "technical", "email")],
                   "fill owners.business and owners.technical in OWNERSHIP.yaml")


@check("gov-process", family=F, title="The process the model changes, and its owner")
def process(ownership: YamlDoc | None) -> Outcome:
    """OWNERSHIP.yaml says which business process the model changes and who owns that process."""
    return _graded(ownership, "business process", [("business_process", "name"), ("business_process", "owner")],
                   "fill business_process.name and business_process.owner in OWNERSHIP.yaml")


@check("gov-data-owner", family=F, title="The data source and its owner")
def data_owner(ownership: YamlDoc | None) -> Outcome:
    """Each dataset the model reads has a named source and an owner who keeps it clean."""
    if ownership is None:
        return failed(NO_FILE, fix=OWNERSHIP_FIX)
    entries = ownership.get("owners", "data", default=[]) or []
    if not isinstance(entries, list) or not entries:
        return failed("no data owners listed", ownership.evidence("owners", "data"),
                      fix="list each dataset with its source and owner under owners.data in OWNERSHIP.yaml")
    groups = [g for i in range(len(entries)) for g in (("owners", "data", i, "name"), ("owners", "data", i, "email"),
                                                       ("owners", "data", i, "source"))]
    return _graded(ownership, "data owners", groups, "fill owners.data[].name, email and source in OWNERSHIP.yaml")


@check("gov-accountable", family=F, title="Who is accountable for a wrong answer")
def accountable(ownership: YamlDoc | None) -> Outcome:
    """OWNERSHIP.yaml names who answers for a wrong prediction and how a wrong answer is reported and corrected."""
    return _graded(ownership, "accountability", [("accountability", "wrong_answer"), ("accountability", "report_to")],
                   "fill accountability.wrong_answer and accountability.report_to in OWNERSHIP.yaml")


@check("gov-escalation", family=F, title="An escalation path with response times")
def escalation(ownership: YamlDoc | None) -> Outcome:
    """The escalation path lists who is contacted, in order, each with a reachable contact and a response time."""
    if ownership is None:
        return failed(NO_FILE, fix=OWNERSHIP_FIX)
    levels = ownership.get("escalation", default=[]) or []
    if not isinstance(levels, list) or not levels:
        return failed("no escalation path", ownership.evidence("escalation"),
                      fix="list escalation levels with contact and response_time in OWNERSHIP.yaml")
    groups = [g for i in range(len(levels)) for g in (("escalation", i, "contact"), ("escalation", i, "response_time"))]
    return _graded(ownership, "escalation", groups, "fill each escalation level's contact and response_time")


@check("gov-success-metrics", family=F, title="Success metrics with 30/60/90-day targets and who reports them")
def success_metrics(ownership: YamlDoc | None) -> Outcome:
    """Success metrics are declared before deployment with targets for day 30, 60 and 90 and a person who reports them."""
    if ownership is None:
        return failed(NO_FILE, fix=OWNERSHIP_FIX)
    tracked = ownership.get("success_metrics", "tracked", default=None)
    if not isinstance(tracked, list) or not tracked:
        milestones = ownership.get("success_metrics", "milestones", default=None)
        if milestones:
            return partial("30/60/90-day milestones are written as goals, with no measurable targets",
                           ownership.evidence("success_metrics", "milestones"),
                           fix="declare success_metrics.tracked with target_30/60/90 and reported_by "
                               "(shipyard update brings the current OWNERSHIP.yaml layout)")
        return failed("no success metrics", ownership.evidence("success_metrics"),
                      fix="declare success_metrics.tracked in OWNERSHIP.yaml")
    groups = [g for i in range(len(tracked)) for g in (
        ("success_metrics", "tracked", i, "target_30"), ("success_metrics", "tracked", i, "target_60"),
        ("success_metrics", "tracked", i, "target_90"), ("success_metrics", "tracked", i, "reported_by"))]
    return _graded(ownership, "success metrics", groups,
                   "give every tracked metric target_30, target_60, target_90 and reported_by")


@check("gov-weekly-report", family=F, title="The success metrics are measured every week")
def weekly_report(repo: Repo, workflows: list[Workflow]) -> Outcome:
    """A scheduled job produces the usage and success-metric report every week and keeps it."""
    job = in_ci(workflows, cmd("report"), scheduled=True)
    if job:
        return passed("a scheduled job writes the report", job)
    command = search_all(repo, source_code(repo), r"add_parser\(\s*[\"']report[\"']|[\"']report[\"']\s*:|def report\(")
    if command:
        return partial("the report can be produced, but nothing runs it on a schedule", command,
                       fix="run `python -m <package> report --since 7d` weekly (the generated monitor.yml)")
    return failed("nobody measures the success metrics after launch",
                  fix="shipyard adopt generates `python -m <package> report` and a weekly monitor workflow")


@check("gov-fallback", family=F, title="A fallback that is written down and exercised")
def fallback(repo: Repo, ownership: YamlDoc | None, workflows: list[Workflow]) -> Outcome:
    """What users get when the model cannot answer is written down, and a test or CI job exercises that path."""
    written, where = owner_ok(ownership, "fallback", "business_fallback")
    behaviour, how = owner_ok(ownership, "fallback", "behaviour")
    exercised = search_all(repo, repo.tests, r"fallback|503|no champion|not ready") if ci_tests(workflows) else None
    if written and behaviour and exercised:
        return passed("the fallback is written down and a CI test exercises it", where, exercised)
    if written or behaviour:
        parts = (("fallback.behaviour", behaviour), ("fallback.business_fallback", written),
                 ("a CI test that exercises it", exercised))
        missing = ", ".join(name for name, ok in parts if not ok)
        return partial(f"a fallback is written; missing: {missing}", where if written else how, exercised,
                       fix="fill fallback.business_fallback in OWNERSHIP.yaml; test the no-model path in CI")
    return failed("no fallback when the model cannot answer", where,
                  fix="write fallback.behaviour and fallback.business_fallback in OWNERSHIP.yaml")


@check("gov-rollback", family=F, title="A rollback that is written down and exercised")
def rollback_exercised(repo: Repo, ownership: YamlDoc | None, workflows: list[Workflow]) -> Outcome:
    """The rollback procedure is written down, and a test or CI job runs the rollback."""
    written, where = owner_ok(ownership, "rollback", "procedure")
    exercised = (search_all(repo, repo.tests, r"rollback") if ci_tests(workflows) else None) or in_ci(
        workflows, cmd("rollback"))
    if written and exercised:
        return passed("the rollback is written down and exercised", where, exercised)
    if written:
        return partial("the rollback is written down, never exercised", where,
                       fix="add a test that rolls back (the generated test_training.py) and run it in CI")
    return failed("no rollback procedure", where, fix="write rollback.procedure in OWNERSHIP.yaml")


@check("gov-month-18", family=F, title="An owner for month 18 and a maintenance budget")
def month_18(ownership: YamlDoc | None) -> Outcome:
    """Somebody is named to own the model after the launch team moves on, with a budget line for its upkeep."""
    return _graded(ownership, "maintenance", [("maintenance", "owner_month_18"), ("maintenance", "budget")],
                   "fill maintenance.owner_month_18 and maintenance.budget in OWNERSHIP.yaml")


@check("gov-review-date", family=F, title="A review date that is not stale")
def review_date(ownership: YamlDoc | None, today: date) -> Outcome:
    """OWNERSHIP.yaml has a review date that has not passed and is at most 90 days ahead."""
    if ownership is None:
        return failed(NO_FILE, fix=OWNERSHIP_FIX)
    value = ownership.get("review_date")
    where = ownership.evidence("review_date")
    if is_placeholder(value):
        return failed("review_date is not set", where, fix="set review_date (YYYY-MM-DD, at most 90 days ahead)")
    try:
        # YAML reads `2025-06-30 09:00` as a datetime, which cannot be compared with a date
        when = value.date() if isinstance(value, datetime) else value if isinstance(value, date) else \
            date.fromisoformat(str(value).strip())
    except ValueError:
        return failed(f"review_date {value!r} is not a date", where, fix="write it as YYYY-MM-DD")
    if when < today:
        return failed(f"review_date {when.isoformat()} has passed ({(today - when).days} days ago)", where,
                      fix="review OWNERSHIP.yaml, MODEL_CARD.md and the metrics, then move review_date ahead")
    if (when - today).days > MAX_REVIEW_DAYS:
        return partial(f"review_date {when.isoformat()} is {(when - today).days} days ahead: nobody reviews that "
                       "far out", where, fix=f"set it at most {MAX_REVIEW_DAYS} days ahead and keep moving it")
    return passed(f"next review on {when.isoformat()}", where)
