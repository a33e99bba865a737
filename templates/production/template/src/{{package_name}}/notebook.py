"""Running the notebook's code the way Jupyter ran it, in a sandbox that looks like the project.

`train` runs `src/<package>/<notebook module>.py` (the notebook, converted by `shipyard adopt`) in a
scratch copy of the project (copy-on-write where the file system can, otherwise plain copies; never
symlinks back), with the working directory set to the copy of the notebook's own folder, as Jupyter
does. So `Path.cwd()`, `os.chdir("..")`, root searches and pathlib joins resolve as they did in the
notebook, and every file the code writes lands in the copy, which is deleted afterwards: training
never changes the project.

Cells run one by one (the `# %%` markers), so progress is reported per cell and a time limit names
the cell that was running when it ran out.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProjectError

# Not copied into the sandbox: version control, environments, caches, the registry and logs.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", ".ipynb_checkpoints",
    ".pytest_cache", ".ruff_cache", ".mypy_cache", "mlruns", "mlartifacts", "logs", "build", "dist", "site",
})  # fmt: skip
SKIP_FILES = frozenset({"mlflow.db", "mlflow.db-journal"})
_FICLONE = 0x40049409  # Linux ioctl: share the blocks of a file (btrfs, XFS, ...)
Progress = Callable[["CellEvent"], None]


@dataclass(frozen=True)
class CellEvent:
    index: int  # 1-based among the module's code cells
    total: int
    number: int  # the notebook's cell number (as Jupyter shows it), 0 when unknown
    seconds: float  # this cell's time (0 when it starts)
    elapsed: float  # since the run started
    done: bool


class _Timeout(BaseException):
    """Raised inside the notebook's code when the time limit is reached (not catchable as Exception)."""


def _clone(src: Path, dst: Path) -> None:
    try:
        import fcntl

        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
        shutil.copystat(src, dst)
        return
    except (OSError, ImportError, AttributeError):
        pass
    shutil.copy2(src, dst)


def copy_project(root: Path, dest: Path) -> int:
    """Copy the project's files (data and code) into ``dest``; returns the number of files."""
    real_root = root.resolve()
    count = 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                   and not (here / d).is_symlink()]
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            src = here / name
            if name in SKIP_FILES:
                continue
            if src.is_symlink():
                target = src.resolve()
                if not target.is_file() or real_root not in (target, *target.parents):
                    continue  # a link out of the project is not followed
            try:
                _clone(src, dest / rel / name)
                count += 1
            except OSError:
                continue
    return count


_MARKER = re.compile(r"^# %%(?: cell (\d+))?(.*)$")


@dataclass(frozen=True)
class Cell:
    line: int  # first line in the module
    text: str
    number: int  # the notebook's cell number (as Jupyter shows it; 0 for the prologue or when unknown)


def cells_of(source: str) -> tuple[Cell | None, list[Cell]]:
    """The module's prologue and its code cells (markdown cells are comments: nothing to run)."""
    lines = source.splitlines(keepends=True)
    starts = [(0, None)]
    for i, line in enumerate(lines):
        found = _MARKER.match(line.rstrip("\n"))
        if found and i > 0:
            starts.append((i, found))
    prologue, cells = None, []
    for n, (start, found) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        text = "".join(lines[start:end])
        if found is None:
            prologue = Cell(1, text, 0) if text.strip() else None
        elif "[markdown]" not in found.group(2) and any(
                ln.strip() and not ln.lstrip().startswith("#") for ln in lines[start + 1:end]):
            cells.append(Cell(start + 1, text, int(found.group(1) or 0)))
    return prologue, cells


def _where(cell: Cell, rel: Path) -> str:
    return f"{rel}:{cell.line}" + (f" (notebook cell {cell.number})" if cell.number else "")


