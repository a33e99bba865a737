"""Many generated projects at once: where each stands (:func:`status`) and updating each on a branch
(:func:`update_all`). Library only: nothing here prints; progress goes to a callback.

Status is static and cheap: it reads ``.copier-answers.yml`` and the recorded base
(``refs/shipyard/base``, compared by git blob id with the files on disk), and asks each template
source for its tags once per run, however many projects share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputFileError
from .gitinfo import IDENTITY, newest

CONFLICT_MARK = re.compile(rb"^<<<<<<< yours: ", re.M)


@dataclass(frozen=True, kw_only=True)
class ProjectStatus:
    path: str
    template: str = ""
    version: str = ""
    latest: str = ""
    modified: tuple[str, ...] = ()  # template files you changed since the last adopt/update
    conflicts: tuple[str, ...] = ()  # files with unresolved update markers, or .rej files
    base: bool = False  # a recorded base is present
    error: str = ""
    readiness: dict[str, float | None] | None = None  # `shipyard doctor` scores (None: not measured)
    readiness_error: str = ""

    @property
    def behind(self) -> bool:
        return bool(self.latest and self.version and self.latest != self.version)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "template": self.template, "version": self.version, "latest": self.latest,
                "behind": self.behind, "modified": list(self.modified), "conflicts": list(self.conflicts),
                "base": self.base, "error": self.error, "readiness": self.readiness,
                "readiness_error": self.readiness_error}


def read_list(path: Path) -> list[Path]:
    """Project folders from a file: one per line, ``#`` comments, relative to the file's folder."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}", hint="give a file with one project path "
                                                                         "per line") from exc
    out = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            out.append((path.parent / text) if not Path(text).is_absolute() else Path(text))
    return out


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Latest:
    """The newest version of each template source, asked once per source (PEP 440 order of tags)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, src_path: str) -> str:
        if src_path not in self._known:
            self._known[src_path] = self._ask(src_path)
        return self._known[src_path]

    @staticmethod
    def _ask(src_path: str) -> str:
        return latest_version(src_path)


def latest_version(src_path: str, *, offline: bool = False) -> str:
    """The newest version of a recorded template source ("" when it cannot be known; a remote one is not
    asked when ``offline``)."""
    from .update import recorded_source

    try:
        source = recorded_source(src_path)
    except Exception:  # noqa: BLE001 - an unreachable source has no latest version: reported as ""
        return ""
    if source.kind == "builtin":
        from .render import materialise_builtin

        return materialise_builtin(source.location)[1]
    if offline and not Path(source.location).exists():
        return ""
    try:
        done = subprocess.run(["git", "ls-remote", "--tags", "--refs", source.location], capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    tags = [line.rsplit("refs/tags/", 1)[1] for line in done.stdout.splitlines() if "refs/tags/" in line]
    return newest(tags)


def status_of(root: Path, latest: Callable[[str], str], *, readiness: bool = True) -> ProjectStatus:
    from . import base as base_store
    from .answers import recorded_answers
    from .cookie import recorded_state

    path = str(root)
    if not root.is_dir():
        return ProjectStatus(path=path, error="no such folder")
    recorded = recorded_answers(root) or recorded_state(root)
    if not recorded.get("_src_path"):
        return ProjectStatus(path=path, error="no .copier-answers.yml or .cruft.json: not a generated project")
    src = str(recorded.get("_src_path") or "")
    version = str(recorded.get("_commit") or "")
    template = src
    from .update import recorded_source

    try:
        template = recorded_source(src).display()
    except Exception:  # noqa: BLE001 - shown as recorded
        pass
    modified: list[str] = []
    conflicts: list[str] = []
    has_base = False
    try:
        ref = base_store.ref_name(root)
        listing = _git(root, "ls-tree", "-r", "-z", ref)
        has_base = listing.returncode == 0
        for item in filter(None, listing.stdout.split(b"\0") if has_base else []):
            meta, rel = item.split(b"\t", 1)
            name = rel.decode("utf-8")
            target = root / name
            if not target.is_file():
                continue
            data = target.read_bytes()
            if _blob_id(data) != meta.split()[2].decode():
                modified.append(name)
                if CONFLICT_MARK.search(data):
                    conflicts.append(name)
    except Exception as exc:  # noqa: BLE001 - one broken project must not stop the table
        return ProjectStatus(path=path, template=template, version=version, error=f"{type(exc).__name__}: {exc}")
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.rej")
    conflicts += [p for p in listed.stdout.decode("utf-8", "replace").split("\0") if p]
    newest_version = latest(src) if src else ""
    scores, why = _readiness(root, newest_version) if readiness else (None, "")
    return ProjectStatus(path=path, template=template, version=version, latest=newest_version,
                         modified=tuple(modified), conflicts=tuple(sorted(set(conflicts))), base=has_base,
                         readiness=scores, readiness_error=why)


def _readiness(root: Path, latest: str) -> tuple[dict[str, float | None] | None, str]:
    """The project's `shipyard doctor` scores, with its own [tool.shipyard.doctor] selection."""
    from .checks import audit, read_config
    from .errors import ShipyardError

    try:
        return audit(root, read_config(root), offline=True, known={"latest_template": latest}).scores, ""
    except ShipyardError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - one project's audit must not stop the table
        return None, f"{type(exc).__name__}: {exc}"[:200]


