"""The training notebook's code becomes a module of the generated package.

jupytext does the notebook -> ``py:percent`` conversion; Shipyard first
neutralises magics and shell escapes, rewrites removed APIs and Python 2 syntax
where a safe rewrite exists (:mod:`shipyard.modernise`), comments out cells that
are still not Python 3 (saying why), and points data paths at files of the
project. The notebook itself is never modified.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .facts import DataRef, Evidence, Finding, Severity
from .inspect.notebooks import neutralise
from .modernise import Moderniser

MARK = "# [shipyard] "
_GPU = re.compile(r"\.cuda\(\)|device\s*=\s*['\"]cuda|\.to\(\s*['\"]cuda")

PROLOGUE = '''\
"""Code of {notebook}, converted by `shipyard adopt`.

This is your notebook's code as a plain module, so `python -m {package} train` can
run it and pick up the fitted estimator `{model}`. The notebook itself was not
changed. Edit this file freely; lines marked "[shipyard]" were changed on adoption.
"""
# ruff: noqa
import sys as _sys
from pathlib import Path as _Path

_ROOT = _Path(__file__).resolve().parents[2]
for _folder in (_ROOT, _ROOT / {notebook_dir!r}):
    if str(_folder) not in _sys.path:
        _sys.path.insert(0, str(_folder))


def _data(path):
    """A file of the project, by its path from the project root.

    `train` runs this module in a scratch folder, so files the notebook writes with relative paths
    never touch the project; reads of project files go through here.
    """
    return str(_ROOT / path)

try:  # notebooks call IPython's display(); make it print outside Jupyter
    display  # noqa: B018
except NameError:
    def display(*objects, **kwargs):
        for _obj in objects:
            print(_obj)

'''


@dataclass(frozen=True, kw_only=True)
class Converted:
    text: str
    findings: tuple[Finding, ...]
    rewritten: tuple[tuple[str, str], ...]  # (literal as written, new path)


def _candidates(ref: DataRef) -> list[str]:
    """The source spellings of a reference's path argument, most specific first."""
    out = [ref.expression] if ref.expression else []
    for text in (ref.literal, ref.literal.replace("\\", "\\\\")):
        for quote in ('"', "'"):
            out += [f"r{quote}{text}{quote}", f"{quote}{text}{quote}"]
    return out


def _rewrite_one(lines: list[str], ref: DataRef) -> bool:
    """Anchor one read at the project root, on the line of the reference (or the few after it).

    Only that occurrence changes: the same path written elsewhere in the cell (``df.to_csv(...)``)
    keeps its relative spelling, so training writes it into its scratch folder, not into the project.
    """
    anchored = f"_data({ref.resolved!r})"
    first = (ref.evidence.line or 1) - 1
    for index in range(max(first, 0), min(first + 6, len(lines))):
        for old in _candidates(ref):
            if old and old in lines[index]:
                lines[index] = lines[index].replace(old, anchored, 1)
                return True
    return False


def _rewrite_paths(source: str, refs: Iterable[DataRef]) -> tuple[str, list[tuple[str, str]], list[DataRef]]:
    done: list[tuple[str, str]] = []
    failed: list[DataRef] = []
    lines = source.split("\n")
    for ref in refs:
        if ref.resolved is None or ref.kind == "url":
            continue
        if _rewrite_one(lines, ref):
            done.append((ref.literal, ref.resolved))
        else:
            failed.append(ref)
    return "\n".join(lines), done, failed


def _comment_out(source: str, why: str) -> str:
    # control characters (NUL ...) cannot stand even in a comment: show them escaped
    source = "".join(c if c in "\t\n" or c >= " " else repr(c)[1:-1] for c in source)
    lines = [f"{MARK}cell commented out: {why}"]
    lines += [f"{MARK}{line}" if line.strip() else "#" for line in source.splitlines()]
    return "\n".join(lines)


