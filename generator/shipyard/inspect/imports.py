"""Imports of notebooks (and of the local modules they import), mapped to PyPI distributions.

Also detects APIs removed from current libraries (``removed-api``) and records, per scanned file, the
local modules it imports, so :func:`project_files` can tell which files the project runs;
:mod:`.dependencies` turns that into requirements.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..facts import Evidence, Finding, Import, Severity
from ._astutil import Aliases, Cell, dotted, line_of, walk_ordered
from ._walk import RepoFiles
from .distributions import (
    KNOWN_IMPORTS,
    PYTHON2_MODULES,
    close_match,
    declared_distribution,
    distribution_for,
    import_key,
    is_stdlib,
    normalise,
)
from .notebooks import ReadNotebook, read_python_file

# Removed module paths (prefix match on imports and attribute chains) -> advice.
REMOVED_MODULES = {
    "sklearn.cross_validation": "removed in scikit-learn 0.20; use sklearn.model_selection",
    "sklearn.grid_search": "removed in scikit-learn 0.20; use sklearn.model_selection",
    "sklearn.learning_curve": "removed in scikit-learn 0.20; use sklearn.model_selection",
    "sklearn.externals.joblib": "removed in scikit-learn 0.23; use `import joblib`",
    "sklearn.externals.six": "removed in scikit-learn 0.23; use `six` or plain Python 3",
    "sklearn.utils.testing": "removed in scikit-learn 0.24",
    "pandas.tools": "removed in pandas 0.25; use pandas.plotting",
    "pandas.io.data": "removed from pandas; use pandas-datareader",
    "statsmodels.tsa.arima_model": "removed in statsmodels 0.13; use statsmodels.tsa.arima.model.ARIMA",
    "keras.wrappers.scikit_learn": "removed in Keras 2.12+; use scikeras",
    "tensorflow.contrib": "removed in TensorFlow 2; port to TensorFlow 2 APIs",
}
# Removed names (exact qualified name, from an import or an attribute use) -> advice.
REMOVED_NAMES = {
    "sklearn.preprocessing.Imputer": "removed in scikit-learn 0.22; use sklearn.impute.SimpleImputer",
    "sklearn.externals.joblib": "removed in scikit-learn 0.23; use `import joblib`",
    "sklearn.datasets.load_boston": "removed in scikit-learn 1.2",
    "sklearn.metrics.plot_confusion_matrix": "removed in scikit-learn 1.2; use ConfusionMatrixDisplay",
    "sklearn.metrics.plot_roc_curve": "removed in scikit-learn 1.2; use RocCurveDisplay",
    "sklearn.metrics.plot_precision_recall_curve": "removed in scikit-learn 1.2; use PrecisionRecallDisplay",
    "numpy.float": "removed in NumPy 1.24; use float",
    "numpy.int": "removed in NumPy 1.24; use int",
    "numpy.bool": "removed in NumPy 1.24; use bool",
    "numpy.object": "removed in NumPy 1.24; use object",
    "numpy.complex": "removed in NumPy 1.24; use complex",
    "numpy.str": "removed in NumPy 1.24; use str",
    "numpy.long": "removed in NumPy 1.24; use int",
    "numpy.unicode": "removed in NumPy 1.24; use str",
    "pandas.datetime": "removed in pandas 2.0; use `from datetime import datetime`",
    "pandas.Panel": "removed in pandas 1.0",
    "pandas.rolling_mean": "removed; use .rolling().mean()",
    "scipy.misc.imread": "removed in SciPy 1.2; use imageio.imread",
    "scipy.misc.imresize": "removed in SciPy 1.3; use PIL or skimage.transform.resize",
    "tensorflow.Session": "TensorFlow 1 API; use tf.compat.v1.Session or port to TF2",
    "tensorflow.placeholder": "TensorFlow 1 API; use tf.compat.v1.placeholder or port to TF2",
}
# Removed DataFrame methods, recognised on names known to hold a DataFrame.
REMOVED_METHODS = {
    "append": "DataFrame.append was removed in pandas 2.0; use pd.concat",
    "as_matrix": "DataFrame.as_matrix was removed in pandas 1.0; use .to_numpy()",
    "get_value": "DataFrame.get_value was removed in pandas 1.0; use .at[]",
    "set_value": "DataFrame.set_value was removed in pandas 1.0; use .at[]",
}
_IMPLIED = {
    "read_parquet": "pyarrow",
    "to_parquet": "pyarrow",
    "read_excel": "openpyxl",
    "to_excel": "openpyxl",
    "read_feather": "pyarrow",
}
_PIP_INSTALL = re.compile(r"^(?:[!%]\s*)?(?:pip3?|python\s+-m\s+pip)\s+install\s+(.+)$")


@dataclass
class ImportScan:
    imports: list[Import] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    local_modules: dict[str, list[str]] = field(default_factory=dict)  # on an import root
    nested_modules: dict[str, list[str]] = field(default_factory=dict)  # elsewhere in the repo
    uses: dict[str, set[str]] = field(default_factory=dict)  # scanned file -> local modules it imports
    implied: dict[tuple[str, str], str] = field(default_factory=dict)  # (dist, file) -> reason (engines)
    installed_in_notebook: dict[tuple[str, str], str] = field(default_factory=dict)  # (dist, nb) -> spec
    typos: set[str] = field(default_factory=set)  # import names that look like typos: not requirements
    optional: set[tuple[str, str]] = field(default_factory=set)  # (module, file) only imported in try/except

    def module_files(self, name: str) -> list[str]:
        return self.local_modules.get(name) or self.nested_modules.get(name, [])


def nested_modules(files: RepoFiles, on_roots: dict[str, list[str]]) -> dict[str, list[str]]:
    """Modules and packages deeper in the repo, importable once their folder is on ``sys.path``
    (``sys.path.append('../helpers')``, a helper importing its sibling): name -> .py files.

    Names of the standard library or of known distributions are left out: those imports stay what
    they are unless the module sits on an import root.
    """
    found: dict[str, list[str]] = {}
    for py in files.py_files:
        parts = py.split("/")
        for name in [parts[-1][:-3], *parts[:-1]]:
            if name.isidentifier() and name != "__init__" and name not in on_roots:
                found.setdefault(name, []).append(py)
    return {k: v for k, v in found.items() if k not in KNOWN_IMPORTS and not is_stdlib(k)}


def find_local_modules(files: RepoFiles) -> dict[str, list[str]]:
    """Importable names defined in the repo -> their .py files.

    Import roots are the repo root, ``src/`` and every folder holding a notebook (a notebook's
    working directory is its folder).
    """
    roots = {"", "src"} | {nb.rsplit("/", 1)[0] for nb in files.notebooks if "/" in nb}
    modules: dict[str, list[str]] = {}
    for py in files.py_files:
        for base in roots:
            prefix = f"{base}/" if base else ""
            if not py.startswith(prefix):
                continue
            parts = py[len(prefix) :].split("/")
            name = parts[0][:-3] if len(parts) == 1 else parts[0]
            if len(parts) > 1 and f"{prefix}{parts[0]}/__init__.py" not in files.sizes and len(parts) > 2:
                continue  # deep folders without __init__.py are not packages we can see
            if name.isidentifier() and name != "__init__":
                modules.setdefault(name, []).append(py)
    return modules


def _in_import_guard(parents: dict[ast.AST, ast.AST], node: ast.AST) -> bool:
    current = parents.get(node)
    while current is not None:
        if isinstance(current, ast.Try):
            return True
        current = parents.get(current)
    return False


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _optional_import(parents: dict[ast.AST, ast.AST], node: ast.AST) -> bool:
    """An import in the body of ``try:`` whose handler catches its failure (``except ImportError:``)."""
    child, current = node, parents.get(node)
    while current is not None:
        if isinstance(current, ast.Try) and child in current.body:
            for handler in current.handlers:
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(t is None or dotted(t).rsplit(".", 1)[-1] in _IMPORT_ERRORS for t in types):
                    return True
        child, current = current, parents.get(current)
    return False


def _frames(tree: ast.Module, aliases: Aliases, frames: set[str]) -> None:
    """Names assigned from pandas calls (``df = pd.read_csv(..)``) or methods of known frames."""
    for node in walk_ordered(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            call = value.func if isinstance(value, ast.Call) else None
            if call is not None and aliases.resolve(call).startswith("pandas."):
                frames.add(node.targets[0].id)
            elif call is not None and isinstance(call, ast.Attribute) and dotted(call.value) in frames:
                frames.add(node.targets[0].id)


def scan_cells(path: str, cells: list[Cell], scan: ImportScan, local: set[str]) -> set[str]:
    """Record imports and removed APIs of one notebook (or .py file); return the local modules it uses."""
    aliases = Aliases()
    seen: set[str] = set()
    used_local: set[str] = set()
    frames: set[str] = set()
    reported: set[tuple[str, int]] = set()

    def removed(api: str, advice: str, cell: Cell, node: ast.AST) -> None:
        line = getattr(node, "lineno", None)
        if (api, cell.index) in reported:
            return
        reported.add((api, cell.index))
        scan.findings.append(
            Finding(
                code="removed-api",
                severity=Severity.WARNING,
                evidence=Evidence(
                    path=path, cell=cell.index or None, line=line, snippet=line_of(cell.code, line or 0)
                ),
                message=f"{path}{_where(cell, line)} uses {api}: {advice}",
            )
        )

    for cell in cells:
        if cell.tree is None:
            continue
        parents = {child: node for node in ast.walk(cell.tree) for child in ast.iter_child_nodes(node)}
        for node in walk_ordered(cell.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                aliases.add(node)
                if isinstance(node, ast.ImportFrom) and node.level:
                    continue
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for full in names:
                    for api, advice in REMOVED_MODULES.items():
                        if full == api or full.startswith(api + "."):
                            removed(api, advice, cell, node)
                    if isinstance(node, ast.ImportFrom):
                        for alias in node.names:
                            qualified = f"{full}.{alias.name}"
                            if qualified in REMOVED_NAMES:
                                removed(qualified, REMOVED_NAMES[qualified], cell, node)
                    key = import_key(full)
                    if not key:
                        continue
                    optional = _optional_import(parents, node)
                    if key in seen:
                        if not optional:
                            scan.optional.discard((key, path))
                        continue
                    seen.add(key)
                    if optional:
                        scan.optional.add((key, path))
                    _record(path, cell, node, key, scan, local, used_local, _in_import_guard(parents, node))
            elif isinstance(node, ast.Attribute):
                qualified = aliases.resolve(node)
                module = next(
                    (a for a in REMOVED_MODULES if qualified == a or qualified.startswith(a + ".")), None
                )
                if qualified in REMOVED_NAMES:
                    removed(qualified, REMOVED_NAMES[qualified], cell, node)
                elif module is not None:
                    removed(module, REMOVED_MODULES[module], cell, node)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "ix"
            ):
                removed("DataFrame.ix", "removed in pandas 1.0; use .loc or .iloc", cell, node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                attr = node.func.attr
                receiver = dotted(node.func.value)
                if attr in REMOVED_METHODS and (receiver in frames or re.match(r"^df\w*$", receiver)):
                    removed(f"DataFrame.{attr}", REMOVED_METHODS[attr], cell, node)
                if attr in _IMPLIED:
                    scan.implied.setdefault((_IMPLIED[attr], path), f"{attr} in {path}")
        _frames(cell.tree, aliases, frames)
    for cell in cells:
        for line in cell.source.splitlines():
            match = _PIP_INSTALL.match(line.strip())
            if match:
                for token in match.group(1).split():
                    if token.startswith("-"):
                        continue
                    from .requirements import parse_requirement

                    parsed = parse_requirement(token.strip("'\""))
                    if parsed:
                        key = normalise(declared_distribution(parsed[0]))
                        scan.installed_in_notebook.setdefault((key, path), parsed[1])
    scan.uses[path] = used_local
    return used_local


def _where(cell: Cell, line: int | None) -> str:
    text = f" cell {cell.index}" if cell.index else ""
    return text + (f" line {line}" if line else "")


def _record(
    path: str,
    cell: Cell,
    node: ast.AST,
    key: str,
    scan: ImportScan,
    local: set[str],
    used_local: set[str],
    guarded: bool,
) -> None:
    line = getattr(node, "lineno", None)
    evidence = Evidence(path=path, cell=cell.index or None, line=line, snippet=line_of(cell.code, line or 0))
    top = key.split(".")[0]
    if top in local:
        used_local.add(top)
        scan.imports.append(Import(module=top, distribution=None, kind="local", evidence=evidence))
        return
    if is_stdlib(key):
        scan.imports.append(Import(module=top, distribution=None, kind="stdlib", evidence=evidence))
        return
    if top in PYTHON2_MODULES:
        scan.imports.append(Import(module=top, distribution=None, kind="stdlib", evidence=evidence))
        if not guarded:
            scan.findings.append(
                Finding(
                    code="python2-module",
                    severity=Severity.WARNING,
                    evidence=evidence,
                    message=f"{path}{_where(cell, line)} imports {top}, a Python 2 module; "
                    f"use {PYTHON2_MODULES[top]} in Python 3",
                )
            )
        return
    distribution, known = distribution_for(key)
    if known and distribution is None:
        scan.imports.append(Import(module=key, distribution=None, kind="unavailable", evidence=evidence))
        scan.findings.append(
            Finding(
                code="colab-only",
                severity=Severity.WARNING,
                evidence=evidence,
                message=f"{path}{_where(cell, line)} imports {key}, which exists only on Colab/Kaggle and "
                "cannot be installed; remove it (and the calls that use it) from the module",
            )
        )
        return
    scan.imports.append(Import(module=key, distribution=distribution, kind="third-party", evidence=evidence))
    if known or guarded:
        return
    typo = close_match(key)
    if typo:
        scan.typos.add(key)
        scan.findings.append(
            Finding(
                code="unknown-distribution",
                severity=Severity.WARNING,
                evidence=evidence,
                message=f"{path}{_where(cell, line)} imports {key}, which is not a known package: "
                f"a typo of {typo}?",
            )
        )
    else:
        scan.findings.append(
            Finding(
                code="unknown-import",
                severity=Severity.INFO,
                evidence=evidence,
                message=f"{path}{_where(cell, line)} imports {key}; assuming the PyPI distribution is "
                f"named {distribution}",
            )
        )


def scan_imports(root: Path, notebooks: list[ReadNotebook], files: RepoFiles) -> ImportScan:
    """Imports of every Python notebook and of the repo's modules they import, transitively."""
    scan = ImportScan(local_modules=find_local_modules(files))
    scan.nested_modules = nested_modules(files, scan.local_modules)
    local = set(scan.local_modules) | set(scan.nested_modules)
    pending: list[str] = []
    for nb in notebooks:
        if nb.is_python:
            pending.extend(sorted(scan_cells(nb.path, nb.cells, scan, local)))
    done: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in done:
            continue
        done.add(name)
        for py in scan.module_files(name)[:200]:
            cell = None if py in scan.uses else read_python_file(root, py)
            if cell is not None:
                pending.extend(sorted(scan_cells(py, [cell], scan, local) - done))
    return scan


def project_files(scan: ImportScan, notebook: str) -> set[str]:
    """The files the project runs: ``notebook`` and the repo's modules it imports, transitively."""
    files = {notebook}
    pending = [notebook]
    while pending:
        for name in sorted(scan.uses.get(pending.pop(), ())):
            for py in scan.module_files(name)[:200]:
                if py not in files:
                    files.add(py)
                    pending.append(py)
    return files
