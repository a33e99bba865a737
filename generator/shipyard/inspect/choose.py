"""Decisions among candidates: training notebook, model, data file, target column and task.

Each decision is a :class:`~shipyard.facts.Choice` with the reason and the flag that overrides it.
"""

from __future__ import annotations

import re

from ..facts import Choice, DataRef
from ._walk import RepoFiles, data_format, natural_key
from .data import DataScan
from .estimators import TIME_SERIES
from .model import Fit, NotebookModel
from .target import choose_target, target_candidates

__all__ = [
    "choose_data",
    "choose_model",
    "choose_target",
    "choose_task",
    "choose_training_notebook",
    "target_candidates",
]

_TRAINING_NAME = re.compile(r"(train|model|fit|final|pipeline|predict|classif|regress|forecast)", re.I)
_EXPLORING_NAME = re.compile(
    r"(eda|explor|analy|visuali|clean|prep|scratch|untitled|draft|sandbox|playground)", re.I
)


def _name_score(path: str) -> int:
    name = path.rsplit("/", 1)[-1]
    if _TRAINING_NAME.search(name):
        return 1
    return -1 if _EXPLORING_NAME.search(name) else 0


def choose_training_notebook(models: list[NotebookModel], override: str | None) -> Choice | None:
    with_fits = [m for m in models if m.fits]
    candidates = tuple(m.path for m in with_fits)
    if override:
        return Choice(
            value=override, reason="given with --notebook", flag="--notebook", candidates=candidates
        )
    if not with_fits:
        return None
    order = {m.path: i for i, m in enumerate(sorted(models, key=lambda m: natural_key(m.path)))}
    best = max(with_fits, key=lambda m: (_name_score(m.path), len(m.fits), order[m.path]))
    if len(with_fits) == 1:
        why = "the only notebook that fits a model"
    else:
        parts = []
        if _name_score(best.path) > 0:
            parts.append("its name suggests training")
        parts.append(f"{len(best.fits)} model fit(s)")
        if (
            sum(
                1
                for m in with_fits
                if len(m.fits) == len(best.fits) and _name_score(m.path) == _name_score(best.path)
            )
            > 1
        ):
            parts.append("the latest in the series")
        why = ", ".join(parts) + f"; {len(with_fits)} notebooks fit models"
    last = best.fits[-1].fit.evidence
    return Choice(value=best.path, reason=why, flag="--notebook", candidates=candidates, evidence=last)


def choose_model(nbm: NotebookModel, saved: tuple[str, str, int] | None = None) -> tuple[Fit | None, Choice | None]:
    """The notebook's model: the one it saves to a committed file (``saved`` = variable, path, cell),
    else the last estimator it fits at the top level."""
    if not nbm.fits:
        return None, None
    usable = [f for f in nbm.fits if f.top_level and f.fit.variable] or nbm.fits
    kept = [f for f in usable if saved and f.fit.variable == saved[0]]
    # A forecaster (Prophet, ARIMA) has no feature matrix to serve: an estimator fitted on a table, when the
    # notebook has one too, is the model the project can train and serve.
    tabular = [f for f in usable if not TIME_SERIES.match(f.fit.class_name) and f.fit.framework != "prophet"]
    skipped = bool(tabular) and not kept and len(tabular) < len(usable) and usable[-1] not in tabular
    chosen = (kept or (tabular if skipped else usable))[-1]
    fit = chosen.fit
    if kept and saved:
        reason = f"the notebook saves it to {saved[1]} (cell {saved[2]}), fitted in cell {fit.evidence.cell}"
    elif skipped:
        last = usable[-1].fit
        reason = (f"last estimator fitted on a table in {nbm.path}, cell {fit.evidence.cell} (the later "
                  f"{last.class_name or last.variable} is a time-series model, which the service cannot serve)")
    else:
        reason = f"last estimator fitted in {nbm.path}, cell {fit.evidence.cell}"
    if not chosen.top_level:
        reason += " (inside a function: the variable may not exist at module level)"
    labels = []
    for other in nbm.fits:
        kind = other.fit.class_name or "unknown class"
        label = f"{other.fit.variable or '?'} ({kind}, cell {other.fit.evidence.cell})"
        if label not in labels:
            labels.append(label)
    if len(labels) > 1:
        reason += f"; {len(labels)} candidates: " + ", ".join(labels[:6])
    return chosen, Choice(
        value=fit.variable, reason=reason, flag="", candidates=tuple(labels), evidence=fit.evidence
    )


