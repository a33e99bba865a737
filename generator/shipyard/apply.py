"""Carry out a plan, all or nothing.

Small and dumb on purpose: every decision was taken in :mod:`shipyard.plan`.
Each file is first written to a temporary sibling, then all are renamed into
place. Any failure, Ctrl-C or SIGTERM in between rolls every rename back,
restores forced files from their backups and removes the folders it created,
so the repo is left exactly as it was.
"""

from __future__ import annotations

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
from .plan import Action, Plan

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


def apply_plan(plan: Plan, *, backup_stamp: str) -> Applied:
    """Write every create/overwrite of ``plan`` atomically; roll back on any failure."""
    root = plan.root
    created_dirs: list[Path] = []
    temps: list[Path] = []
    done: list[tuple[Path, Path | None]] = []  # (target, backup of the user's file or None)
    backups: list[str] = []
    try:
        with _sigterm_as_interrupt():
            staged: list[tuple[Path, Path, bool]] = []
            for op in plan.writes():
                target = root / op.path
                _make_parents(target.parent, root, created_dirs)
                temp = target.with_name(f".{target.name}.shipyard-tmp-{os.getpid()}")
                temps.append(temp)
                with open(temp, "xb") as out:
                    out.write(op.content)
                os.chmod(temp, op.mode)
                staged.append((temp, target, op.action is Action.OVERWRITE))
            for temp, target, forced in staged:
                backup = None
                if forced:
                    backup = root / BACKUP_DIR / backup_stamp / target.relative_to(root)
                    _make_parents(backup.parent, root, created_dirs)
                    shutil.copy2(target, backup)
                    backups.append(backup.relative_to(root).as_posix())
                    temps.append(backup)  # removed on rollback unless restored first
                _replace(temp, target)
                done.append((target, backup))
    except BaseException as exc:
        _rollback(done, temps, created_dirs)
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed ({exc})"
        raise ApplyError(f"writing into {root} {what}; every change was rolled back",
                         hint="fix the cause and run the same command again") from exc
    return Applied(written=tuple(str(op.path) for op in plan.writes()), backups=tuple(backups))


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
