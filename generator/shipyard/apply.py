"""Carry out a plan, all or nothing.

Small and dumb on purpose: every decision was taken in :mod:`shipyard.plan`.
Each file is first written to a temporary sibling, then all are renamed into
place. Any failure, Ctrl-C or SIGTERM in between rolls every rename back,
restores forced files from their backups and removes the folders it created,
so the repo is left exactly as it was. What cannot be caught (SIGKILL, power
loss) is covered by a journal written to Shipyard's cache before the first
write: :func:`recover` undoes such a run, and adopt calls it before planning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import replace as _replace
from pathlib import Path

from .errors import ApplyError
from .plan import Action, FileOp, Plan

BACKUP_DIR = ".shipyard/backups"


@dataclass(frozen=True, kw_only=True)
class Applied:
    written: tuple[str, ...]
    backups: tuple[str, ...]  # repo-relative backup paths of forced files


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _journal_path(root: Path) -> Path:
    from .render import cache_dir

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return cache_dir() / "journals" / f"{key}.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _missing_dirs(paths: list[Path], root: Path) -> list[str]:
    out: list[str] = []
    for path in paths:
        chain = []
        current = path.parent
        while current != root and not current.exists():
            chain.append(current.relative_to(root).as_posix())
            current = current.parent
        out += [d for d in reversed(chain) if d not in out]
    return out


def _write_journal(plan: Plan, backup_stamp: str) -> Path:
    """Record what apply is about to do, outside the repo, so even a SIGKILL can be undone later."""
    root = plan.root
    targets = [root / op.path for op in plan.writes()]
    backups = [root / BACKUP_DIR / backup_stamp / op.path for op in plan.writes() if op.action is Action.OVERWRITE]
    entry = {
        "root": str(root),
        "creates": [{"path": str(op.path), "sha256": _sha(op.content)}
                    for op in plan.writes() if op.action is Action.CREATE],
        "overwrites": [{"path": str(op.path), "sha256": _sha(op.content),
                        "backup": f"{BACKUP_DIR}/{backup_stamp}/{op.path}"}
                       for op in plan.writes() if op.action is Action.OVERWRITE],
        "replaced": [{"path": str(op.path), "sha256": _sha(op.content) if op.action is Action.UPDATE else "",
                      "backup": str(_old_copy(root / op.path).relative_to(root))}
                     for op in plan.writes() if op.action in (Action.UPDATE, Action.DELETE)],
        "temps": [str(t.with_name(f".{t.name}.shipyard-tmp-{os.getpid()}").relative_to(root)) for t in targets],
        "dirs": _missing_dirs(targets + backups, root),
    }
    path = _journal_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(f".tmp{os.getpid()}")
    temp.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(temp, path)
    return path


def pending_recovery(root: Path) -> bool:
    """True when an earlier apply into ``root`` was killed before it could finish or roll back."""
    return _journal_path(root).is_file()


def recover(root: Path, *, uncommitted: set[str]) -> list[str]:
    """Undo what a killed apply left in ``root`` (from its journal). Returns the paths it removed or restored.

    Only files that are still exactly what that apply wrote *and* are uncommitted (in
    ``uncommitted``, paths relative to ``root``) are touched: what you changed or committed since
    is yours and is left alone.
    """
    with repo_lock(root):
        return _recover_locked(root, uncommitted)


def _recover_locked(root: Path, uncommitted: set[str]) -> list[str]:
    path = _journal_path(root)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    undone: list[str] = []

    def untouched(rel: str, sha: str) -> bool:
        target = root / rel
        return rel in uncommitted and target.is_file() and not target.is_symlink() and _sha(target.read_bytes()) == sha

    for item in entry.get("overwrites", []):
        backup = root / item["backup"]
        if backup.is_file() and untouched(item["path"], item["sha256"]):
            os.replace(backup, root / item["path"])
            undone.append(item["path"])
    for item in entry.get("replaced", []):  # update: restore the file it replaced or removed
        backup, target = root / item["backup"], root / item["path"]
        if backup.is_file() and (not os.path.lexists(target) if not item["sha256"]
                                 else untouched(item["path"], item["sha256"])):
            os.replace(backup, target)
            undone.append(item["path"])
        elif backup.is_file() and item["backup"] in uncommitted:
            backup.unlink()
    for item in entry.get("creates", []):
        if untouched(item["path"], item["sha256"]):
            (root / item["path"]).unlink()
            undone.append(item["path"])
    for temp in entry.get("temps", []):
        if temp in uncommitted:
            (root / temp).unlink(missing_ok=True)
    for folder in reversed(entry.get("dirs", [])):
        try:
            (root / folder).rmdir()
        except OSError:
            pass
    path.unlink(missing_ok=True)
    return undone


@contextmanager
def repo_lock(root: Path) -> Iterator[None]:
    """One writer per repository at a time (the lock dies with its process, so a kill never leaves it)."""
    import fcntl

    path = _journal_path(root).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ApplyError(f"another shipyard command is writing into {root}",
                             hint="wait for it to finish, then run again") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply_plan(plan: Plan, *, backup_stamp: str) -> Applied:
    """Write every create/overwrite of ``plan`` atomically; roll back on any failure."""
    with repo_lock(plan.root):
        return _apply_locked(plan, backup_stamp)


def _apply_locked(plan: Plan, backup_stamp: str) -> Applied:
    root = plan.root
    created_dirs: list[Path] = []
    temps: list[Path] = []
    done: list[tuple[Path, Path | None]] = []  # (target, backup of the user's file or None)
    backups: list[str] = []
    replaced: list[Path] = []  # update: copies of the files it replaced or removed, dropped on success
    journal = _write_journal(plan, backup_stamp)
    try:
        with _sigterm_as_interrupt():
            staged: list[tuple[Path, Path, FileOp]] = []
            for op in plan.writes():
                target = root / op.path
                if op.action is Action.DELETE:
                    staged.append((target, target, op))
                    continue
                _make_parents(target.parent, root, created_dirs)
                temp = target.with_name(f".{target.name}.shipyard-tmp-{os.getpid()}")
                temps.append(temp)
                with open(temp, "xb") as out:
                    out.write(op.content)
                os.chmod(temp, op.mode)
                staged.append((temp, target, op))
            for temp, target, op in staged:
                _still_as_planned(target, op)
                forced = op.action is Action.OVERWRITE
                backup = None
                if forced:
                    backup = root / BACKUP_DIR / backup_stamp / target.relative_to(root)
                    _make_parents(backup.parent, root, created_dirs)
                    shutil.copy2(target, backup, follow_symlinks=False)
                    backups.append(backup.relative_to(root).as_posix())
                    temps.append(backup)  # removed on rollback unless restored first
                if op.action in (Action.UPDATE, Action.DELETE):
                    backup = _old_copy(target)
                    if op.action is Action.UPDATE:
                        shutil.copy2(target, backup, follow_symlinks=False)
                    else:
                        _replace(target, backup)
                    temps.append(backup)
                    replaced.append(backup)
                    done.append((target, backup))
                    if op.action is Action.DELETE:
                        continue
                _replace(temp, target)
                if op.action is not Action.UPDATE:
                    done.append((target, backup))
    except BaseException as exc:
        _rollback(done, temps, created_dirs)
        journal.unlink(missing_ok=True)
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed ({exc})"
        raise ApplyError(f"writing into {root} {what}; every change was rolled back",
                         hint="fix the cause and run the same command again") from exc
    for backup in replaced:
        backup.unlink(missing_ok=True)
    _drop_empty_parents([root / op.path for op in plan.writes() if op.action is Action.DELETE], root)
    journal.unlink(missing_ok=True)
    return Applied(written=tuple(str(op.path) for op in plan.writes()), backups=tuple(backups))


def _old_copy(target: Path) -> Path:
    return target.with_name(f".{target.name}.shipyard-old-{os.getpid()}")


def _drop_empty_parents(removed: list[Path], root: Path) -> None:
    for path in removed:
        folder = path.parent
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


class ChangedSincePlanned(Exception):
    """A target changed between the preview and the write (the user or another program wrote it)."""


def _still_as_planned(target: Path, op: FileOp) -> None:
    if op.action is Action.CREATE and os.path.lexists(target):
        raise ChangedSincePlanned(f"{op.path} appeared after the preview")
    if op.action in (Action.OVERWRITE, Action.UPDATE, Action.DELETE) and (
            not target.is_file() or _sha(target.read_bytes()) != op.before):
        raise ChangedSincePlanned(f"{op.path} changed after the preview")


def _make_parents(folder: Path, root: Path, created: list[Path]) -> None:
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != root:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _rollback(done: list[tuple[Path, Path | None]], temps: list[Path], created_dirs: list[Path]) -> None:
    # Shielded from a second Ctrl-C as far as Python allows: plain loops, no prompts.
    for target, backup in reversed(done):
        try:
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink()
        except OSError:
            pass
    for temp in temps:
        try:
            temp.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass
    for folder in reversed(created_dirs):
        try:
            folder.rmdir()
        except OSError:
            pass
