"""The target column: traced from the fit call back to ``df["col"]``, formulas, drops, or column names."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..facts import Choice, Evidence, Finding, Severity
from ._astutil import const_str, dotted
from .model import Fit, NotebookModel

TARGET_NAMES = (
    "target",
    "label",
    "labels",
    "y",
    "class",
    "churn",
    "outcome",
    "survived",
    "is_fraud",
    "fraud",
    "default",
    "diagnosis",
    "price",
    "saleprice",
    "quality",
    "response",
    "result",
    "status",
    "species",
)
_TARGET_LIKE = re.compile(r"(^|_)(target|label|churn(ed)?|default(ed)?|fraud|survived|outcome)($|_)")
_Y_NAME = re.compile(r"^(y|Y|target|labels?)(_?(train|tr|all|full))?$")


@dataclass
class Candidate:
    column: str
    how: str
    evidence: Evidence | None
    frame: str = ""
    others: tuple[str, ...] = ()  # more target columns of a multi-output fit


def _binding(nbm: NotebookModel, name: str, before: int):  # type: ignore[no-untyped-def]
    bound = [b for b in nbm.bindings.get(name, []) if b.seq < before]
    return bound[-1] if bound else None


def trace_column(nbm: NotebookModel, node: ast.AST | None, before: int, depth: int = 0) -> Candidate | None:
    """Follow ``y_train`` back to ``df["col"]`` / ``df.col`` / ``df.pop("col")`` (best effort)."""
    if node is None or depth > 12:
        return None
    env = nbm.env
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "loc":
            index = node.slice
            if isinstance(index, ast.Tuple) and len(index.elts) == 2:
                column = const_str(index.elts[1], env)
                if column is not None:
                    return Candidate(column, "", None, dotted(node.value.value))
            return None
        key = node.slice
        if isinstance(key, ast.List) and len(key.elts) == 1:
            key = key.elts[0]
        column = const_str(key, env)
        if column is not None:
            return Candidate(column, "", None, dotted(node.value))
        several = nbm.lists.get(key.id) if isinstance(key, ast.Name) else None
        if isinstance(key, ast.List):
            several = [c for c in (const_str(e, env) for e in key.elts) if c is not None]
        if several:  # y = df[["a", "b"]]: several outputs; the project trains on one
            return Candidate(several[0], "", None, dotted(node.value), others=tuple(several[1:]))
        return None
    if isinstance(node, ast.Attribute):
        if node.attr in ("values", "T", "array"):
            return trace_column(nbm, node.value, before, depth + 1)
        base = dotted(node.value)
        if base and (base in nbm.frames or re.match(r"^(df|data|train|dataset)\w*$", base)):
            return Candidate(node.attr, "", None, base)
        return None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr == "pop" and node.args:
                column = const_str(node.args[0], env)
                return Candidate(column, "", None, dotted(func.value)) if column is not None else None
            if func.attr in (
                "ravel",
                "to_numpy",
                "astype",
                "reshape",
                "copy",
                "squeeze",
                "map",
                "replace",
                "apply",
                "values",
                "flatten",
                "to_frame",
                "fillna",
                "dropna",
            ):
                return trace_column(nbm, func.value, before, depth + 1)
        if (
            nbm.aliases.resolve(func)
            in ("numpy.ravel", "numpy.array", "numpy.asarray", "numpy.log1p", "numpy.log")
            and node.args
        ):
            return trace_column(nbm, node.args[0], before, depth + 1)
        return None
    if isinstance(node, ast.Name):
        bound = _binding(nbm, node.id, before)
        if bound is None:
            return None
        if bound.split_index >= 0 and isinstance(bound.value, ast.Call):
            arrays = bound.value.args
            index = bound.split_index // 2
            return trace_column(nbm, arrays[index], bound.seq, depth + 1) if index < len(arrays) else None
        found = trace_column(nbm, bound.value, bound.seq, depth + 1)
        if found is not None and found.evidence is None:
            found.evidence = Evidence(
                path=nbm.path,
                cell=bound.cell,
                line=getattr(bound.value, "lineno", None),
                snippet=bound.snippet,
            )
        return found
    return None


def dropped_columns(nbm: NotebookModel, node: ast.AST | None, before: int, depth: int = 0) -> list[Candidate]:
    """Columns dropped to build the feature matrix: ``df.drop(columns=["y"])``, ``drop("y", axis=1)``."""
    if node is None or depth > 12:
        return []
    if isinstance(node, ast.Name):
        bound = _binding(nbm, node.id, before)
        if bound is None:
            return []
        value = bound.value
        if bound.split_index >= 0 and isinstance(value, ast.Call):
            index = bound.split_index // 2
            value = value.args[index] if index < len(value.args) else None
        found = dropped_columns(nbm, value, bound.seq, depth + 1)
        for cand in found:
            if cand.evidence is None:
                cand.evidence = Evidence(
                    path=nbm.path,
                    cell=bound.cell,
                    line=getattr(bound.value, "lineno", None),
                    snippet=bound.snippet,
                )
        return found
    if isinstance(node, ast.Attribute) and node.attr == "values":
        return dropped_columns(nbm, node.value, before, depth + 1)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr != "drop":
            return dropped_columns(nbm, node.func.value, before, depth + 1)
        keywords = {k.arg: k.value for k in node.keywords}
        target = keywords.get("columns")
        if target is None and node.args:
            axis = keywords.get("axis", node.args[1] if len(node.args) > 1 else None)
            if isinstance(axis, ast.Constant) and axis.value in (1, "columns"):
                target = node.args[0]
        if target is None:
            return []
        items = target.elts if isinstance(target, ast.List | ast.Tuple) else [target]
        names = [const_str(i, nbm.env) for i in items]
        frame = dotted(node.func.value)
        return [Candidate(n, "", None, frame) for n in names if n is not None]
    return []


def target_candidates(nbm: NotebookModel, fit: Fit | None) -> list[Candidate]:
    out: list[Candidate] = []
    if fit is not None:
        cell = fit.fit.evidence.cell
        if fit.formula_target:
            out.append(
                Candidate(
                    fit.formula_target,
                    f"left-hand side of the formula (cell {cell})",
                    fit.fit.evidence,
                    dotted(fit.features_node) if fit.features_node is not None else "",
                )
            )
        found = trace_column(nbm, fit.target_node, fit.seq)
        if found is not None:
            if found.evidence is None:
                found.evidence = fit.fit.evidence
                found.how = f"the fit's target is {fit.fit.target_variable} (cell {cell})"
            else:
                found.how = (
                    f"the fit's target {fit.fit.target_variable} is {found.frame or 'the data'}"
                    f"[{found.column!r}], cell {found.evidence.cell}"
                )
            out.append(found)
        if not out:
            for cand in dropped_columns(nbm, fit.features_node, fit.seq):
                where = f" (cell {cand.evidence.cell})" if cand.evidence else ""
                cand.how = f"dropped from the features {fit.fit.features_variable}{where}"
                out.append(cand)
    if not out:
        for name in nbm.bindings:
            if _Y_NAME.match(name):
                found = trace_column(nbm, ast.Name(id=name), 1 << 60)
                if found is not None:
                    where = f", cell {found.evidence.cell}" if found.evidence else ""
                    found.how = f"{name} = {found.frame or 'data'}[{found.column!r}]{where}"
                    out.append(found)
    return out


def choose_target(
    header: list[str] | None, override: str | None, nbm: NotebookModel | None, fit: Fit | None,
    data_path: str | None,
) -> tuple[Choice | None, list[Finding], tuple[str, ...]]:
    """The target column, findings, and the other outputs of a multi-output fit; ``header`` is the data's
    columns as the project reads them (None: unread)."""
    findings: list[Finding] = []
    if override:
        reason = "given with --target"
        if header is not None and override not in header:
            findings.append(_not_in_data(override, data_path or "", header, None))
            reason += f"; not a column of {data_path}"
        return Choice(value=override, reason=reason, flag="--target"), findings, ()
    candidates = target_candidates(nbm, fit) if nbm is not None else []
    if header is not None and len(candidates) > 1:
        candidates.sort(key=lambda c: c.column not in header)
    if not candidates:
        if header is None:
            return None, findings, ()
        lowered = {h.lower(): h for h in header}
        name = next((lowered[n] for n in TARGET_NAMES if n in lowered), None)
        if name is None:  # prefixes and suffixes: is_fraud, defaulted, churned, has_churned, target_class
            name = next((h for h in header if _TARGET_LIKE.search(h.lower())), None)
        if name is None and len(header) > 1:
            last = header[-1]
            findings.append(Finding(
                code="target-guessed", severity=Severity.WARNING, evidence=Evidence(path=data_path or ""),
                message=f"no code or column name says which column is the target; took the last column "
                        f"{last!r} of {data_path}: confirm it or rerun with --target COLUMN",
            ))
            return Choice(value=last, reason=f"last column of {data_path} (a guess)", flag="--target",
                          candidates=tuple(header)), findings, ()
        if name is None:
            return None, findings, ()
        return Choice(
            value=name,
            reason=f"column name (a column of {data_path} named like a target)",
            flag="--target",
            candidates=(name,),
        ), findings, ()
    best = candidates[0]
    reason = best.how
    if best.others:
        findings.append(Finding(
            code="multi-output-target", severity=Severity.WARNING, evidence=best.evidence,
            message=f"the model predicts several columns ({', '.join((best.column, *best.others))}); the project "
                    f"serves one: {best.column!r}. Pass --target COLUMN for another; train --baseline works, the "
                    "notebook's multi-output model needs a wrapper that predicts one column",
        ))
    if header is not None:
        if best.column in header:
            reason += f"; found in the header of {data_path}"
        elif nbm is not None and best.column in nbm.created_columns:
            made = nbm.created_columns[best.column]
            reason += f"; created in the notebook (cell {made.cell}), not a column of {data_path}"
        else:
            reason += f"; NOT a column of {data_path}"
            findings.append(_not_in_data(best.column, data_path or "", header, best.evidence))
    return Choice(
        value=best.column,
        reason=reason,
        flag="--target",
        candidates=tuple(dict.fromkeys([c.column for c in candidates] + list(best.others))),
        evidence=best.evidence,
    ), findings, best.others


def _not_in_data(column: str, data_path: str, header: list[str], evidence: Evidence | None) -> Finding:
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    return Finding(
        code="target-not-in-data",
        severity=Severity.WARNING,
        evidence=evidence or Evidence(path=data_path),
        message=f"target column {column!r} is not in the header of {data_path} ({shown}); pass --target",
    )


# -- data -----------------------------------------------------------------------------------------------
