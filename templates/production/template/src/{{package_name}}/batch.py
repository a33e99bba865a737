"""`predict INPUT [OUTPUT]`: score a data file in batch with the champion (read like the training data).

The pandas engine: the whole file in memory. Rows are checked as the service checks a request
(scoring.py); the valid ones are scored and written to OUTPUT with `prediction` (and `probability`
for a binary classifier), the others to the rejects file with the rule, column and message. The
Spark engine (spark_scoring.py, `--engine spark`) gives the same rows and the same rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import settings as S
from .errors import ProjectError


@dataclass(frozen=True)
class Result:
    output: str
    rows: int
    model: str  # "name vN"
    rejects: str
    rejected: int


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.predictions{path.suffix if path.suffix in ('.csv', '.parquet') else '.csv'}")


def default_rejects(output: str) -> str:
    """``<output>.rejects<suffix>`` next to the output (``scored.csv`` -> ``scored.rejects.csv``)."""
    path = Path(output)
    suffix = path.suffix if path.suffix.lower() in (".csv", ".parquet", ".pq") else ""
    return str(path.with_name(f"{path.stem if suffix else path.name}.rejects{suffix}"))


def run(path: str, output: str | None = None, rejects: str | None = None) -> Result:
    """Score ``path``; raises ProjectError (a file it cannot read, columns that do not fit, no model)."""
    from . import datasets, registry, scoring

    settings = S.Settings.load()
    src = Path(path)
    options = datasets.options_for(src) if src.is_file() else dict(S.READ_OPTIONS)
    df = datasets.read(src)
    bundle = registry.load_bundle(settings)
    checker = scoring.Checker(bundle.schema, scoring.load_contract(settings), options)
    missing = checker.missing_columns(df.columns)
    if missing:
        raise ProjectError(f"the input does not fit the model's columns: input is missing column(s): "
                           f"{', '.join(missing)}", "score a file with the training data's columns")
    valid, records, rejected = checker.split(df)
    preds, proba = scoring.predict(bundle, bundle.schema.frame(records))
    out = valid.copy()
    out["prediction"] = preds
    if proba is not None:
        out["probability"] = proba
    dest = Path(output) if output else default_output(src)
    reject_dest = Path(rejects) if rejects else Path(default_rejects(str(dest)))
    if reject_dest.resolve() == dest.resolve():
        raise ProjectError(f"the rejects would overwrite the output {dest}", "give --rejects another path",
                           exit_code=2)
    write(out, dest)
    write(rejected, reject_dest)
    return Result(str(dest), len(out), f"{bundle.name} v{bundle.version}", str(reject_dest), len(rejected))


def write(df, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(dest, index=False)
    else:
        df.to_csv(dest, index=False)


def exit_code(result: Result, fail_on_rejects: bool) -> int:
    """0 when rows were scored (rejects or not); 1 with rejects under --fail-on-rejects, or when every row was."""
    if result.rejected and (fail_on_rejects or result.rows == 0):
        return 1
    return 0
