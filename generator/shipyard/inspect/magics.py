"""Neutralise IPython syntax in cell sources so they parse as Python 3; detect Python 2 cells.

``neutralise`` decisions (the adopt workflow relies on them):

* Every neutralised line keeps its line number. A line is commented out with the ``# [shipyard] ``
  prefix; when the line is indented (inside a block) it becomes ``pass  # [shipyard] <line>`` so the
  block is not left empty.
* ``%time stmt`` / ``%timeit [-n N ...] stmt`` / ``%prun stmt`` keep the statement, which runs once:
  ``x = f()  # [shipyard] %time``. A model fitted under ``%time`` is still fitted.
* Cell magics ``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``, ``%%debug`` have a Python body: only
  the magic line is commented. Any other cell magic (``%%R``, ``%%bash``, ``%%writefile``, ...) comments
  out the whole cell.
* Other line magics (``%matplotlib inline``), shell escapes (``!pip install x``, ``x = !ls``),
  ``x = %sx ls``, help (``df?``), lines calling ``get_ipython()`` and automagic lines (a bare
  ``pip install x`` or ``cd data`` that is not valid Python) are commented out.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ._astutil import parse

MARK = "# [shipyard] "

_PY_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
_KEEP_STATEMENT = {"time", "timeit", "prun"}
# fmt: off
_AUTOMAGIC = {
    "pip", "pip3", "conda", "mamba", "cd", "ls", "pwd", "mkdir", "rmdir", "rm", "cp", "mv", "cat", "wget",
    "curl", "apt-get", "apt", "git", "unzip", "tar", "echo", "env", "set_env", "who", "whos", "reset",
    "clear", "history", "alias", "matplotlib", "load_ext", "reload_ext", "autoreload", "run", "config",
    "pylab", "precision", "store", "xmode", "magic", "lsmagic", "time", "timeit", "sx", "system",
    "bookmark", "dhist", "pushd", "popd", "less", "more", "man", "pinfo", "pdef", "pdoc", "psource",
    "pfile", "pdb", "tb", "save", "load", "rehashx", "nvidia-smi", "head", "tail",
}
# fmt: on
_AUTOMAGIC_LINE = re.compile(r"^([A-Za-z_][\w-]*)(?:\s+(.*))?$")
_NOT_A_COMMAND = re.compile(r"^(=|\(|\[|,|:|\.[A-Za-z_]|[+*/%<>&|^]=?\s|-\s|is\b|in\b|if\b|for\b|and\b|or\b)")
_HELP = re.compile(r"^(\?\??[\w.]+|[\w.\[\]()'\"]+\?\??)$")
_ASSIGN_MAGIC = re.compile(r"^[A-Za-z_][\w.]*\s*=\s*[!%]")
_OPTION = re.compile(r"^-(?:[nrp]\s*\d+|[a-z]+)\s*")


@dataclass
class _ScanState:
    quote: str = ""
    depth: int = 0
    continued: bool = False


def _scan(line: str, state: _ScanState) -> None:
    """Track open strings and brackets so magics are only recognised at a logical line start."""
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if state.quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(state.quote, i):
                i += len(state.quote)
                state.quote = ""
                continue
            i += 1
            continue
        if ch == "#":
            break
        if ch in "\"'":
            state.quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else ch
            i += len(state.quote)
            continue
        if ch in "([{":
            state.depth += 1
        elif ch in ")]}":
            state.depth = max(0, state.depth - 1)
        i += 1
    stripped = line.rstrip()
    state.continued = stripped.endswith("\\")
    if state.quote in ('"', "'") and not state.continued:
        state.quote = ""


def _comment(indent: str, stripped: str) -> str:
    return f"{indent}pass  {MARK}{stripped}" if indent else f"{MARK}{stripped}"


def _is_automagic(stripped: str) -> bool:
    match = _AUTOMAGIC_LINE.match(stripped)
    if not match or match.group(1) not in _AUTOMAGIC:
        return False
    rest = match.group(2) or ""
    if not rest or _NOT_A_COMMAND.match(rest):
        return False
    return parse(stripped)[0] is None


def _neutralise_line(indent: str, stripped: str) -> str | None:
    """The replacement for a magic line, None when the line is ordinary Python."""
    if stripped.startswith("%") and not stripped.startswith("%%"):
        match = re.match(r"%(\w+)\s*(.*)$", stripped)
        if match and match.group(1) in _KEEP_STATEMENT and match.group(2).strip():
            statement = match.group(2).strip()
            while _OPTION.match(statement):
                statement = _OPTION.sub("", statement, count=1)
            if statement and parse(statement)[0] is not None:
                return f"{indent}{statement}  {MARK}%{match.group(1)}"
        return _comment(indent, stripped)
    if stripped.startswith(("%%", "!")) or _ASSIGN_MAGIC.match(stripped):
        return _comment(indent, stripped)
    if _HELP.match(stripped):
        return _comment(indent, stripped)
    if "get_ipython(" in stripped.split("#", 1)[0]:
        return _comment(indent, stripped)
    if _is_automagic(stripped):
        return _comment(indent, stripped)
    return None


def neutralise(source: str) -> str:
    """Return ``source`` with IPython-only syntax commented out (see the module docstring).

    Line numbers are preserved, so evidence found in the result points into the original cell.
    """
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    start = 0
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = re.match(r"%%(\w*)", lines[first].lstrip())
        name = magic.group(1) if magic else ""
        out.extend(lines[:first])
        out.append(MARK + lines[first].strip())
        start = first + 1
        if name not in _PY_BODY_CELL_MAGICS:
            out.extend(MARK + line if line.strip() else line for line in lines[start:])
            return "\n".join(out)
    state = _ScanState()
    for line in lines[start:]:
        at_start = not state.quote and state.depth == 0 and not state.continued
        stripped = line.lstrip()
        replaced = None
        if at_start and stripped and not stripped.startswith("#"):
            replaced = _neutralise_line(line[: len(line) - len(stripped)], stripped.rstrip())
        if replaced is None:
            out.append(line)
            _scan(line, state)
        else:
            out.append(replaced)
    return "\n".join(out)


def magic_lines(source: str, neutralised: str) -> list[tuple[int, str]]:
    """(1-based line, original text) of the lines ``neutralise`` changed."""
    before = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    after = neutralised.split("\n")
    return [(i, b.strip()) for i, (b, a) in enumerate(zip(before, after, strict=False), start=1) if b != a]


def cell_parses(source: str) -> tuple[bool, str]:
    """Whether ``source`` parses as Python 3 once magics are neutralised, and the error if not."""
    tree, error = parse(neutralise(source))
    if tree is not None:
        return True, ""
    return False, error_text(error)


def salvage(code: str) -> ast.Module | None:
    """The single-line, unindented statements of a cell that does not parse (imports and reads of a
    Python 2 cell), with their original line numbers; None when nothing parses."""
    body: list[ast.stmt] = []
    for number, line in enumerate(code.split("\n"), start=1):
        if not line or line[0].isspace() or line.endswith(("\\", ":", ",", "(", "[", "{")):
            continue
        tree, _ = parse(line)
        if tree is not None and tree.body:
            ast.increment_lineno(tree, number - 1)
            body.extend(tree.body)
    return ast.Module(body=body, type_ignores=[]) if body else None


def error_text(error: SyntaxError | None) -> str:
    if error is None:
        return "does not parse"
    return f"{error.msg} (line {error.lineno})" if error.lineno else str(error.msg)


_PY2_MESSAGES = (
    "Missing parentheses in call to",
    "multiple exception types must be parenthesized",
    "leading zeros in decimal integer literals",
)
_PY2_LINE = re.compile(
    r"^\s*(print\s+[^\s=(.,)\]}]|print\s*>>|exec\s+[\"'\w]|raise\s+\w+\s*,|except\s+[\w.]+\s*,\s*\w+\s*:)"
    r"|`[^`]+`|<>|\bur[\"']"
)


def is_python2(code: str, error: SyntaxError | None) -> bool:
    """Heuristic: the cell fails as Python 3 because it is Python 2 (``print "x"`` and friends)."""
    if error is not None and any(m in str(error.msg) for m in _PY2_MESSAGES):
        return True
    return any(_PY2_LINE.search(line) for line in code.split("\n") if not line.lstrip().startswith("#"))
