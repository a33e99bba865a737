"""Model files the training notebook saves: ``joblib.dump(model, "m.pkl")``, ``pickle.dump(model, f)``
with ``f = open("m.pkl", "wb")`` (or ``with open(...) as f``), ``model.save_model("m.json")``.

When such a file is committed, `train --from-file` can register it without re-running the notebook
(an Optuna search that takes an hour, say). Paths resolve like data paths (the notebook's folder,
then the repo root, then by name).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ._astutil import Aliases, const_str, walk_ordered
from ._walk import RepoFiles
from .data import classify, resolve
from .notebooks import ReadNotebook

_DUMPS = {"joblib.dump", "pickle.dump", "cloudpickle.dump", "dill.dump", "sklearn.externals.joblib.dump"}
# What `train --from-file` loads: pickles (joblib reads them all, whatever the suffix), XGBoost and CatBoost files.
_MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".bin", ".json", ".ubj", ".cbm")


@dataclass(frozen=True)
class SavedModel:
    variable: str  # what was saved ("model")
    path: str  # repo-relative path of the committed file
    cell: int


def _open_path(node: ast.AST, handles: dict[str, str], env: dict[str, str], aliases: Aliases) -> str | None:
    """The path of ``open("x", "wb")`` or of a name bound to one."""
    if isinstance(node, ast.Name):
        return handles.get(node.id)
    if isinstance(node, ast.Call) and aliases.resolve(node.func) in ("open", "io.open") and node.args:
        return const_str(node.args[0], env, aliases)
    return None


def saved_models(nb: ReadNotebook, files: RepoFiles) -> list[SavedModel]:
    """Committed files the notebook saves objects to, with the variable saved, in code order."""
    out: list[SavedModel] = []
    if not nb.is_python:
        return out
    aliases, env, handles = Aliases(), {}, {}
    for cell in nb.cells:
        if cell.tree is None:
            continue
        for node in walk_ordered(cell.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                aliases.add(node)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                text = const_str(node.value, env, aliases)
                if text is not None:
                    env[node.targets[0].id] = text
                opened = _open_path(node.value, handles, env, aliases)
                if opened is not None:
                    handles[node.targets[0].id] = opened
            elif isinstance(node, ast.With):
                for item in node.items:
                    opened = _open_path(item.context_expr, handles, env, aliases)
                    if opened is not None and isinstance(item.optional_vars, ast.Name):
                        handles[item.optional_vars.id] = opened
            elif isinstance(node, ast.Call):
                found = _saved(node, handles, env, aliases)
                if found is None:
                    continue
                variable, value = found
                if not value.lower().endswith(_MODEL_SUFFIXES):
                    continue
                resolved, _ = resolve(value, classify(value), nb.path, files)
                if resolved is not None:
                    out.append(SavedModel(variable, resolved, cell.index))
    return out


def _saved(node: ast.Call, handles: dict[str, str], env: dict[str, str], aliases: Aliases) -> tuple[str, str] | None:
    qualified = aliases.resolve(node.func)
    if qualified in _DUMPS and len(node.args) >= 2 and isinstance(node.args[0], ast.Name):
        target = node.args[1]
        path = const_str(target, env, aliases) or _open_path(target, handles, env, aliases)
        return (node.args[0].id, path) if path else None
    if (isinstance(node.func, ast.Attribute) and node.func.attr == "save_model" and node.args
            and isinstance(node.func.value, ast.Name)):
        path = const_str(node.args[0], env, aliases)
        return (node.func.value.id, path) if path else None
    return None


def choose_model_file(saved: list[SavedModel], variable: str) -> str:
    """The committed file of the chosen model variable (its last save), else ""."""
    mine = [s for s in saved if s.variable == variable]
    return mine[-1].path if mine else ""
