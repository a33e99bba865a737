"""The adopt workflow: inspect -> answers -> render (staging) -> plan -> checks -> apply -> report.

Library only: nothing here prints or prompts. :func:`prepare` does everything
up to a frozen plan with all safety checks done; :func:`execute` applies it.
The CLI shows the preview in between.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from . import __version__, gitinfo
from .answers import Flags, derive, previous_answers, recorded_answers
from .apply import Applied, apply_plan, pending_recovery, recover
from .errors import DirtyTreeError, InputFileError, NotAGitRepoError, ShipyardError, UnsafePathError
from .facts import SEVERITY_ORDER, Evidence, Finding, RepoFacts, Severity
from .plan import CRITICAL_CONFLICTS, Action, Plan, collect_staged, make_plan, unwritable
from .render import TemplateSource, parse_source, render
from .worker import Job, Worker

if TYPE_CHECKING:
    from .checks.delta import Readiness
    from .checks.runner import Audit


@dataclass(frozen=True, kw_only=True)
class AdoptOptions:
    path: Path = Path(".")
    notebook: str | None = None
    data: str | None = None
    target: str | None = None
    name: str | None = None
    owner: str | None = None
    template: str | None = None
    allow_dirty: bool = False
    model: str | None = None
    force: tuple[str, ...] = ()
    trust: bool = False
    dry_run: bool = False  # a dry run may look at a dirty tree: it writes nothing
    values: dict[str, str] = field(default_factory=dict)  # --set KEY=VALUE: any template question


@dataclass(frozen=True, kw_only=True)
class Prepared:
    root: Path
    facts: RepoFacts
    answers: dict[str, Any]
    source: TemplateSource
    template_version: str
    plan: Plan
    findings: tuple[Finding, ...]
    dirty: tuple[str, ...] = ()
    writable: bool = True  # False when prepared for a dry run (the dirty-tree check was relaxed)
    #: What the template alone rendered (no notebook module, contract or ADOPTION.md): the base of updates.
    template_files: dict[PurePosixPath, tuple[bytes, int]] = field(default_factory=dict, repr=False)
    #: ``shipyard doctor`` on the tree before and on the tree as the plan leaves it (None: not measured).
    readiness: Readiness | None = None


@dataclass(frozen=True, kw_only=True)
class AdoptResult:
    prepared: Prepared
    applied: Applied | None = None
    dry_run: bool = False
    backups: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        p = self.prepared
        f = p.facts
        return {
            "root": str(p.root),
            "package": p.answers["package_name"],
            "template": p.source.display(),
            "template_version": p.template_version,
            "shipyard_version": __version__,
            "dry_run": self.dry_run,
            "applied": self.applied is not None and bool(self.applied.written),
            "changes_nothing": p.plan.changes_nothing,
            "files": p.plan.by_action(),
            "backups": list(self.backups),
            "notebook": _choice(f.training_notebook),
            "data": _choice(f.data_file),
            "target": _choice(f.target),
            "task": f.task,
            "model": None if f.model is None else {
                "variable": f.model.variable, "class": f.model.class_name,
                "framework": f.model.framework, "where": f.model.evidence.where(),
            },
            "notebooks": [nb.path for nb in f.notebooks],
            "dependencies": list(p.answers["dependencies"]),
            "warnings": [x.to_json() for x in p.findings],
            "readiness": p.readiness.to_json() if p.readiness else None,
        }


def _choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    return {"value": choice.value, "reason": choice.reason, "flag": choice.flag,
            "candidates": list(choice.candidates)}


def _header_problems(data: str, columns: list[str]) -> list[Finding]:
    """Columns pandas had to invent: an empty header cell ('Unnamed: 3') or a repeated name ('price.1')."""
    import re

    names = set(columns)
    made_up = [c for c in columns if re.fullmatch(r"Unnamed: \d+", c)
               or (re.fullmatch(r".+\.\d+", c) and c.rsplit(".", 1)[0] in names)]
    if not made_up:
        return []
    return [Finding(code="odd-header", severity=Severity.WARNING, evidence=Evidence(path=data, line=1),
                    message=f"{data} has empty or repeated column names, read as {', '.join(made_up[:5])}: "
                            "the contract uses those names; name the columns in the file's header")]


def sorted_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda x: (SEVERITY_ORDER[x.severity], x.code, x.path or "")))


def _extras(root: Path, facts: RepoFacts, answers: dict[str, Any]) -> tuple[dict[str, str], list[Finding]]:
    """Files adopt writes besides the template: the notebook module and the data contract."""
    from .convert import notebook_to_module

    files: dict[str, str] = {}
    findings: list[Finding] = []
    pkg = answers["package_name"]
    if facts.training_notebook is not None:
        nb = facts.training_notebook.value
        refs = [ref for path, ref in facts.data_refs if path == nb]
        try:
            converted = notebook_to_module(root, nb, package=pkg, model_variable=answers["model_variable"],
                                           refs=refs)
        except Exception as exc:  # jupytext/nbformat errors on a notebook inspection accepted
            findings.append(Finding(code="notebook-not-converted", severity=Severity.ERROR,
                                    evidence=Evidence(path=nb),
                                    message=f"could not convert the notebook to a module ({type(exc).__name__}: "
                                            f"{str(exc)[:200]}): it is not a well-formed notebook; open and save "
                                            "it in Jupyter to repair it, then adopt again; train --baseline "
                                            "still works meanwhile"))
        else:
            files[f"src/{pkg}/{answers['notebook_module']}.py"] = converted.text
            findings += converted.findings
    if facts.data_file is not None:
        from .contracts import dump_contract, infer_contract
        from .datafiles import load_table

        data = facts.data_file.value
        options = dict(answers.get("read_options") or {})
        try:
            frame = load_table(root / data, options)
            findings += _header_problems(data, [str(c) for c in frame.columns])
            source = answers.get("target_source") or answers["target_column"]
            target = source if source in frame.columns else ""
            contract = infer_contract(frame, dataset_name=answers["dataset_name"], data_path=data,
                                      owner_email=answers["owner_email"],
                                      target_column=target,
                                      description=f"Training data of {answers['project_name']}",
                                      read_options=options)
            findings += _self_check(contract, frame, data)
        except ShipyardError as exc:
            findings.append(Finding(code="contract-not-inferred", severity=Severity.ERROR,
                                    evidence=Evidence(path=data), message=exc.one_line()))
        except Exception as exc:  # data pandas can read but inference cannot type (lists in JSON, ...)
            findings.append(Finding(code="contract-not-inferred", severity=Severity.ERROR,
                                    evidence=Evidence(path=data),
                                    message=f"could not infer a contract from {data} ({type(exc).__name__}: "
                                            f"{str(exc)[:150]}); write contracts/{answers['dataset_name']}"
                                            ".odcs.yaml by hand or point --data at a flat table"))
        else:
            files[f"contracts/{answers['dataset_name']}.odcs.yaml"] = dump_contract(contract)
            if not target:
                findings.append(Finding(code="target-not-in-data", severity=Severity.ERROR,
                                        evidence=Evidence(path=data),
                                        message=f"target column {answers['target_column']!r} is not a "
                                                f"column of {data} and the notebook does not derive it from one; "
                                                "rerun with --target COLUMN"))
    return files, findings


def _self_check(contract: dict[str, Any], frame: Any, data: str) -> list[Finding]:
    """The generated project's own contract checks on the data the contract was inferred from.

    They use the template's rules (the same code the project runs), so a contract that its own
    training data breaks is caught here, at adoption, not in the project's first CI run.
    """
    from .runtime import module

    rules = module("contract").Contract.from_dict(contract, source=f"contract of {data}")
    broken = rules.check_dataset(frame)
    return [Finding(code="contract-self-check", severity=Severity.ERROR, evidence=Evidence(path=data),
                    message=f"the inferred contract's rule {v.rule} on {v.column} fails on {data} itself "
                            f"({v.message}); this is a Shipyard bug: please report it, and edit the contract")
            for v in broken[:5]]


def recover_interrupted(root: Path) -> list[str]:
    """Undo the leftovers of an adopt that was killed while writing into ``root`` (see :func:`apply.recover`)."""
    if not pending_recovery(root):
        return []
    return recover(root, uncommitted=set(gitinfo.dirty_paths(root)))


def _choose_model(facts: RepoFacts, variable: str) -> RepoFacts:
    """Apply ``--model VARIABLE``: the last fit of that variable in the training notebook."""
    from .errors import UsageError
    from .facts import Choice

    notebook = facts.training_notebook.value if facts.training_notebook else ""
    fits = [fit for path, fit in facts.model_fits if path == notebook]
    chosen = [fit for fit in fits if fit.variable == variable]
    if not chosen:
        names = ", ".join(dict.fromkeys(fit.variable for fit in fits)) or "none"
        raise UsageError(f"--model {variable}: no model of that name is fitted in {notebook or 'the notebooks'}",
                         hint=f"fitted there: {names}; or pick the notebook with --notebook")
    fit = chosen[-1]
    choice = Choice(value=fit.variable, reason="given with --model", flag="--model",
                    candidates=tuple(dict.fromkeys(f.variable for f in fits)), evidence=fit.evidence)
    task = fit.task if fit.task in ("classification", "regression") else facts.task
    files = [path for saved, path in facts.model_files if saved == fit.variable]
    return replace(facts, model=fit, model_choice=choice, task=task, model_file=files[-1] if files else "")


GENERATED_MARKER = "Generated by Shipyard"


def generated_before(root: Path, recorded: dict[str, Any]) -> frozenset[str]:
    """Paths an earlier adoption generated, which inspection must not mistake for the user's code."""
    pkg = previous_answers(recorded).get("package_name")
    if not pkg:
        return frozenset()
    out = {f"src/{pkg}"}
    pyproject = root / "pyproject.toml"
    try:
        if GENERATED_MARKER in pyproject.read_text(encoding="utf-8")[:300]:
            out.add("pyproject.toml")
    except (OSError, UnicodeDecodeError):
        pass
    return frozenset(out)