def status(paths: Iterable[Path], *, jobs: int = 8, readiness: bool = True) -> list[ProjectStatus]:
    latest = _Latest()
    roots = [Path(p).resolve() for p in paths]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda r: status_of(r, latest, readiness=readiness), roots))


@dataclass(frozen=True, kw_only=True)
class UpdateOutcome:
    path: str
    result: str  # applied, conflicts, up-to-date, failed
    branch: str = ""
    version: str = ""
    conflicts: tuple[str, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "result": self.result, "branch": self.branch, "version": self.version,
                "conflicts": list(self.conflicts), "reason": self.reason}


def update_one(root: Path, *, to: str | None = None, branch: str = "", trust: bool = False) -> UpdateOutcome:
    """Update one project on a new branch (never the current one), commit there, go back to where it was."""
    path = str(root)
    current = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD").stdout.decode().strip()
    head = _git(root, "rev-parse", "HEAD").stdout.decode().strip()
    if not head:
        return UpdateOutcome(path=path, result="failed", reason="not a git repository with a commit")
    if _git(root, "status", "--porcelain", "--untracked-files=normal").stdout.strip():
        return UpdateOutcome(path=path, result="failed", reason="uncommitted changes: commit or stash them first")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[1]),
                                                                   os.environ.get("PYTHONPATH", "")) if p)}
    preview = subprocess.run([sys.executable, "-m", "shipyard", "update", path, "--dry-run", "--json",
                              *(["--to", to] if to else []), *(["--trust"] if trust else [])],
                             capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if preview.returncode != 0:
        return UpdateOutcome(path=path, result="failed", reason=_reason(preview))
    plan = json.loads(preview.stdout)
    if not plan["writes"]:
        return UpdateOutcome(path=path, result="up-to-date", version=plan["to_version"])
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.decode().strip().strip("/")
    suffix = f"-{re.sub(r'[^A-Za-z0-9._-]+', '-', prefix)}" if prefix else ""  # one branch per project of a monorepo
    name = branch or f"shipyard/update-{re.sub(r'[^A-Za-z0-9._-]+', '-', plan['to_version'] or 'latest')}{suffix}"
    if _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}").returncode == 0:
        return UpdateOutcome(path=path, result="failed", branch=name,
                             reason=f"branch {name} exists already: merge or delete it first")
    made = _git(root, "switch", "-q", "-c", name)
    if made.returncode != 0:
        return UpdateOutcome(path=path, result="failed", reason=made.stderr.decode().strip()[:200])
    keep_branch = False
    try:
        done = subprocess.run([sys.executable, "-m", "shipyard", "update", path, "--yes", "--json",
                               *(["--to", to] if to else []), *(["--trust"] if trust else [])],
                              capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        if done.returncode not in (0, 9):
            _git(root, "reset", "-q", "--hard", head)
            return UpdateOutcome(path=path, result="failed", branch=name, reason=_reason(done))
        report = json.loads(done.stdout)
        conflicts = tuple(report["conflicts"])
        message = f"Update template to {report['to_version']} (shipyard update)"
        if conflicts:
            message += "\n\nConflicts to resolve: " + ", ".join(conflicts)
        subprocess.run(["git", "-C", path, "add", "-A", "--", "."], capture_output=True, check=True)
        committed = subprocess.run(["git", "-C", path, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message],
                                   capture_output=True, text=True, env={**os.environ, **IDENTITY})
        if committed.returncode != 0:  # a hook refused it: nothing stays staged on your branch
            _git(root, "reset", "-q", "--hard", head)
            why = (committed.stderr.strip() or committed.stdout.strip() or "git commit failed").splitlines()[-1]
            return UpdateOutcome(path=path, result="failed", branch=name, reason=f"commit refused: {why[:200]}")
        keep_branch = True
        return UpdateOutcome(path=path, result="conflicts" if conflicts else "applied", branch=name,
                             version=report["to_version"], conflicts=conflicts)
    finally:
        _git(root, "switch", "-q", current) if current else _git(root, "checkout", "-q", head)
        if not keep_branch:
            _git(root, "branch", "-q", "-D", name)


def _reason(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit {done.returncode}").removeprefix("error: ")[:300]


@dataclass(kw_only=True)
class Progress:
    total: int
    done: int = 0
    results: list[UpdateOutcome] = field(default_factory=list)


def update_all(paths: Iterable[Path], *, to: str | None = None, jobs: int = 4, trust: bool = False,
               on_done: Callable[[Progress, UpdateOutcome], None] | None = None) -> list[UpdateOutcome]:
    import threading

    roots = [Path(p).resolve() for p in paths]
    progress = Progress(total=len(roots))
    lock = threading.Lock()

    trees: dict[str, threading.Lock] = {}

    def tree_lock(root: Path) -> threading.Lock:
        """Projects sharing one git work tree (a monorepo) are updated one after another."""
        top = _git(root, "rev-parse", "--show-toplevel").stdout.decode().strip() or str(root)
        with lock:
            return trees.setdefault(top, threading.Lock())

    def one(root: Path) -> UpdateOutcome:
        try:
            with tree_lock(root):
                outcome = update_one(root, to=to, trust=trust)
        except Exception as exc:  # noqa: BLE001 - one project's failure is reported, the others go on
            outcome = UpdateOutcome(path=str(root), result="failed", reason=f"{type(exc).__name__}: {exc}")
        with lock:
            progress.done += 1
            progress.results.append(outcome)
            if on_done:
                on_done(progress, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, roots))
