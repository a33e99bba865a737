"""Compare a staged render with the user's tree and freeze the file operations.

No writes happen here. Every safety check (path containment, symlinks,
writability, file-type clashes) runs while planning, so :mod:`shipyard.apply`
only has to carry out a plan that is already known to be safe.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath

from .errors import UnsafePathError
from .paths import _check_no_escape, safe_relpath

#: Never proposed for writing, whatever a template contains.
_NEVER_WRITE_SUFFIXES = (".ipynb",)


class Action(str, Enum):
    CREATE = "create"  # new file
    IDENTICAL = "identical"  # the user already has exactly this
    CONFLICT = "conflict"  # the user has a different file: kept, diff shown
    OVERWRITE = "overwrite"  # a conflict the user forced with --force PATH (backup kept)
    SKIP = "skip"  # not written, with the reason
    UPDATE = "update"  # update: your committed file becomes the merged one (git holds the old one)
    DELETE = "delete"  # update: a file the template removed and you never edited


WRITES = (Action.CREATE, Action.OVERWRITE, Action.UPDATE, Action.DELETE)

#: Conflicts that break the generated project until merged, and why.
CRITICAL_CONFLICTS = {
    "pyproject.toml": "the package and its dependencies are declared there: until you merge the generated one "
                      "into yours, `pip install .` (CI, the container) installs nothing of the generated package",
    "Dockerfile": "release.yml builds and pushes this file, so the image is yours, not the generated service",
    ".gitignore": "it lacks mlflow.db, mlruns/, mlartifacts/ and logs/: `git add -A` would commit the registry "
                  "and the prediction logs",
    ".dockerignore": "data, mlflow.db and credentials could enter the image build context",
}


@dataclass(frozen=True, kw_only=True)
class FileOp:
    path: PurePosixPath
    action: Action
    content: bytes = field(repr=False)
    mode: int = 0o644
    reason: str = ""
    before: str = ""  # sha256 of your file when the plan was made (overwrites): apply re-checks it
    #: Your spelling of ``path`` when it differs only in Unicode normal form (an NFD name made on macOS).
    yours: PurePosixPath | None = None

    def diff(self, root: Path, *, max_lines: int = 200) -> str:
        """Unified diff from the user's file to the proposed one ('' when not text)."""
        if self.action not in (Action.CONFLICT, Action.OVERWRITE):
            return ""
        try:
            old = (root / (self.yours or self.path)).read_text(encoding="utf-8").splitlines(keepends=True)
            new = self.content.decode("utf-8").splitlines(keepends=True)
        except (UnicodeDecodeError, OSError):
            return f"Binary or unreadable file {self.path} differs\n"
        lines = list(difflib.unified_diff(old, new, f"a/{self.path} (yours)", f"b/{self.path} (template)"))
        if len(lines) > max_lines:
            lines = lines[:max_lines] + [f"... {len(lines) - max_lines} more diff lines\n"]
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True, kw_only=True)
class Plan:
    root: Path
    ops: tuple[FileOp, ...]

    def by_action(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {a.value: [] for a in Action}
        for op in self.ops:
            out[op.action.value].append(str(op.path))
        return out

    def writes(self) -> tuple[FileOp, ...]:
        return tuple(op for op in self.ops if op.action in WRITES)

    def conflicts(self) -> tuple[FileOp, ...]:
        return tuple(op for op in self.ops if op.action is Action.CONFLICT)

    @property
    def changes_nothing(self) -> bool:
        return not self.writes()


def collect_staged(folder: Path) -> dict[PurePosixPath, tuple[bytes, int]]:
    """Read a staging folder into {safe relative path: (bytes, mode)}; refuses links and escapes."""
    files: dict[PurePosixPath, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames:  # os.walk lists a folder symlink here and never descends it: refuse it too
            if (Path(dirpath) / name).is_symlink():
                rel = safe_relpath((Path(dirpath) / name).relative_to(folder).as_posix())
                raise UnsafePathError(f"template produced a symlink: {rel}/",
                                      hint="templates may only produce regular files")
        for name in filenames:
            full = Path(dirpath) / name
            rel = safe_relpath(full.relative_to(folder).as_posix())
            if full.is_symlink():
                raise UnsafePathError(f"template produced a symlink: {rel}",
                                      hint="templates may only produce regular files")
            mode = 0o755 if os.access(full, os.X_OK) else 0o644
            files[rel] = (full.read_bytes(), mode)
    return files


def make_plan(root: Path, staged: Mapping[PurePosixPath, tuple[bytes, int]], *,
              force: Iterable[str] = ()) -> Plan:
    """Classify every staged path against the user's tree at ``root``."""
    forced = {safe_relpath(p) for p in force}
    unknown = forced - set(staged)
    if unknown:
        from .errors import UsageError

        names = ", ".join(sorted(str(p) for p in unknown))
        raise UsageError(f"--force names a path that adopt does not generate: {names}",
                         hint="run with --dry-run to see the generated paths")
    ops: list[FileOp] = []
    for rel in sorted(staged, key=str):
        content, mode = staged[rel]
        try:
            safe_relpath(rel, root=root)  # re-check against the live tree (symlinked parents)
        except UnsafePathError as exc:
            if rel in forced:
                raise
            ops.append(FileOp(path=rel, action=Action.SKIP, content=content, mode=mode,
                              reason=f"{exc.message} ({exc.hint})" if exc.hint else exc.message))
            continue
        if rel.suffix in _NEVER_WRITE_SUFFIXES:
            ops.append(FileOp(path=rel, action=Action.SKIP, content=content, reason="notebooks are never written"))
            continue
        live = live_spelling(root, rel)
        if live is not None:
            try:
                _check_no_escape(root, live)  # your spelling's folders are checked as the template's were
            except UnsafePathError as exc:
                ops.append(FileOp(path=rel, action=Action.SKIP, content=content, mode=mode, reason=exc.message))
                continue
        here = live or rel  # where the file is (or goes): never a second spelling of one of your names
        clash = _type_clash(root, here)
        if clash:
            ops.append(FileOp(path=rel, action=Action.SKIP, content=content, mode=mode, reason=clash))
            continue
        target = root / here
        if target.is_file():
            try:
                same = target.read_bytes() == content
            except OSError as exc:
                ops.append(FileOp(path=rel, action=Action.SKIP, content=content, mode=mode,
                                  reason=f"cannot read your file: {exc.strerror}"))
                continue
            spelt = f" (your file is spelt {here} in another Unicode form)" if live is not None else ""
            if same:
                ops.append(FileOp(path=rel, action=Action.IDENTICAL, content=content, mode=mode, yours=live))
            elif rel in forced:
                ops.append(FileOp(path=here, action=Action.OVERWRITE, content=content, mode=mode,
                                  reason="--force: your file is backed up first" + spelt,
                                  before=hashlib.sha256(target.read_bytes()).hexdigest()))
            else:
                ops.append(FileOp(path=rel, action=Action.CONFLICT, content=content, mode=mode, yours=live,
                                  reason="you have a different file here; kept as is" + spelt))
        else:
            ops.append(FileOp(path=here, action=Action.CREATE, content=content, mode=mode))
    return Plan(root=root, ops=tuple(ops))


def live_spelling(root: Path, rel: PurePosixPath) -> PurePosixPath | None:
    """How the user's tree spells ``rel`` when a name in it differs from ``rel``'s only in Unicode normal form.

    Template paths are NFC (see :func:`shipyard.paths.safe_relpath`); a file made on macOS is often NFD. On a
    file system that keeps both spellings apart (ext4), ``café.txt`` and ``cafe\u0301.txt`` are two files:
    Shipyard treats yours as the same path, so it is compared (identical or conflict), never doubled.
    Returns None when every existing part of ``rel`` is spelt as given (always for ASCII paths).
    """
    if str(rel).isascii():
        return None
    current = root
    parts: list[str] = []
    changed = False
    names = list(rel.parts)
    for index, part in enumerate(names):
        if os.path.lexists(current / part):
            parts.append(part)
            current = current / part
            continue
        wanted = unicodedata.normalize("NFC", part)
        try:
            found = sorted(n for n in os.listdir(current) if unicodedata.normalize("NFC", n) == wanted)
        except OSError:  # not a folder (a clash reported elsewhere) or unreadable
            found = []
        if not found:
            parts.extend(names[index:])
            break
        parts.append(found[0])
        current = current / found[0]
        changed = True
    return PurePosixPath(*parts) if changed else None


def _type_clash(root: Path, rel: PurePosixPath) -> str:
    """Why a file cannot be placed at ``rel`` ('' when it can)."""
    current = root
    for part in rel.parts[:-1]:
        current = current / part
        if current.exists() and not current.is_dir():
            return f"{current.relative_to(root).as_posix()} is a file, not a folder"
    target = root / rel
    if target.is_dir():
        return "a folder of yours has this name"
    if target.is_symlink() and not target.exists():
        return "a broken symlink of yours has this name"
    return ""


def unwritable(plan: Plan) -> list[str]:
    """Paths whose write would fail for permissions: checked before any write."""
    problems: list[str] = []
    for op in plan.writes():
        target = plan.root / op.path
        existing = target if target.exists() else next(p for p in target.parents if p.exists())
        if not os.access(existing if existing.is_dir() else existing.parent, os.W_OK | os.X_OK):
            problems.append(f"{existing.relative_to(plan.root).as_posix() or '.'}/ is not writable")
    return sorted(set(problems))