def _warm_up(source: TemplateSource) -> None:
    """What rendering needs first (copier, the cached built-in template), done while the worker inspects."""
    import copier  # noqa: F401 - imported for its cost, now rather than on the critical path

    from .render import materialise_builtin

    if source.kind == "builtin":
        materialise_builtin(source.location)


def prepare(opts: AdoptOptions) -> Prepared:
    """Everything up to a checked plan. Writes nothing to the repo."""
    root = opts.path.resolve()
    if not root.is_dir():
        raise InputFileError(f"{opts.path} is not a folder", hint="give the path of your notebook repo")
    recovery: list[Finding] = []
    try:
        top = gitinfo.require_repo(root)
    except NotAGitRepoError as exc:
        if not (opts.allow_dirty or opts.dry_run):
            raise NotAGitRepoError(exc.message, hint="run 'git init && git add -A && git commit -m notebooks' "
                                   "first, so every change can be reviewed and undone; or pass --allow-dirty to "
                                   "adopt the folder as it is") from None
        top = root  # no git: nothing to review against, and no recorded base (update re-renders instead)
        recovery.append(Finding(code="no-git", severity=Severity.WARNING, message=(
            f"{root} is not a git repository: adopted as it is (--allow-dirty); nothing can be reviewed or undone "
            "with git, and `shipyard update` will re-render this version as its base. `git init` and commit to "
            "get both")))
    source = parse_source(opts.template)
    if pending_recovery(root):
        if opts.dry_run:
            recovery.append(Finding(code="interrupted-run", severity=Severity.WARNING,
                                    message="an earlier adopt was killed while writing; the next real run "
                                            "removes what it left (uncommitted, unchanged files only) first"))
        else:
            undone = recover_interrupted(root)
            recovery.append(Finding(code="interrupted-run", severity=Severity.INFO,
                                    message=f"an earlier adopt was killed while writing: undid {len(undone)} "
                                            "file(s) it had left, before planning"))
    recorded = recorded_answers(root)
    worker = Worker()
    try:
        return _prepare(opts, root, top, source, recorded, recovery, worker)
    finally:
        worker.stop()  # on any error, the worker must not outlive the command