class Sandbox:
    """A scratch copy of the project; the notebook module runs in it (see the module docstring)."""

    def __init__(self, root: Path, notebook_dir: str) -> None:
        self.root = root
        self.folder = Path(tempfile.mkdtemp(prefix="notebook-run-"))
        self.project = self.folder / "project"
        self.files = copy_project(root, self.project)
        self.cwd = (self.project / notebook_dir).resolve() if notebook_dir not in ("", ".") else self.project
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.output = io.StringIO()
        self.local_modules: list[str] = []  # the repo's own modules the notebook imported
        self.failed: list[str] = []  # errors of the cells that failed, with keep_going

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Work in the copy of the notebook's folder: the notebook's objects may write relative to it
        (CatBoost's train_dir, a model's checkpoints) when train re-fits them."""
        old = os.getcwd()
        os.chdir(self.cwd)
        try:
            yield
        finally:
            os.chdir(old)

    def run(self, module: Path, *, max_seconds: float | None = None, progress: Progress | None = None,
            show_output: bool = False, limit_minutes: float | None = None, keep_going: bool = False) -> dict[str, Any]:
        """Run the sandbox's copy of ``module`` (a path in the project) cell by cell; its namespace.

        With ``keep_going``, a cell that raises is reported (``self.failed``) and the next one runs, as
        Jupyter's "run all, ignoring errors" would: a plot that no longer works on current libraries
        then does not stop the model's cells."""
        rel = module.resolve().relative_to(self.root.resolve())
        copy = self.project / rel
        source = copy.read_text(encoding="utf-8")
        prologue, cells = cells_of(source)
        namespace: dict[str, Any] = {"__name__": "__shipyard_train__", "__file__": str(copy),
                                     "__builtins__": builtins}
        started = time.monotonic()
        current: list[Cell | None] = [None]
        old_cwd, old_argv, old_stdin = os.getcwd(), sys.argv[:], sys.stdin
        os.environ.setdefault("MPLBACKEND", "Agg")
        out = contextlib.nullcontext() if show_output else contextlib.redirect_stdout(self.output)
        err = contextlib.nullcontext() if show_output else contextlib.redirect_stderr(self.output)
        try:
            os.chdir(self.cwd)
            sys.argv = [str(copy)]
            sys.stdin = io.StringIO("")  # input() ends at once instead of waiting for a keyboard
            with _deadline(max_seconds), out, err:
                if prologue is not None:
                    exec(compile(prologue.text, str(copy), "exec"), namespace)  # noqa: S102
                for index, cell in enumerate(cells, start=1):
                    current[0] = cell
                    if progress:
                        progress(CellEvent(index, len(cells), cell.number, 0.0, time.monotonic() - started, False))
                    began = time.monotonic()
                    code = compile("\n" * (cell.line - 1) + cell.text, str(copy), "exec")
                    try:
                        exec(code, namespace)  # noqa: S102 - the user's own notebook, as `train` documents
                    except Exception as exc:
                        if not keep_going:
                            raise
                        self.failed.append(_notebook_error(exc, copy, rel, cells, "").message)
                    if progress:
                        now = time.monotonic()
                        progress(CellEvent(index, len(cells), cell.number, now - began, now - started, True))
        except _Timeout:
            cell = current[0]
            where = _where(cell, rel) if cell else str(rel)
            raise ProjectError(
                f"train stopped after {limit_minutes or (max_seconds or 0) / 60:g} minute(s) (--max-minutes): "
                f"{where} was still running",
                "raise --max-minutes, make that cell cheaper in the module (fewer trials or a smaller grid), "
                "or register a committed model file with `train --from-file`",
                exit_code=3,
            ) from None
        except SystemExit as exc:
            raise ProjectError(f"{rel}: the notebook code called exit({exc.code})",
                               "remove the exit, or run `train --baseline`") from None
        except Exception as exc:  # the notebook's own error: say where it happened
            raise _notebook_error(exc, copy, rel, cells, self.output.getvalue()) from None
        finally:
            os.chdir(old_cwd)
            sys.argv, sys.stdin = old_argv, old_stdin
            inside = str(self.project) + os.sep
            self.local_modules = sorted(n for n, m in list(sys.modules.items())
                                        if str(getattr(m, "__file__", "") or "").startswith(inside))
        return namespace


@contextlib.contextmanager
def sandbox(root: Path, notebook_dir: str) -> Iterator[Sandbox]:
    box = Sandbox(root, notebook_dir)
    try:
        yield box
    finally:
        box.close()


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise _Timeout in the running code after ``seconds`` (SIGALRM in the main thread)."""
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def expire(signum, frame):  # noqa: ARG001
            raise _Timeout()

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    yield  # outside the main thread there is no safe way to interrupt the code


def _notebook_error(exc: BaseException, copy: Path, rel: Path, cells: list[Cell], output: str):
    lineno = 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == copy:
            lineno = frame.lineno or 0
    cell = next((c for c in reversed(cells) if c.line <= lineno), None) if lineno else None
    where = f"{rel}:{lineno}" + (f" (notebook cell {cell.number})" if cell and cell.number else "")
    # the first line that says something (nltk's LookupError starts with a line of stars)
    first = next((line.strip() for line in str(exc).splitlines() if line.strip().strip("*").strip()), "")[:200]
    hint = "fix the code there, or run `train --baseline` to train the baseline alone"
    if isinstance(exc, FileNotFoundError):
        hint = ("the code runs in a copy of the project, in the copy of the notebook's folder, as Jupyter does: "
                "a file it needs is not in the project (add it, or fix the path in the module); " + hint)
    tail = [line for line in output.strip().splitlines() if line.strip()][-3:]
    if tail:
        hint += "; its last output: " + " | ".join(t.strip()[:100] for t in tail)
    return ProjectError(f"notebook module failed at {where}: {type(exc).__name__}: {first}", hint)
