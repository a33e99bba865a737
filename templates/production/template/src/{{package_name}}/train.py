"""`train`: the candidates on one held-out split, logged to MLflow, the better one registered as challenger.

1. Read the data file with the project's reader (the notebook's own read options).
2. Run the notebook's code in its sandbox, cell by cell (notebook.py), and take its fitted estimator
   with the frame and target it was fitted on; re-fit a clone on an 80% split and score it on the rest.
   Or, with `--from-file`, take a committed model file as it is (candidates.py).
3. Train the baseline on the same rows and split, and keep the notebook's model only if it is strictly
   better on the primary metric.
4. Log both, and register the chosen one with its request schema (schema.py): the frame it was fitted
   on, dtype by dtype, is what the service will ask for and cast to.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import settings as S
from .candidates import UNSUPPORTED_FRAMEWORKS, Candidate, baseline_candidate, file_candidate, notebook_candidate
from .errors import ProjectError
from .evaluate import comparison_table, score_of

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    candidates: list[Candidate]
    chosen: Candidate
    version: str | None
    run_ids: dict[str, str] = field(default_factory=dict)
    table: str = ""


class _Budget:
    """The --max-minutes budget, shared by the notebook run and the re-fit that follows it."""

    def __init__(self, minutes: float | None) -> None:
        self.end = time.monotonic() + minutes * 60 if minutes else None
        self.minutes = minutes

    def left(self) -> float | None:
        return None if self.end is None else max(self.end - time.monotonic(), 0.001)

    @contextlib.contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        from .notebook import _deadline, _Timeout

        try:
            with _deadline(self.left()):
                yield
        except _Timeout:
            raise ProjectError(f"train stopped after {self.minutes:g} minute(s) while {what}",
                               "raise --max-minutes, or make the model cheaper to fit in the module",
                               exit_code=3) from None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _repo_modules(root: Path) -> list[str]:
    """Modules of the repository itself (not this package, not installed ones) a loaded model file imported."""
    import sys

    inside, own = str(root.resolve()) + "/", str((root / "src" / S.PACKAGE).resolve()) + "/"
    return sorted(name for name, module in list(sys.modules.items())
                  if str(getattr(module, "__file__", "") or "").startswith(inside)
                  and not str(module.__file__).startswith(own) and "site-packages" not in str(module.__file__))


def _notebook_dir() -> str:
    return str(Path(S.NOTEBOOK_PATH).parent.as_posix()) if S.NOTEBOOK_PATH else ""


def train(settings: S.Settings | None = None, *, baseline_only: bool = False, sample: int | None = None,
          register: bool = True, from_file: str | None = None, max_minutes: float | None = None,
          echo: Callable[[str], None] = lambda text: None, progress=None, show_output: bool = False,
          keep_going: bool = False) -> TrainResult:
    """Train the candidates, log them to MLflow, register the better one as `challenger`."""
    from .tables import read_table

    settings = settings or S.Settings.load()
    raw = read_table(settings.data_path, S.READ_OPTIONS)
    if sample and len(raw) > sample:
        raw = raw.sample(n=sample, random_state=S.SEED)
    candidates: list[Candidate] = []
    positions = aligned = None
    by_value: list[str] = []
    budget = _Budget(max_minutes)
    if from_file:
        candidates.append(file_candidate(settings.root, settings.root / from_file, raw))
        by_value = _repo_modules(settings.root)
    elif baseline_only:
        pass
    elif not S.MODEL_VARIABLE:
        echo("no notebook model (model_variable is empty): training the baseline only")
    elif not settings.notebook_module_path.is_file():
        echo(f"notebook module {settings.notebook_module_path.name} is missing: training the baseline only")
    else:
        module_rel = _rel(settings.notebook_module_path, settings.root)
        if S.MODEL_FRAMEWORK in UNSUPPORTED_FRAMEWORKS:
            from .candidates import unsupported_message

            raise ProjectError(unsupported_message(S.MODEL_FRAMEWORK, module_rel), exit_code=2)
        from .notebook import sandbox

        with sandbox(settings.root, _notebook_dir()) as box:
            echo(f"running {module_rel} in a copy of the project ({box.files} files), in its notebook's folder")
            namespace = box.run(settings.notebook_module_path, max_seconds=budget.left(), progress=progress,
                                show_output=show_output, limit_minutes=max_minutes, keep_going=keep_going)
            for failure in box.failed:
                echo(f"skipped a failing cell (--keep-going): {failure}")
            with box.inside():
                try:
                    nb, positions, aligned = notebook_candidate(namespace, raw, module_rel, budget)
                except ProjectError as exc:
                    if box.failed:  # the cause is likely a cell that was skipped
                        exc.hint = f"{len(box.failed)} cell(s) failed and were skipped, the first: {box.failed[0]}"
                    raise
            candidates.append(nb)
            by_value = box.local_modules
    if candidates and aligned is not None:
        base = baseline_candidate(aligned, candidates[0].y_all, positions)
    else:
        base = baseline_candidate(raw)
    candidates.append(base)
    chosen = candidates[0]
    # The baseline predicts the data's raw column when it could not use the notebook's rows and the notebook
    # derives its target (rescaled, cleaned, encoded): their metrics are then not comparable.
    comparable = aligned is not None or S.TARGET_SOURCE == S.TARGET
    if len(candidates) == 2 and comparable and score_of(base.metrics) >= score_of(candidates[0].metrics):
        chosen = base
    table = comparison_table(candidates)
    echo(table)
    for cand in candidates:
        if cand.note:
            echo(f"{cand.kind}: {cand.note}")
    if len(candidates) == 2:
        first = candidates[0].kind
        if not comparable:
            echo(f"the baseline predicts `{S.TARGET_SOURCE}` as the data has it, the {first} model `{S.TARGET}` as "
                 f"the notebook derives it: their {S.PRIMARY_METRIC} do not compare, the {first} model is registered")
        else:
            echo(f"{S.PRIMARY_METRIC}: the simpler baseline is at least as good as the {first} model" if chosen is base
                 else f"{S.PRIMARY_METRIC}: the {first} model beats the baseline")
    if not register:
        return TrainResult(candidates, chosen, None, {}, table)
    from . import registry

    version, run_ids = registry.log_and_register(settings, candidates, chosen, by_value=by_value,
                                                 baseline_comparable=comparable)
    echo(f"registered {settings.model_name} version {version} ({chosen.kind}) with alias `challenger`")
    echo(f"next: python -m {S.PACKAGE} promote")
    return TrainResult(candidates, chosen, version, run_ids, table)