def _audit(root: Path, repo_view: Callable[[], Any]) -> Audit | None:
    """``shipyard doctor`` of ``root`` seen as ``repo_view()`` gives it; None when it cannot be measured, since a
    readiness report must never stop an adoption."""
    from .checks import DoctorConfig, audit

    try:  # the built-in checks only: plugins are `shipyard doctor`'s business (and cost an entry-point scan)
        return audit(root, DoctorConfig(plugins=False), repo=repo_view(), offline=True)
    except Exception:  # noqa: BLE001 - ADOPTION.md then has no readiness section
        return None


def audit_without(root: str, excluded: frozenset[str]) -> Audit | None:
    """The "before" audit: the tree without ``excluded`` (module level, so the worker can run it)."""
    from .checks.inputs import Repo

    return _audit(Path(root), lambda: Repo.without(Path(root), excluded))


def _readiness(root: Path, plan: Plan, early: Job | None = None) -> Readiness | None:
    """Readiness of the user's own tree (without the files adoption writes or already wrote: a re-adoption
    measures the same "before") and of the tree as the plan leaves it. ``early``: the "before" audit of the
    whole tree, run by the worker while this process rendered; used when the plan finds nothing adoption
    already wrote (a first adoption), else measured again here without those files."""
    from .checks.delta import Readiness
    from .checks.inputs import Repo

    ours = frozenset(str(op.path) for op in plan.ops if op.action is Action.IDENTICAL)
    writes = {str(op.path): op.content for op in plan.writes() if op.action is not Action.DELETE}
    before = early.result() if early is not None and not ours else audit_without(str(root), ours)
    after = _audit(root, lambda: Repo.overlay(root, writes))
    return Readiness(before=before, after=after) if before is not None and after is not None else None