# -- target ---------------------------------------------------------------------------------------------


def _origin(nbm: NotebookModel | None, variable: str) -> str:
    if nbm is None:
        return variable
    seen = set()
    while variable in nbm.frames and nbm.frames[variable] != variable and variable not in seen:
        seen.add(variable)
        variable = nbm.frames[variable]
    return variable


def _readable(ref: DataRef) -> bool:
    """A read the project can repeat: a pandas reader call, or a data file by its suffix."""
    return bool(ref.resolved) and bool(ref.format or data_format(ref.resolved or ""))


def choose_data(
    files: RepoFiles,
    scan: DataScan,
    override: str | None,
    training: str | None,
    nbm: NotebookModel | None,
    frame: str,
) -> tuple[Choice | None, DataRef | None]:
    """The training data and the read call it comes from (None when it was not read by code)."""
    if override:
        given = next((ref for path, ref in scan.refs if path == training and ref.resolved == override), None)
        return Choice(value=override, reason="given with --data", flag="--data"), given
    chained_paths = {ref.resolved for _, ref in scan.refs if id(ref) in scan.chained and ref.resolved}
    # What the training notebook reads is its data, even when another notebook of a chain wrote it:
    # a committed intermediate file (X_train.csv, a cleaned CSV) is what its model is fitted on.
    reads: list[DataRef] = [ref for path, ref in scan.refs if path == training and _readable(ref)]
    if reads:
        want = _origin(nbm, frame) if frame else ""
        linked = [r for r in reads if want and _origin(nbm, scan.variables.get(id(r), "")) == want]
        trainy = [r for r in reads if re.search(r"train", r.resolved or "", re.I)]
        ref, why = (
            (linked[0], f"the frame {want} the target comes from")
            if linked
            else (
                (trainy[0], "its name says train")
                if trainy and len(reads) > 1
                else (reads[0], "the first data it reads")
            )
        )
        where = f"cell {ref.evidence.cell}"
        reason = f"read by {training} ({where}, {ref.call})"
        if len({r.resolved for r in reads}) > 1:
            reason += f"; chosen as {why}"
        if id(ref) in scan.chained:
            reason += "; another notebook writes it, the committed copy is used"
        return Choice(
            value=ref.resolved or "",
            reason=reason,
            flag="--data",
            candidates=tuple(dict.fromkeys(r.resolved or "" for r in reads)),
            evidence=ref.evidence,
        ), ref
    if training is None:
        counts: dict[str, list[DataRef]] = {}
        for _path, ref in scan.refs:
            if _readable(ref) and id(ref) not in scan.chained:
                counts.setdefault(ref.resolved or "", []).append(ref)
        if counts:
            best = max(counts, key=lambda p: (len(counts[p]), files.sizes.get(p, 0)))
            ref = counts[best][0]
            readers = sorted({r.evidence.path for r in counts[best]}, key=natural_key)
            return Choice(
                value=best,
                reason=f"read by {', '.join(readers[:3])} (no model fit found)",
                flag="--data",
                candidates=tuple(counts),
                evidence=ref.evidence,
            ), ref
    pool = [p for p in files.data_files if p not in chained_paths]
    csvs = [p for p in pool if data_format(p) in ("csv", "tsv")]
    choice_pool = csvs or pool
    if not choice_pool:
        return None, None
    largest = max(choice_pool, key=lambda p: files.sizes[p])
    kind = "CSV" if csvs else "data file"
    why = "no data read by the training notebook resolved" if training else "no training notebook"
    return Choice(
        value=largest,
        reason=f"largest {kind} in the repository ({why})",
        flag="--data",
        candidates=tuple(sorted(choice_pool, key=lambda p: -files.sizes[p])[:10]),
    ), None


def choose_task(fit: Fit | None, values: list[object] | None) -> str:
    """The fit's task when its class says it, else from the target's values (``values``, as read)."""
    if fit is not None and fit.fit.task != "unknown":
        return fit.fit.task
    if values:
        return guess_task(values)
    return "unknown"


def guess_task(values: list[object]) -> str:
    """classification when values are strings/booleans or few distinct integers, else regression."""
    import math

    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return "unknown"
    distinct = set(present)
    numbers: list[float] = []
    for value in distinct:
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                numbers.append(float(value))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return "classification"
            if isinstance(value, bool):
                return "classification"
            continue
        numbers.append(float(value))
    if all(n.is_integer() for n in numbers) and len(distinct) <= 10:
        return "classification"
    return "regression"
