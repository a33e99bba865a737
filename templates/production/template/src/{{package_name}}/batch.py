"""`predict FILE`: score a CSV or Parquet file with the champion."""

from __future__ import annotations

import sys
from pathlib import Path

from . import settings as S


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.predictions{path.suffix if path.suffix in ('.csv', '.parquet') else '.csv'}")


def main(path: str, output: str | None = None) -> int:
    from . import registry
    from .pipeline import TrainError, load_table

    settings = S.Settings.load()
    src = Path(path)
    try:
        df = load_table(src)
        bundle = registry.load_bundle(settings)
        frame = bundle.frame_from_df(df)
    except (TrainError, registry.RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    preds, proba = bundle.predict(frame)
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
    print(f"scored {len(out)} row(s) with {bundle.name} v{bundle.version}: {dest}")
    return 0