def _prepare(opts: AdoptOptions, root: Path, top: Path, source: TemplateSource, recorded: dict[str, Any],
             recovery: list[Finding], worker: Worker) -> Prepared:
    from .inspect import inspect_repo

    inspection = worker.submit(inspect_repo, root, notebook=opts.notebook, data=opts.data, target=opts.target,
                               exclude=generated_before(root, recorded))
    _warm_up(source)
    facts = inspection.result()
    if opts.model:
        facts = _choose_model(facts, opts.model)
    answers, findings = derive(facts, root, Flags(name=opts.name, owner=opts.owner, target=opts.target,
                                                     data=opts.data, notebook=opts.notebook),
                               git_email=gitinfo.user_email(root), git_name=gitinfo.user_name(root),
                               recorded=recorded)
    findings = list(facts.findings) + findings
    if opts.values:
        from .render import parse_values, template_questions

        answers = {**answers, **parse_values(opts.values, template_questions(source))}
    if top.resolve() != root:
        findings.append(Finding(
            code="subfolder-project", severity=Severity.WARNING, evidence=Evidence(path=".github/workflows"),
            message=f"the project is a subfolder of the git repo {top.name}: GitHub only reads workflows from "
                    f"the repo's top .github folder, so move them there (and adjust their paths) or adopt the top"))
    staging = Path(tempfile.mkdtemp(prefix="shipyard-stage-"))
    pending = worker.submit(_extras, root, facts, answers)
    # a first adoption's "before" is the whole tree: measured by the worker while copier renders here
    early = worker.submit(audit_without, str(root), frozenset()) if not recorded else None
    try:
        rendered = render(source, answers, staging / "render", trust=opts.trust)
        extras, extra_findings = pending.result()
        from .modernise import drop_settled  # what the module's rewrites fixed needs no hand any more

        findings = drop_settled(findings + extra_findings)
        staged = collect_staged(rendered.folder)
        template_files = dict(staged)
        package_init = PurePosixPath(f"src/{answers['package_name']}/__init__.py")
        if package_init not in staged:  # a template without the package (a cookiecutter one): no module in it
            for rel in [r for r in extras if r.startswith(f"src/{answers['package_name']}/")]:
                del extras[rel]
                findings.append(Finding(
                    code="notebook-not-converted", severity=Severity.WARNING, evidence=Evidence(path=rel),
                    message=f"template {source.display()} has no package src/{answers['package_name']}/, so the "
                            "notebook's code was not converted into one; the notebooks stay as they are"))
        for rel, text in extras.items():
            staged[PurePosixPath(rel)] = (text.encode("utf-8"), 0o644)
        plan = make_plan(root, staged, force=opts.force)
        # ADOPTION.md reports the plan itself, so it is planned last.
        from .adoption_doc import render_adoption

        readiness = _readiness(root, plan, early)
        draft = Prepared(root=root, facts=facts, answers=answers, source=source,
                         template_version=rendered.version, plan=plan, findings=sorted_findings(findings),
                         template_files=template_files, readiness=readiness)
        staged[PurePosixPath("ADOPTION.md")] = (render_adoption(draft).encode("utf-8"), 0o644)
        plan = make_plan(root, staged, force=opts.force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    adopted_from = str(recorded.get("_commit") or "")
    if adopted_from and adopted_from != rendered.version and plan.conflicts():
        findings.append(Finding(
            code="template-changed", severity=Severity.WARNING, evidence=Evidence(path=".copier-answers.yml"),
            message=f"this project was adopted from template {adopted_from}; this Shipyard renders "
                    f"{rendered.version}, so generated files you never edited show as conflicts too: merge the "
                    "new template with `shipyard update` (3-way, keeps your edits) instead of --force"))
    for op in plan.ops:
        if op.action is Action.CONFLICT:
            why = CRITICAL_CONFLICTS.get(str(op.path))
            findings.append(Finding(
                code="conflict", severity=Severity.ERROR if why else Severity.WARNING,
                evidence=Evidence(path=str(op.path)),
                message=f"{op.path}: you have a different file; kept as is"
                        + (f", but {why}" if why else "")
                        + f" (see the diff; merge by hand, or --force {op.path} overwrites it with a backup)"))
        elif op.action is Action.SKIP:
            findings.append(Finding(code="skipped", severity=Severity.WARNING, evidence=Evidence(path=str(op.path)),
                                    message=f"{op.path} not written: {op.reason}"))
    findings += recovery  # reported, but not in ADOPTION.md: it says nothing about the project
    problems = unwritable(plan)
    if problems:
        raise UnsafePathError(f"cannot write into {root}: {'; '.join(problems[:3])}",
                              hint="make those folders writable, then run again")
    dirty: tuple[str, ...] = ()
    if plan.writes():
        dirty = tuple(gitinfo.dirty_paths(root))
        if dirty and not opts.allow_dirty and not opts.dry_run:
            shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
            raise DirtyTreeError(
                f"{root} has uncommitted changes ({shown}); adopt refuses so its changes stay reviewable",
                hint="commit or stash them first, or pass --allow-dirty",
            )
        if dirty:
            findings.append(Finding(
                code="dirty-tree", severity=Severity.WARNING if opts.dry_run and not opts.allow_dirty else Severity.INFO,
                message=f"{len(dirty)} uncommitted change(s) present"
                + (" (--allow-dirty)" if opts.allow_dirty else "; a real run needs a commit first or --allow-dirty")))
    return replace(draft, plan=plan, findings=sorted_findings(findings), dirty=dirty, writable=not opts.dry_run)


def execute(prepared: Prepared, *, dry_run: bool = False) -> AdoptResult:
    """Apply a prepared plan (or not, for a dry run)."""
    if dry_run or prepared.plan.changes_nothing:
        return AdoptResult(prepared=prepared, dry_run=dry_run)
    if not prepared.writable:
        from .errors import UsageError

        raise UsageError("this plan was prepared for a dry run", hint="prepare it again without dry_run")
    import datetime as _dt

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    applied = apply_plan(prepared.plan, backup_stamp=stamp)
    _record_base(prepared)
    return AdoptResult(prepared=prepared, applied=applied, backups=applied.backups)


def _record_base(prepared: Prepared) -> None:
    """Keep the template's files that landed (not the ones you kept yours) as the base of `shipyard update`."""
    from . import base

    landed = {op.path for op in prepared.plan.ops if op.action in (Action.CREATE, Action.IDENTICAL, Action.OVERWRITE)}
    files = {rel: v for rel, v in prepared.template_files.items() if rel in landed}
    try:
        base.record(prepared.root, files, source=prepared.source.display(), version=prepared.template_version)
    except (ShipyardError, OSError, subprocess.SubprocessError):  # written; without a base, update re-renders
        pass


def adopt(opts: AdoptOptions, *, dry_run: bool = False) -> AdoptResult:
    """Library entry point: prepare and execute in one call."""
    dry_run = dry_run or opts.dry_run
    return execute(prepare(replace(opts, dry_run=dry_run)), dry_run=dry_run)
