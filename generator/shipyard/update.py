"""The update workflow: recorded answers -> render base and new -> 3-way classify -> plan -> apply -> new base.

Library only: nothing here prints or prompts. :func:`prepare` renders and classifies every file and freezes
the plan (all safety checks done, nothing written); :func:`execute` applies it atomically with the same
machinery and journal as ``adopt`` and then records the new base (:mod:`shipyard.base`).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from . import base as base_store
from . import gitinfo
from .answers import previous_answers, recorded_answers
from .apply import Applied, apply_plan, pending_recovery, recover
from .errors import DirtyTreeError, InputFileError, ShipyardError, TemplateError, UnsafePathError, UsageError
from .merge import WRITING, Change, classify
from .plan import Action, FileOp, Plan, collect_staged, live_spelling, unwritable
from .render import (
    BUILTIN_TEMPLATES,
    TemplateSource,
    materialise_builtin,
    parse_source,
    parse_values,
    render,
    template_questions,
)


@dataclass(frozen=True, kw_only=True)
class UpdateOptions:
    path: Path = Path(".")
    to: str | None = None  # template ref (tag, branch, commit); None = the latest tag
    conflict: str = "inline"  # inline markers, or "rej": keep yours and write <file>.rej
    values: Mapping[str, str] = field(default_factory=dict)  # --set KEY=VALUE
    allow_dirty: bool = False
    trust: bool = False
    dry_run: bool = False


@dataclass(frozen=True, kw_only=True)
class UpdatePrepared:
    root: Path
    source: TemplateSource
    from_version: str
    to_version: str
    base_from: str  # "recorded" (refs/shipyard/base) or "re-rendered" (the old version rendered again)
    changes: tuple[Change, ...]
    plan: Plan
    new_base: Mapping[PurePosixPath, tuple[bytes, int]] = field(repr=False)
    writable: bool = True

    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "conflict"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out

    def diff(self, change: Change, *, max_lines: int = 400) -> str:
        """Unified diff from your file to what the update makes of it."""
        before = self.root / (live_spelling(self.root, change.path) or change.path)
        old = before.read_bytes() if before.is_file() else b""
        new = change.content if change.content is not None else b""
        if change.renamed_from is not None:
            source = self.root / change.renamed_from
            old = source.read_bytes() if source.is_file() else old
        if self.plan_action(change) is None:
            return ""
        try:
            a, b = old.decode("utf-8").splitlines(keepends=True), new.decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            return f"Binary file {change.path} changes\n"
        name = change.renamed_from or change.path
        lines = list(difflib.unified_diff(a, b, f"a/{name}", f"b/{change.path}" if change.content is not None
                                          else "/dev/null"))
        if len(lines) > max_lines:
            lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more diff lines\n"]
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def plan_action(self, change: Change) -> Action | None:
        for op in self.plan.ops:
            if op.path == change.path:
                return op.action
        return None

    def to_json(self) -> dict[str, Any]:
        return {"root": str(self.root), "template": self.source.display(), "from_version": self.from_version,
                "to_version": self.to_version, "base": self.base_from, "counts": self.counts(),
                "files": [c.to_json() for c in self.changes],
                "writes": [{"path": str(op.path), "action": op.action.value} for op in self.plan.writes()],
                "conflicts": [str(c.path) for c in self.conflicts()]}


@dataclass(frozen=True, kw_only=True)
class UpdateResult:
    prepared: UpdatePrepared
    applied: Applied | None = None
    dry_run: bool = False
    warning: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**self.prepared.to_json(), "dry_run": self.dry_run,
                "applied": self.applied is not None and bool(self.applied.written), "warning": self.warning}


def recorded_source(src_path: str) -> TemplateSource:
    """The template a project records (``_src_path``), as a source this machine can render.

    The built-in template is recorded as its cached git copy (``<cache>/templates/production``): that path
    means "the built-in template" on any machine, wherever its cache lives.
    """
    path = Path(src_path).expanduser()
    if path.name in BUILTIN_TEMPLATES and path.parent.name == "templates" and (
            not path.exists() or (path / ".git" / "shipyard-digests").is_file()):
        return TemplateSource(kind="builtin", location=path.name)
    try:
        return parse_source(src_path)
    except TemplateError as exc:
        raise TemplateError(f"the recorded template {src_path} is not reachable from here ({exc.message})",
                            hint="fix _src_path in .copier-answers.yml (or template in .cruft.json) to a "
                                 "source you can reach") from exc


def _rendered_files(source: TemplateSource, answers: Mapping[str, Any], dest: Path, *, ref: str | None,
                    trust: bool) -> tuple[dict[PurePosixPath, tuple[bytes, int]], str]:
    if source.kind == "builtin" and ref is not None:
        repo, current = materialise_builtin(source.location)
        if ref != current:  # an older built-in version: its tag in the cached git copy, when this cache has it
            pinned = TemplateSource(kind="path", location=str(repo), ref=ref)
            rendered = render(pinned, answers, dest, trust=True)
            return collect_staged(rendered.folder), ref
    elif source.kind != "builtin" and ref is not None:
        source = replace(source, ref=ref)
    rendered = render(source, answers, dest, trust=trust)
    return collect_staged(rendered.folder), rendered.version


def _marked_by_template(source: TemplateSource) -> list[str]:
    """Paths the template itself says are the project's once written (copier's ``_skip_if_exists``)."""
    import yaml

    from .layers import peek

    found = peek(source, ("copier.yml", "copier.yaml"))
    for text in found.values():
        try:
            data = yaml.safe_load(text.decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            return []
        skip = data.get("_skip_if_exists", []) if isinstance(data, dict) else []
        return [str(p) for p in (skip if isinstance(skip, list) else [skip]) if isinstance(p, str)]
    return []


def _user_owned(answers: Mapping[str, Any], marked: list[str]) -> tuple[str, ...]:
    pkg, module = answers.get("package_name"), answers.get("notebook_module")
    owned = ["ADOPTION.md", "contracts/", "data/", "notebooks/", *marked]
    if pkg and module:
        owned.append(f"src/{pkg}/{module}.py")
    return tuple(owned)


def prepare(opts: UpdateOptions) -> UpdatePrepared:
    """Render, classify and plan an update of the project at ``opts.path``. Writes nothing."""
    root = opts.path.resolve()
    if not root.is_dir():
        raise InputFileError(f"{opts.path} is not a folder", hint="give the path of the generated project")
    gitinfo.require_repo(root)
    if opts.conflict not in ("inline", "rej"):
        raise UsageError(f"--conflict {opts.conflict}: unknown", hint="use inline (markers) or rej")
    if pending_recovery(root) and not opts.dry_run:
        recover(root, uncommitted=set(gitinfo.dirty_paths(root)))
    from .cookie import recorded_state

    recorded = recorded_answers(root) or recorded_state(root)
    answers_file = root / ".copier-answers.yml"
    if not recorded and answers_file.is_file():
        raise InputFileError(f"{answers_file} cannot be read as YAML with the template's answers",
                             hint="repair it (git diff / git checkout -- .copier-answers.yml), then run again")
    src_path = str(recorded.get("_src_path") or "")
    if not src_path:
        raise InputFileError(f"{root / '.copier-answers.yml'} (or .cruft.json) is missing or records no template",
                             hint="update works on projects made by shipyard adopt/new, copier copy or "
                                  "cookiecutter with cruft; adopt this repo first")
    from_version = str(recorded.get("_commit") or "")
    source = recorded_source(src_path)
    questions = template_questions(source)
    if questions is None:  # a git source: its recorded answers are its questions (and their types)
        questions = {k: "str" if isinstance(v, str) else "yaml" for k, v in previous_answers(recorded).items()}
    answers = {**previous_answers(recorded), **parse_values(opts.values, questions)}
    recorded_base = base_store.load(root)
    staging = Path(tempfile.mkdtemp(prefix="shipyard-update-"))
    try:
        new, to_version = _rendered_files(source, answers, staging / "new", ref=opts.to, trust=opts.trust)
        if recorded_base is not None and recorded_base.version == from_version:
            old, base_from = recorded_base.files, "recorded"
        else:
            try:
                old, _ = _rendered_files(source, previous_answers(recorded), staging / "old", ref=from_version or None,
                                         trust=opts.trust)
            except TemplateError as exc:
                raise TemplateError(
                    f"cannot rebuild the base of this update: template {source.display()} {from_version} does "
                    f"not render any more, and this clone has no recorded base ({exc.message})",
                    hint=f"fetch it (git fetch origin '{base_store.REF_PREFIX}/*:{base_store.REF_PREFIX}/*') or "
                         "make the old version available") from exc
            base_from = "re-rendered"
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    def yours(rel: PurePosixPath) -> tuple[bytes, int] | None:
        target = root / (live_spelling(root, rel) or rel)  # your file as your file system spells it (NFD)
        if not target.is_file() or target.is_symlink():
            return None
        return target.read_bytes(), 0o755 if os.access(target, os.X_OK) else 0o644

    def blocked(rel: PurePosixPath) -> str:
        from .plan import _type_clash

        target = root / (live_spelling(root, rel) or rel)
        if target.is_symlink():
            return f"{rel} is a symlink of yours"
        return _type_clash(root, rel)

    marked = _marked_by_template(replace(source, ref=opts.to) if opts.to and source.kind != "builtin" else source)
    changes = classify(old, new, yours, user_owned=_user_owned(answers, marked),
                       blocked=blocked,
                       labels=(f"template {from_version or 'before'}", f"template {to_version or 'now'}"))
    plan = _plan(root, changes, opts.conflict)
    new_base = _next_base(old, new, changes, opts.conflict)
    problems = unwritable(plan)
    if problems:
        raise UnsafePathError(f"cannot write into {root}: {'; '.join(problems[:3])}",
                              hint="make those folders writable, then run again")
    if plan.writes() and not opts.dry_run and not opts.allow_dirty:
        dirty = gitinfo.dirty_paths(root)
        if dirty:
            shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
            raise DirtyTreeError(f"{root} has uncommitted changes ({shown}); update refuses so its changes "
                                 "stay reviewable and revertible", hint="commit or stash them first, or pass "
                                                                        "--allow-dirty")
    return UpdatePrepared(root=root, source=source, from_version=from_version, to_version=to_version,
                          base_from=base_from, changes=tuple(changes), plan=plan, new_base=new_base,
                          writable=not opts.dry_run)


def _not_written(change: Change, conflict: str) -> bool:
    """A conflict whose merge is not written into the file: binary, or --conflict rej."""
    return change.kind == "conflict" and (conflict == "rej" or change.content is None)


def _next_base(old: Mapping[PurePosixPath, tuple[bytes, int]], new: Mapping[PurePosixPath, tuple[bytes, int]],
               changes: list[Change], conflict: str) -> dict[PurePosixPath, tuple[bytes, int]]:
    """What the template rendered, less what is yours from now on; a template change not taken into a file
    (a binary or .rej conflict) keeps its old base, so the next update offers it again."""
    base = dict(new)
    for change in changes:
        for rel in change.owned or ((change.path,) if change.kind in ("kept", "user-owned") else ()):
            base.pop(rel, None)
        if _not_written(change, conflict):
            source = change.renamed_from or change.path
            if source in old:
                base[change.path] = old[source]
            else:
                base.pop(change.path, None)
    return base


def _plan(root: Path, changes: list[Change], conflict: str) -> Plan:
    from .paths import safe_relpath

    ops: list[FileOp] = []
    # a rename whose merge is not written keeps your file where it is: its old path is not removed
    stays = {c.renamed_from for c in changes if c.renamed_from is not None and _not_written(c, conflict)}
    for change in changes:
        if change.kind not in WRITING or (change.kind == "removed" and change.path in stays):
            continue
        try:
            safe_relpath(change.path, root=root)
        except UnsafePathError as exc:
            raise UnsafePathError(f"update would write through {change.path}: {exc.message}",
                                  hint=exc.hint) from exc
        spelled = live_spelling(root, change.path) or change.path  # update your file, never a twin beside it
        target = root / spelled
        exists = target.is_file()
        before = hashlib.sha256(target.read_bytes()).hexdigest() if exists else ""
        if change.kind == "removed":
            if exists:
                ops.append(FileOp(path=spelled, action=Action.DELETE, content=b"", before=before,
                                  reason=change.reason))
            continue
        if _not_written(change, conflict):
            if change.reject is not None:
                rej = PurePosixPath(f"{change.renamed_from or change.path}.rej")
                if os.path.lexists(root / rej):
                    raise UsageError(f"{rej} exists already, so the template's change to {change.path} has "
                                     "nowhere to go", hint="resolve and delete the old .rej file, or use "
                                                           "--conflict inline")
                ops.append(FileOp(path=rej, action=Action.CREATE, content=change.reject,
                                  reason=f"the template's change to {change.path}, not applied"))
            continue
        assert change.content is not None
        if exists and target.read_bytes() == change.content and (
                (0o755 if os.access(target, os.X_OK) else 0o644) == change.mode):
            continue
        ops.append(FileOp(path=spelled, action=Action.UPDATE if exists else Action.CREATE,
                          content=change.content, mode=change.mode, before=before, reason=change.reason))
    return Plan(root=root, ops=tuple(ops))


def execute(prepared: UpdatePrepared, *, dry_run: bool = False) -> UpdateResult:
    """Apply a prepared update (or not, for a dry run), then record the new base."""
    if dry_run:
        return UpdateResult(prepared=prepared, dry_run=True)
    if not prepared.writable:
        raise UsageError("this update was prepared for a dry run", hint="prepare it again without dry_run")
    applied = None
    if prepared.plan.writes():
        import datetime as _dt

        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        applied = apply_plan(prepared.plan, backup_stamp=stamp)
    warning = ""
    try:
        base_store.record(prepared.root, prepared.new_base, source=prepared.source.display(),
                          version=prepared.to_version)
    except ShipyardError as exc:  # the files are written: say so, do not claim a rollback
        warning = (f"the update was applied, but its base could not be recorded ({exc.message}); the next update "
                   "re-renders this template version instead")
    return UpdateResult(prepared=prepared, applied=applied, warning=warning)


def update(opts: UpdateOptions) -> UpdateResult:
    """Library entry point: prepare and execute in one call."""
    return execute(prepare(opts), dry_run=opts.dry_run)


__all__ = ["UpdateOptions", "UpdatePrepared", "UpdateResult", "execute", "prepare", "recorded_source", "update"]
