"""`predict FILE`: score a data file in batch with the champion (read like the training data)."""

from __future__ import annotations

from pathlib import Path

from . import settings as S


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.predictions{path.suffix if path.suffix in ('.csv', '.parquet') else '.csv'}")


def run(path: str, output: str | None = None) -> tuple[Path, int, str]:
    """Score ``path``; returns (output file, rows, "name vN"). Raises ProjectError."""
    from . import datasets, registry

    settings = S.Settings.load()
    src = Path(path)
    df = datasets.read(src)
    bundle = registry.load_bundle(settings)
    preds, proba = bundle.predict(bundle.frame_from_df(df))
    out = df.copy()
    out["prediction"] = preds
    if proba is not None and proba.shape[1] == 2:
        out["probability"] = proba[:, 1]
    dest = Path(output) if output else default_output(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.suffix.lower() in (".parquet", ".pq"):
        out.to_parquet(dest, index=False)
    else:
        out.to_csv(dest, index=False)
    return dest, len(out), f"{bundle.name} v{bundle.version}"
