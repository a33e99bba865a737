"""Find and read notebooks (nbformat v3 and v4, plain ``json``) and check their cells.

Only cell sources are kept: outputs (possibly tens of MB of base64 plots) are dropped as soon as the
JSON is parsed. A notebook that cannot be read becomes a ``notebook-unreadable`` finding and the
others are still processed. ``neutralise`` and ``cell_parses`` live in :mod:`.magics` (re-exported
here); see that module for how each IPython construct is handled.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import CodeCell, Evidence, Finding, Notebook, Severity
from ._astutil import Cell, parse
from .magics import MARK, cell_parses, error_text, is_python2, magic_lines, neutralise, salvage

__all__ = ["MARK", "cell_parses", "neutralise", "read_notebook", "read_python_file", "ReadNotebook"]


@dataclass
class ReadNotebook:
    """A notebook read for inspection: the facts plus the parsed cells the other modules walk."""

    notebook: Notebook
    cells: list[Cell]
    findings: list[Finding] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.notebook.path

    @property
    def is_python(self) -> bool:
        return self.notebook.language.lower() in ("", "python", "python2", "python3")


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(v if isinstance(v, str) else str(v) for v in value)
    return value if isinstance(value, str) else ""


def _unreadable(path: str, why: str) -> Finding:
    return Finding(
        code="notebook-unreadable",
        severity=Severity.ERROR,
        evidence=Evidence(path=path),
        message=f"{path} cannot be read as a notebook ({why}); it was skipped",
    )


#: Above this size a notebook is read without its outputs (streamed, see :mod:`._slim`), in bounded memory.
LARGE_NOTEBOOK_BYTES = 50 * 1024 * 1024


def _large(rel: str, size: int, dropped: int) -> Finding:
    return Finding(
        code="notebook-large",
        severity=Severity.INFO,
        evidence=Evidence(path=rel),
        message=f"{rel} is {size / 1e6:.0f} MB, {dropped / 1e6:.0f} MB of it outputs and attachments: those were "
        "not read, only its cells (clear the outputs before committing to keep the repo small)",
    )


def _load(root: Path, rel: str) -> tuple[dict[str, object] | None, int, Finding | None]:
    full = root / rel
    note: Finding | None = None
    try:
        size = os.stat(full).st_size
        if size > LARGE_NOTEBOOK_BYTES:
            from ._slim import SlimError, slim_json

            with open(full, "rb") as handle:
                try:
                    raw, dropped = slim_json(handle)
                except SlimError as exc:
                    return None, size, _unreadable(rel, str(exc))
            note = _large(rel, size, dropped)
        else:
            raw = full.read_bytes()
    except OSError as exc:
        return None, 0, _unreadable(rel, exc.strerror or type(exc).__name__)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, size, _unreadable(rel, f"not UTF-8: byte {exc.start}")
    del raw
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return None, size, _unreadable(rel, f"malformed JSON {where}".strip())
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        return None, size, _unreadable(rel, "JSON without 'cells' or 'worksheets': not a Jupyter notebook")
    return data, size, note


def read_notebook(root: Path, rel: str) -> tuple[ReadNotebook | None, list[Finding]]:
    """Read one notebook. Returns (None, [notebook-unreadable]) when it cannot be used."""
    data, size, problem = _load(root, rel)
    if data is None:
        return None, [problem] if problem else []
    note = [problem] if problem is not None else []
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    nbformat = (
        data.get("nbformat") if isinstance(data.get("nbformat"), int) else (3 if "worksheets" in data else 4)
    )
    minor = data.get("nbformat_minor") if isinstance(data.get("nbformat_minor"), int) else 0
    raw_cells: list[object] = []
    if "worksheets" in data and isinstance(data["worksheets"], list):
        for sheet in data["worksheets"]:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                raw_cells.extend(sheet["cells"])
    elif isinstance(data.get("cells"), list):
        raw_cells = list(data["cells"])
    del data
    kernelspec = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    info = meta.get("language_info") if isinstance(meta.get("language_info"), dict) else {}
    assert isinstance(kernelspec, dict) and isinstance(info, dict)
    kernel = str(kernelspec.get("name") or "")
    language = str(kernelspec.get("language") or info.get("name") or "")
    sources: list[tuple[int, str]] = []
    v3_languages: set[str] = set()
    for index, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if nbformat < 4:
            sources.append((index, _text(cell.get("input"))))
            if isinstance(cell.get("language"), str):
                v3_languages.add(cell["language"])
        else:
            sources.append((index, _text(cell.get("source"))))
    if not language and v3_languages:
        language = sorted(v3_languages)[0]
    version = str(info.get("version") or "")
    python2_kernel = kernel in ("python2", "python27") or version.startswith("2.")
    read, _ = _analyse(rel, nbformat, minor, kernel, language, len(raw_cells), size, sources, python2_kernel)
    read.findings[:0] = note
    return read, []


def _analyse(
    rel: str,
    nbformat: int,
    minor: int,
    kernel: str,
    language: str,
    n_cells: int,
    size: int,
    sources: list[tuple[int, str]],
    python2_kernel: bool,
) -> tuple[ReadNotebook, list[Finding]]:
    findings: list[Finding] = []
    is_python = language.lower() in ("", "python", "python2", "python3")
    cells: list[Cell] = []
    code_cells: list[CodeCell] = []
    magics: list[Evidence] = []
    py2_cells: list[tuple[int, int | None, str]] = []
    r_cells: list[int] = []
    for index, source in sources:
        if not is_python:
            cells.append(Cell(index, source, "", None))
            code_cells.append(
                CodeCell(index=index, source=source, parses=False, error=f"not Python ({language} notebook)")
            )
            continue
        code = neutralise(source)
        for line, text in magic_lines(source, code):
            magics.append(Evidence(path=rel, cell=index, line=line, snippet=text[:160]))
        if re.match(r"\s*%%R\b", source):
            r_cells.append(index)
        tree, error = parse(code)
        cells.append(Cell(index, source, code, tree if tree is not None else salvage(code)))
        code_cells.append(
            CodeCell(
                index=index,
                source=source,
                parses=tree is not None,
                error="" if tree is not None else error_text(error),
            )
        )
        if tree is not None:
            continue
        if is_python2(code, error):
            py2_cells.append((index, error.lineno if error else None, error_text(error)))
        else:
            findings.append(
                Finding(
                    code="cell-not-python3",
                    severity=Severity.ERROR,
                    evidence=Evidence(path=rel, cell=index, line=error.lineno if error else None),
                    message=f"{rel} cell {index} does not parse as Python 3: {error_text(error)}",
                )
            )
    if py2_cells:
        index, line, text = py2_cells[0]
        listed = ", ".join(str(c[0]) for c in py2_cells[:20]) + (", ..." if len(py2_cells) > 20 else "")
        kernel_note = f" (kernel {kernel})" if python2_kernel else ""
        findings.append(
            Finding(
                code="python2-syntax",
                severity=Severity.ERROR,
                evidence=Evidence(path=rel, cell=index, line=line),
                message=f"{rel} is Python 2 code{kernel_note}: "
                f"{len(py2_cells)} cell(s) do not parse as Python 3 "
                f"(cells {listed}; first: {text}); port them, e.g. print x -> print(x)",
            )
        )
    elif python2_kernel and is_python:
        findings.append(
            Finding(
                code="python2-kernel",
                severity=Severity.INFO,
                evidence=Evidence(path=rel),
                message=f"{rel} declares a Python 2 kernel ({kernel or 'python 2'}); "
                "its cells parse as Python 3",
            )
        )
    if not is_python:
        findings.append(
            Finding(
                code="non-python-notebook",
                severity=Severity.INFO,
                evidence=Evidence(path=rel),
                message=f"{rel} is a {language} notebook; it is not inspected as Python",
            )
        )
    elif not any(s.strip() for _, s in sources):
        findings.append(
            Finding(
                code="no-code-cells",
                severity=Severity.INFO,
                evidence=Evidence(path=rel),
                message=f"{rel} has no code (an exercise or text-only notebook)",
            )
        )
    if r_cells:
        findings.append(
            Finding(
                code="r-cells",
                severity=Severity.INFO,
                evidence=Evidence(path=rel, cell=r_cells[0]),
                message=f"{rel} has R cells (%%R, cells {', '.join(map(str, r_cells))}); "
                "they are commented out in the generated module",
            )
        )
    notebook = Notebook(
        path=rel,
        nbformat=nbformat,
        nbformat_minor=minor,
        kernel=kernel,
        language=language or "python",
        cells=n_cells,
        code_cells=tuple(code_cells),
        size_bytes=size,
        magics=tuple(magics),
    )
    return ReadNotebook(notebook, cells, findings), []


def read_python_file(root: Path, rel: str, max_bytes: int = 2_000_000) -> Cell | None:
    """A ``.py`` file as a single cell (index 0), decoded per PEP 263 with a latin-1 fallback."""
    import io
    import tokenize

    try:
        if os.stat(root / rel).st_size > max_bytes:
            return None
        raw = (root / rel).read_bytes()
    except OSError:
        return None
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        text = raw.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        text = raw.decode("latin-1")
    code = neutralise(text)
    return Cell(0, text, code, parse(code)[0])