def _number_cells(body: str, numbers: list[int]) -> str:
    """Title each ``# %%`` marker with the notebook cell it comes from: ``# %% cell 7`` (jupytext keeps
    titles), so `train` reports progress and errors by the cell numbers Jupyter shows."""
    lines = body.split("\n")
    marker = iter(numbers)
    for i, line in enumerate(lines):
        if line == "# %%" or line.startswith("# %% ["):
            number = next(marker, None)
            if number is not None:
                lines[i] = f"# %% cell {number}" + line[len("# %%"):]
    return "\n".join(lines)


def notebook_to_module(root: Path, notebook: str, *, package: str, model_variable: str,
                       refs: Iterable[DataRef]) -> Converted:
    """Convert ``notebook`` (repo-relative) into the text of a Python module."""
    import jupytext
    import nbformat
    from nbformat import v4

    with warnings.catch_warnings():  # nbformat's MissingIDFieldWarning on the user's notebook: not ours to fix
        warnings.simplefilter("ignore")
        # as_version=4 upgrades nbformat v3 (worksheets, heading cells) in the same cell order inspection counts
        nb = nbformat.read(root / notebook, as_version=4)
    refs = list(refs)
    findings: list[Finding] = []
    rewritten: list[tuple[str, str]] = []
    cells = []
    numbers: list[int] = []  # the notebook cell each module cell comes from (1-based, all cells counted)
    moderniser = Moderniser()  # one per notebook: imports of earlier cells resolve names in later ones
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            if cell.cell_type in ("markdown", "raw") and cell.source.strip():
                cells.append(v4.new_markdown_cell(cell.source))
                numbers.append(index)
            continue
        source, done, failed = _rewrite_paths(cell.source, [r for r in refs if r.evidence.cell == index])
        rewritten += done
        for literal, new_path in done:
            if literal == new_path:
                continue
            findings.append(Finding(
                code="path-rewritten", severity=Severity.INFO, evidence=Evidence(path=notebook, cell=index),
                message=f"in the module, {literal!r} reads {new_path!r} (the notebook is unchanged)"))
        for ref in failed:
            findings.append(Finding(
                code="path-not-rewritten", severity=Severity.WARNING, evidence=ref.evidence,
                message=f"could not rewrite {ref.literal!r} to {ref.resolved!r} in the module; edit it by hand",
            ))
        if _GPU.search(source):
            findings.append(Finding(
                code="gpu-code", severity=Severity.WARNING, evidence=Evidence(path=notebook, cell=index),
                message=f"cell {index} moves work to a GPU (.cuda() / device='cuda'); CI runners and the "
                        "container have none: make the device conditional (torch.cuda.is_available())"))
        source = neutralise(source)
        modern = moderniser.cell(source)
        source = modern.source
        findings += modern.findings(notebook, index)
        try:
            ast.parse(source)
        except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes in the source
            msg, lineno = (exc.msg, exc.lineno) if isinstance(exc, SyntaxError) else (str(exc), None)
            source = _comment_out(source, f"not Python 3 ({msg}" + (f", line {lineno})" if lineno else ")"))
            findings.append(Finding(
                code="cell-commented-out", severity=Severity.ERROR,
                evidence=Evidence(path=notebook, cell=index, line=lineno),
                message=f"cell {index} is not Python 3 and was commented out in the module; port it by hand",
            ))
        cells.append(v4.new_code_cell(source))
        numbers.append(index)
    findings += moderniser.summary(notebook)
    out = v4.new_notebook(cells=cells)
    out.metadata["jupytext"] = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}
    body = _number_cells(jupytext.writes(out, fmt="py:percent"), numbers)
    notebook_dir = str(Path(notebook).parent.as_posix()) or "."
    text = PROLOGUE.format(notebook=notebook, package=package, model=model_variable or "(none found)",
                           notebook_dir=notebook_dir) + body
    ast.parse(text)  # never ship a module that cannot import: the caller reports notebook-not-converted
    return Converted(text=text, findings=tuple(findings), rewritten=tuple(rewritten))
