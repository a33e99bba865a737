"""Data files in the repo and the data paths notebooks read, resolved to repo files with a reason.

``DataRef.literal`` is the text between the quotes exactly as written when the argument is a single
string literal (so the adopt workflow can find and rewrite it); for composed paths
(``os.path.join``, f-strings, names bound earlier) it is the evaluated path and ``expression`` holds
the code. Resolution order: relative to the notebook's folder, then to the repo root, then by file
name anywhere in the repo (exact case first, then ignoring case). Absolute and foreign paths are
matched by their trailing components, then by file name, never read from outside the repo.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import DataFile, DataRef, Evidence, Finding, Severity
from ._astutil import (
    Aliases,
    Cell,
    const_str,
    dotted,
    is_literal,
    line_of,
    literal_value,
    source_of,
    walk_ordered,
    written_literal,
)
from ._walk import RepoFiles, data_format, norm_name
from .notebooks import ReadNotebook, read_python_file

READ_CALLS = {
    "read_csv",
    "read_table",
    "read_parquet",
    "read_excel",
    "read_json",
    "read_feather",
    "read_fwf",
    "read_orc",
    "read_sas",
    "read_stata",
    "read_spss",
    "read_hdf",
    "loadtxt",
    "genfromtxt",
    "scan_csv",
    "scan_parquet",
    "ExcelFile",
    "read_pickle",
}
WRITE_CALLS = {"to_csv", "to_parquet", "to_excel", "to_json", "to_feather", "to_pickle", "savetxt", "to_hdf"}
PATH_KEYWORDS = (
    "filepath_or_buffer",
    "path",
    "path_or_buf",
    "path_or_buffer",
    "io",
    "fname",
    "file",
    "filename",
    "source",
    "excel_writer",
)
# The reader family of a read call: the project reads "csv" (any delimited text), "excel", "parquet", "json".
READ_FORMATS = {"read_csv": "csv", "read_table": "csv", "read_excel": "excel", "ExcelFile": "excel",
                "read_parquet": "parquet", "read_json": "json"}
# The second positional argument of a read call, by call.
_SECOND_POSITIONAL = {"read_csv": "sep", "read_table": "sep", "read_excel": "sheet_name", "read_json": "orient"}
_URL = re.compile(r"^[A-Za-z][\w+.-]*://")
_FOREIGN_PREFIXES = ("/content/", "/kaggle/", "/gdrive/", "/drive/", "/mnt/", "/dbfs/", "/datasets/")


@dataclass
class Access:
    """One read or write of a path in a notebook (internal)."""

    notebook: str
    cell: int
    line: int
    value: str  # evaluated path
    literal: str  # as written between quotes (or the evaluated path when composed)
    expression: str  # source text when composed, "" for a plain literal
    call: str
    variable: str  # name the result is assigned to ("" when none)
    snippet: str
    options: tuple[tuple[str, object], ...] = ()
    unresolved: tuple[str, ...] = ()
    format: str = ""


@dataclass
class DataScan:
    reads: list[Access] = field(default_factory=list)
    writes: list[Access] = field(default_factory=list)
    refs: list[tuple[str, DataRef]] = field(default_factory=list)
    variables: dict[int, str] = field(default_factory=dict)  # id(ref) -> assigned variable
    chained: set[int] = field(default_factory=set)  # id(ref) of reads of files other notebooks write
    findings: list[Finding] = field(default_factory=list)


def data_files(files: RepoFiles) -> list[DataFile]:
    return [
        DataFile(path=p, format=data_format(p) or "other", size_bytes=files.sizes[p])
        for p in files.data_files
    ]


def classify(value: str) -> str:
    """ "url" | "foreign" (Windows drive, UNC, Colab, Kaggle) | "absolute" (/..., ~) | "relative"."""
    if _URL.match(value):
        return "url"
    path = value.replace("\\", "/")
    if (
        re.match(r"^[A-Za-z]:/", path)
        or path.startswith("//")
        or path.startswith(_FOREIGN_PREFIXES)
        or path in ("/content", "/kaggle")
    ):
        return "foreign"
    if path.startswith(("/", "~")):
        return "absolute"
    return "relative"


def _path_arg(call: ast.Call) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg in PATH_KEYWORDS:
            return keyword.value
    return call.args[0] if call.args else None


def _mode(call: ast.Call) -> str:
    node = (
        call.args[1]
        if len(call.args) > 1
        else next((k.value for k in call.keywords if k.arg == "mode"), None)
    )
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "r"


def read_options(call: ast.Call, name: str, literals: dict[str, object], env: dict[str, str],
                 aliases: Aliases) -> tuple[tuple[tuple[str, object], ...], tuple[str, ...]]:
    """The arguments of a read call besides the path, as the notebook wrote them (literals only)."""
    from ..runtime import module

    allowed = module("tables").ALLOWED_OPTIONS.get(READ_FORMATS.get(name, ""), set()) | {"delimiter"}
    given: list[tuple[str, ast.AST]] = []
    second = _SECOND_POSITIONAL.get(name)
    if second and len(call.args) > 1:
        given.append((second, call.args[1]))
    given += [(k.arg, k.value) for k in call.keywords if k.arg and k.arg not in PATH_KEYWORDS]
    options: list[tuple[str, object]] = []
    unresolved: list[str] = []
    for key, node in given:
        if key not in allowed:
            continue
        value = literal_value(node, literals, env, aliases)
        if is_literal(value):
            options.append((key, value))
        else:
            unresolved.append(key)
    if name == "read_table" and not any(k in ("sep", "delimiter") for k, _ in options + [(u, 0) for u in unresolved]):
        options.append(("sep", "\t"))  # read_table's own default
    return tuple(options), tuple(unresolved)


def _scan_cell(
    path: str, cell: Cell, aliases: Aliases, env: dict[str, str], scan: DataScan, findings: list[Finding],
    literals: dict[str, object] | None = None,
) -> None:
    assert cell.tree is not None
    literals = {} if literals is None else literals
    assigned: dict[int, str] = {}
    for node in walk_ordered(cell.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            aliases.add(node)
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
            value = const_str(node.value, env, aliases)
            if value is not None:
                env[name] = value
            else:
                env.pop(name, None)
            literal = literal_value(node.value, literals, env, aliases) if value is None else value
            if is_literal(literal) and not isinstance(node.value, ast.Name):
                literals[name] = literal
            else:
                literals.pop(name, None)
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Call):
                    assigned.setdefault(id(inner), name)
        elif isinstance(node, ast.Call):
            _scan_call(path, cell, node, aliases, env, scan, findings, assigned.get(id(node), ""), literals)


def _scan_call(
    path: str,
    cell: Cell,
    node: ast.Call,
    aliases: Aliases,
    env: dict[str, str],
    scan: DataScan,
    findings: list[Finding],
    variable: str,
    literals: dict[str, object],
) -> None:
    qualified = aliases.resolve(node.func)
    name = node.func.attr if isinstance(node.func, ast.Attribute) else dotted(node.func)
    evidence = Evidence(path=path, cell=cell.index, line=node.lineno, snippet=line_of(cell.code, node.lineno))
    if qualified.endswith(("drive.mount", "files.upload", "files.download")) and (
        qualified.startswith("google.colab") or dotted(node.func) in ("drive.mount", "files.upload")
    ):
        findings.append(
            Finding(
                code="colab-call",
                severity=Severity.WARNING,
                evidence=evidence,
                message=f"{path} cell {cell.index} calls {dotted(node.func)}() (Colab only); the generated "
                "module cannot run it: put the data in the repo and read it by path",
            )
        )
        return
    if qualified in ("os.chdir", "chdir"):
        target = const_str(node.args[0], env, aliases) if node.args else None
        elsewhere = target is not None and classify(target) in ("absolute", "foreign")
        findings.append(
            Finding(
                code="os-chdir",
                severity=Severity.WARNING if elsewhere or target is None else Severity.INFO,
                evidence=evidence,
                message=f"{path} cell {cell.index} changes the working directory (os.chdir)"
                + (f" to {target!r}, a folder of another machine: remove the call, the module would fail there"
                   if elsewhere else
                   "; `train` runs the notebook in a copy of the project, from the copy of the notebook's "
                   "folder as Jupyter does, so a move within the project works"
                   + ("" if target is not None else " (check where it goes: Shipyard cannot tell)")),
            )
        )
        return
    is_open = qualified in ("open", "io.open", "codecs.open")
    if not (
        is_open or name in READ_CALLS or name in WRITE_CALLS or qualified in ("numpy.save", "numpy.load")
    ):
        return
    arg = _path_arg(node)
    if arg is None or (
        name in WRITE_CALLS and not node.args and not any(k.arg in PATH_KEYWORDS for k in node.keywords)
    ):
        return
    value = const_str(arg, env, aliases)
    if value is None or not value.strip() or len(value) > 1000:
        return
    literal = written_literal(cell.code, arg)
    options, unresolved = ((), ())
    if name in READ_FORMATS and not is_open:
        options, unresolved = read_options(node, name, literals, env, aliases)
    access = Access(
        notebook=path,
        cell=cell.index,
        line=node.lineno,
        value=value,
        literal=literal if literal is not None else value,
        expression="" if literal is not None else source_of(cell.code, arg),
        call=name if not is_open else "open",
        variable=variable,
        snippet=evidence.snippet,
        options=options,
        unresolved=unresolved,
        format=READ_FORMATS.get(name, "") if not is_open else "",
    )
    writing = (
        name in WRITE_CALLS or qualified == "numpy.save" or (is_open and any(c in _mode(node) for c in "wax"))
    )
    if writing:
        scan.writes.append(access)
    elif not is_open or data_format(value.replace("\\", "/")) is not None:
        scan.reads.append(access)


def _intended(access: Access) -> str:
    """The path the author meant: the written text when escapes mangled it ("D:\\dados\\train.csv")."""
    if any(c in access.value for c in "\t\n\r\a\b\f\v") and not access.expression:
        return access.literal
    return access.value


def _components(value: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", value) if p and p not in (".", "~")]


def resolve(value: str, kind: str, notebook: str, files: RepoFiles) -> tuple[str | None, str]:
    """Repo-relative path for a data path read by ``notebook``, with the reason; (None, why) if missing."""
    if kind == "url":
        return None, "remote URL, downloaded at run time"
    parts = _components(value)
    if not parts:
        return None, "not found"
    nb_dir = notebook.rsplit("/", 1)[0] if "/" in notebook else ""
    if kind == "relative":
        rel = "/".join(parts)
        tried = []
        for base, why in (
            (nb_dir, "exact path, relative to the notebook"),
            ("", "relative to the repo root"),
        ):
            candidate = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
            if candidate.startswith("../") or candidate == "..":
                continue
            found = files.lookup(candidate)
            tried.append(candidate)
            if found:
                return found, why if nb_dir else "exact path"
    matches = files.by_name(parts[-1])
    if not matches:
        return None, "not found in the repository"
    exact = [m for m in matches if m.rsplit("/", 1)[-1] == parts[-1]]
    pool = exact or matches
    wanted = [norm_name(p) for p in parts]

    def score(path: str) -> tuple[int, int, int]:
        have = [norm_name(p) for p in path.split("/")]
        common = 0
        while common < min(len(have), len(wanted)) and have[-1 - common] == wanted[-1 - common]:
            common += 1
        return (-common, 0 if path.startswith("data/") else 1, len(path))

    pool.sort(key=score)
    how = "matched by file name" + ("" if exact else ", ignoring case")
    if kind != "relative" and -score(pool[0])[0] > 1:
        how = "matched by its trailing path components"
    if len(pool) > 1:
        how += f" ({len(pool)} files share the name: {', '.join(pool[:4])}; took the closest)"
    return pool[0], how


def module_constants(root: Path, files: RepoFiles, module: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    """String and path constants of a local module (``src/config.py``: ``TRAIN_CSV = ROOT / "data" / ...``),
    with ``Path(__file__).parents[n]`` resolved to repo-relative folders ("" is the repo root)."""
    if module in cache:
        return cache[module]
    rel = module.replace(".", "/")
    found = sorted((p for p in files.py_files if p in (f"{rel}.py", f"{rel}/__init__.py")
                    or p.endswith((f"/{rel}.py", f"/{rel}/__init__.py"))), key=len)
    cache[module] = {}
    cell = read_python_file(root, found[0]) if found else None
    if cell is None or cell.tree is None:
        return cache[module]
    aliases, env = Aliases(), {"__file__": found[0]}
    for node in cell.tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            aliases.add(node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = const_str(node.value, env, aliases)
            if value is not None:
                env[node.targets[0].id] = value
    env.pop("__file__")
    cache[module] = env
    return env


def scan_data(notebooks: list[ReadNotebook], files: RepoFiles, root: Path | None = None) -> DataScan:
    scan = DataScan()
    cache: dict[str, dict[str, str]] = {}
    for nb in notebooks:
        if not nb.is_python:
            continue
        aliases, env, literals = Aliases(), {}, {}
        findings: list[Finding] = []
        for cell in nb.cells:
            if cell.tree is None:
                continue
            if root is not None:  # `from src.config import TRAIN_CSV`: the module's paths are known paths
                for node in ast.walk(cell.tree):
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        constants = module_constants(root, files, node.module, cache)
                        for alias in node.names:
                            if alias.name in constants:
                                env[alias.asname or alias.name] = constants[alias.name]
            _scan_cell(nb.path, cell, aliases, env, scan, findings, literals)
        for magic in nb.notebook.magics:
            if re.match(r"^%?cd\s", magic.snippet):
                findings.append(
                    Finding(
                        code="os-chdir",
                        severity=Severity.WARNING,
                        evidence=magic,
                        message=f"{nb.path} cell {magic.cell} changes the working directory "
                        f"({magic.snippet}); the magic is commented out in the module, which runs from "
                        "the copy of the notebook's folder: use os.chdir() there if the code needs another "
                        "folder",
                    )
                )
        scan.findings.extend(findings)
    _build_refs(scan, files)
    return scan


def _build_refs(scan: DataScan, files: RepoFiles) -> None:
    written: dict[str, list[Access]] = {}
    for write in scan.writes:
        parts = _components(_intended(write))
        if parts:
            written.setdefault(norm_name(parts[-1]), []).append(write)
    for read in scan.reads:
        intended = _intended(read)
        kind = classify(intended)
        resolved, reason = resolve(intended, kind, read.notebook, files)
        parts = _components(intended)
        writers = [
            w
            for w in written.get(norm_name(parts[-1]) if parts else "", [])
            if w.notebook != read.notebook or (w.cell, w.line) < (read.cell, read.line)
        ]
        evidence = Evidence(path=read.notebook, cell=read.cell, line=read.line, snippet=read.snippet)
        if writers and kind != "url":
            writer = writers[0]
            reason = (f"{reason}; " if resolved else "") + f"written by {writer.notebook}, cell {writer.cell}"
        ref = DataRef(
            literal=read.literal,
            call=read.call,
            kind=kind,
            resolved=resolved,
            reason=reason,
            evidence=evidence,
            expression=read.expression,
            options=read.options,
            unresolved_options=read.unresolved,
            format=read.format,
        )
        scan.refs.append((read.notebook, ref))
        scan.variables[id(ref)] = read.variable
        where = f"{read.notebook} cell {read.cell}"
        if writers and kind != "url":
            scan.chained.add(id(ref))
            scan.findings.append(
                Finding(
                    code="notebook-chain",
                    severity=Severity.INFO,
                    evidence=evidence,
                    message=f"{where} reads {read.literal!r}, which "
                    f"{writers[0].notebook} cell {writers[0].cell} writes: a file of a notebook chain"
                    + ("; the committed copy is what it reads" if resolved else ", not in the repository"),
                )
            )
        elif kind == "url":
            scan.findings.append(
                Finding(
                    code="data-url",
                    severity=Severity.INFO,
                    evidence=evidence,
                    message=f"{where} downloads data from {read.literal}; consider committing a snapshot",
                )
            )
        elif resolved is None:
            extra = f" ({kind} path)" if kind != "relative" else ""
            scan.findings.append(
                Finding(
                    code="data-missing",
                    severity=Severity.WARNING,
                    evidence=evidence,
                    message=f"{where} reads {read.literal!r}{extra}, which is not in the repository; "
                    "add the file "
                    "or pass --data",
                )
            )
        elif kind in ("absolute", "foreign"):
            scan.findings.append(
                Finding(
                    code="absolute-path",
                    severity=Severity.WARNING,
                    evidence=evidence,
                    message=f"{where} reads the {kind} path {read.literal!r}; "
                    f"that file is {resolved} in this repo ({reason})",
                )
            )
        overwrites = [
            w
            for w in scan.writes
            if w.notebook == read.notebook
            and resolved
            and resolve(_intended(w), classify(_intended(w)), w.notebook, files)[0] == resolved
            and (w.cell, w.line) > (read.cell, read.line)
        ]
        if overwrites:
            scan.findings.append(
                Finding(
                    code="data-overwritten",
                    severity=Severity.WARNING,
                    evidence=Evidence(
                        path=read.notebook,
                        cell=overwrites[0].cell,
                        line=overwrites[0].line,
                        snippet=overwrites[0].snippet,
                    ),
                    message=f"{read.notebook} cell {overwrites[0].cell} writes over {resolved}, "
                    "the data it reads "
                    f"in cell {read.cell}; rerunning it changes the training data",
                )
            )


# ``df = df[:-3]``, ``df.iloc[:-2]``, ``df.drop(df.tail(3).index)``, ``read_csv(..., skipfooter=2)``
_POSITIONAL_DROP = re.compile(
    r"(\w+(?:\.iloc)?\[\s*:\s*-\s*\d+\s*\]|\.drop\(\s*\w+\.(?:tail|head)\(\s*\d+\s*\)\.index|skipfooter\s*=\s*\d+)"
)


def positional_row_drops(notebooks: list[ReadNotebook]) -> list[Finding]:
    """Rows the notebooks drop by position: usually junk lines at the end of a hand-made export."""
    findings: list[Finding] = []
    for nb in notebooks:
        for cell in nb.notebook.code_cells:
            for number, line in enumerate(cell.source.splitlines(), start=1):
                found = _POSITIONAL_DROP.search(line)
                if found:
                    findings.append(Finding(
                        code="rows-dropped-by-position", severity=Severity.WARNING,
                        evidence=Evidence(path=nb.path, cell=cell.index, line=number, snippet=line.strip()[:120]),
                        message=f"{nb.path} cell {cell.index} drops rows by position ({found.group(0).strip()}): "
                                "the data contract and the baseline were inferred from the whole file, those rows "
                                "included; clean the file, or review the contract's types and allowed values",
                    ))
                    break
    return findings
